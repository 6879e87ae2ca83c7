"""The rules in force: reloaded on SIGHUP or file change; a bad new file keeps the old rules."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from complaints_classifier.domain.content import ContentClassifier
from complaints_classifier.domain.rules import RuleSet
from complaints_classifier.rules_file import RulesFileError, load_rules

log = logging.getLogger(__name__)

Outcome = Literal["applied", "unchanged", "invalid"]


class CurrentRules(Protocol):
    """What the handlers read for each record: the rule set and its compiled classifier."""

    @property
    def rules(self) -> RuleSet: ...

    @property
    def classifier(self) -> ContentClassifier: ...


@dataclass
class StaticRules:
    """Rules that never change (tests, tools)."""

    rules: RuleSet
    classifier: ContentClassifier = field(init=False)

    def __post_init__(self) -> None:
        self.classifier = ContentClassifier(self.rules)


class ReloadMetrics(Protocol):
    def rule_reloaded(self, outcome: Outcome, *, categories: int) -> None: ...


class LiveRules:
    """Swaps in a valid new rule set as a whole; records in flight see the old or the new one."""

    def __init__(self, path: Path, rules: RuleSet, *, metrics: ReloadMetrics) -> None:
        self.path = path
        self.rules = rules
        self.classifier = ContentClassifier(rules)
        self._metrics = metrics
        self._stamp = self._file_stamp()

    def poll(self) -> Outcome | None:
        """Reload when the file's mtime or size changed since the last look; else None."""
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return None
        return self.reload(trigger="file change")

    def reload(self, *, trigger: str) -> Outcome:
        self._stamp = self._file_stamp()  # a bad file is reported once, not on every poll
        try:
            rules = load_rules(self.path)
        except RulesFileError as exc:
            log.error(
                "rules reload failed; keeping the rules in force",
                extra={"trigger": trigger, "file": str(self.path), "error": str(exc)},
            )
            return self._done("invalid")
        if rules == self.rules:
            log.info("rules reload: no change", extra={"trigger": trigger})
            return self._done("unchanged")
        classifier = ContentClassifier(rules)  # compile before swapping
        self.rules, self.classifier = rules, classifier
        log.info(
            "rules reloaded",
            extra={
                "trigger": trigger,
                "file": str(self.path),
                "categories": len(rules.categories),
            },
        )
        return self._done("applied")

    def _done(self, outcome: Outcome) -> Outcome:
        self._metrics.rule_reloaded(outcome, categories=len(self.rules.categories))
        return outcome

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size
