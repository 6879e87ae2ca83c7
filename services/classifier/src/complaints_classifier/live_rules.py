"""The rules in force: reloaded on SIGHUP or file change; a bad new file keeps the old rules."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol

from complaints_classifier.domain.content import ContentClassifier
from complaints_classifier.domain.rules import RuleSet
from complaints_classifier.model import artifact
from complaints_classifier.model.judge import Judge, Thresholds
from complaints_classifier.rules_file import RulesFileError, load_rules

log = logging.getLogger(__name__)

Outcome = Literal["applied", "unchanged", "invalid"]


class CurrentRules(Protocol):
    """What the handlers read for each record: the rule set and its compiled classifier."""

    @property
    def rules(self) -> RuleSet: ...

    @property
    def classifier(self) -> ContentClassifier: ...


def build_classifier(rules: RuleSet, *, rules_path: Path | None) -> ContentClassifier:
    """The rules compiled, with the model they name (its file relative to the rules file)."""
    if rules.model is None:
        return ContentClassifier(rules)
    base = rules_path.parent if rules_path is not None else Path.cwd()
    path = base / rules.model.file
    try:
        model, meta = artifact.load(path)
    except artifact.ModelFileError as exc:
        raise RulesFileError(f"{rules_path}: model: {exc}") from exc
    thresholds = replace(
        Thresholds.from_meta(meta),
        category_floor=rules.model.category_floor,
        severity_floor=rules.model.severity_floor,
    )
    judge = Judge(model, thresholds)
    judge.signature(judge.judge("预热 warm-up").version)  # load jieba's dictionary now, not later
    return ContentClassifier(rules, judge)


def model_path(rules: RuleSet, rules_path: Path) -> Path | None:
    return None if rules.model is None else rules_path.parent / rules.model.file


@dataclass
class StaticRules:
    """Rules that never change (tests, tools)."""

    rules: RuleSet
    rules_path: Path | None = None
    classifier: ContentClassifier = field(init=False)

    def __post_init__(self) -> None:
        self.classifier = build_classifier(self.rules, rules_path=self.rules_path)


class ReloadMetrics(Protocol):
    def rule_reloaded(self, outcome: Outcome, *, categories: int) -> None: ...


class LiveRules:
    """Swaps in a valid new rule set as a whole; records in flight see the old or the new one."""

    def __init__(self, path: Path, rules: RuleSet, *, metrics: ReloadMetrics) -> None:
        self.path = path
        self.rules = rules
        self.classifier = build_classifier(rules, rules_path=path)
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
            classifier = build_classifier(rules, rules_path=self.path)  # compile before swapping
        except RulesFileError as exc:
            log.error(
                "rules reload failed; keeping the rules in force",
                extra={"trigger": trigger, "file": str(self.path), "error": str(exc)},
            )
            return self._done("invalid")
        if rules == self.rules and _version(classifier) == _version(self.classifier):
            log.info("rules reload: no change", extra={"trigger": trigger})
            return self._done("unchanged")
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

    def _file_stamp(self) -> tuple[tuple[int, int] | None, ...]:
        """The rules file's and the model file's mtime and size: a change of either reloads."""
        model = model_path(self.rules, self.path)
        return tuple(_stamp(p) for p in (self.path, model) if p is not None)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _version(classifier: ContentClassifier) -> str | None:
    return None if classifier.judge is None else classifier.judge.version
