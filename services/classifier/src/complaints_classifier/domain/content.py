"""What a complaint's own content decides: category, department, severity, risk, fingerprint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from complaints_classifier.domain.fingerprint import fingerprint
from complaints_classifier.domain.matching import PhraseMatcher
from complaints_classifier.domain.rules import PhraseSet, RuleSet
from complaints_classifier.domain.text import normalise
from complaints_schemas.events import ComplaintAccepted, Customer, Reason, Severity

# Key phrase of a complaint that matched no problem: its title, so unrelated "other"
# complaints do not pile up into one fingerprint.
_UNMATCHED_KEY_LENGTH = 80

_LEVELS = (Severity.GREEN, Severity.YELLOW, Severity.RED)


class ContentDecision(BaseModel):
    """The per-complaint decisions, carried to the window stage keyed by fingerprint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    complaint: ComplaintAccepted
    category: str
    department: str
    severity: Severity
    content_severity: Severity | None = None  # from the phrases alone, before any raise
    raised_levels: int = 0  # levels already added by raises (capped by raise_for.max_levels)
    emotion_score: int = 0
    risk_rule: str | None = None
    risk_phrase: str | None = None
    duplicate_of: str | None = None  # set by the customer stage (omni-channel correlation)
    fingerprint: str
    key_phrase: str
    reasons: tuple[Reason, ...]
    model_version: str | None = None
    confidence: float | None = None
    needs_triage: bool = False
    # The complaint's strongest features (id, weight 1-255): what similarity compares.
    signature: tuple[tuple[int, int], ...] = ()


def raise_one_level(severity: Severity) -> Severity:
    return _LEVELS[min(_LEVELS.index(severity) + 1, len(_LEVELS) - 1)]


@dataclass(frozen=True, slots=True)
class Raised:
    severity: Severity
    levels: int  # total levels raised so far
    reasons: tuple[Reason, ...]


def apply_raises(
    severity: Severity, *, why: list[tuple[str, str]], already: int, max_levels: int
) -> Raised:
    """One level per cause (rule id, why), at most `max_levels` in all, never above red."""
    reasons: list[Reason] = []
    levels = already
    for rule, cause in why:
        if severity is Severity.RED:
            detail = f"{cause}; already red"
        elif levels >= max_levels:
            detail = f"{cause}; not raised again (at most {max_levels} level(s) in all)"
        else:
            raised = raise_one_level(severity)
            detail = f"{cause} raises {severity} -> {raised}"
            severity, levels = raised, levels + 1
        reasons.append(Reason(decision="severity", rule=rule, detail=detail))
    return Raised(severity=severity, levels=levels, reasons=tuple(reasons))


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: str
    matcher: PhraseMatcher


def _compile(rule: str, phrases: PhraseSet) -> _Compiled:
    return _Compiled(
        rule=rule, matcher=PhraseMatcher.build(phrases=phrases.phrases(), patterns=phrases.patterns)
    )


class Judgement(Protocol):
    @property
    def category(self) -> str: ...

    @property
    def severity(self) -> Severity: ...

    @property
    def risk(self) -> bool: ...

    @property
    def needs_triage(self) -> bool: ...

    @property
    def version(self) -> str: ...

    @property
    def reasons(self) -> tuple[Reason, ...]: ...

    @property
    def at_stake(self) -> bool: ...

    @property
    def confidence(self) -> float: ...


class Judge(Protocol):
    """The learned model with its thresholds (complaints_classifier.model.judge)."""

    @property
    def version(self) -> str: ...

    def judge(self, text: str) -> Judgement: ...

    def signature(self, text: str) -> tuple[tuple[int, int], ...]: ...

    def text(self, complaint: ComplaintAccepted) -> str: ...

    @property
    def similarity_threshold(self) -> float: ...


class ContentClassifier:
    """A rule set compiled once, and the model if any; `classify` is a pure function of the
    complaint."""

    def __init__(self, rules: RuleSet, judge: Judge | None = None) -> None:
        self.rules = rules
        self.judge = judge
        # Average similarity at which a complaint joins a group about the same problem.
        self.similarity_threshold = judge.similarity_threshold if judge else 0.1
        self._problems = [
            (category, problem.key, _compile(f"category.{category.id}.{problem.key}", problem))
            for category in rules.categories
            for problem in category.problems
        ]
        self._severity = [
            (rule.level, _compile(f"severity.{rule.id}", rule)) for rule in rules.severity.rules
        ]
        self._risk = [_compile(f"scope.risk.{rule.id}", rule) for rule in rules.scope.risk]
        emotion = rules.severity.emotion
        self._emotion = (
            (2, _compile("strong", emotion.strong) if emotion and emotion.strong else None),
            (1, _compile("mild", emotion.mild) if emotion and emotion.mild else None),
        )

    def classify(self, complaint: ComplaintAccepted) -> ContentDecision:
        if self.judge is not None:
            return self._judged(complaint, self.judge)
        text = normalise(f"{complaint.title}\n{complaint.description}")
        reasons: list[Reason] = []
        category_id, key, category_reason = self._category(text, complaint)
        category = self.rules.category(category_id)
        reasons.append(category_reason)
        reasons.append(
            Reason(
                decision="department",
                rule=f"department.{category.id}",
                detail=f"department {category.department} owns category {category.id}",
            )
        )
        base = self._highest_severity_match(text)
        severity, levels, score = self._severity_of(base, text, complaint.customer, reasons)
        risk = next(((r.rule, p) for r in self._risk if (p := r.matcher.first(text))), None)
        if risk is not None:
            reasons.append(
                Reason(decision="scope", rule=risk[0], detail=f"risk phrase {risk[1]!r} matched")
            )
        return ContentDecision(
            complaint=complaint,
            category=category.id,
            department=category.department,
            severity=severity,
            content_severity=base[0] if base else self.rules.severity.default,
            raised_levels=levels,
            emotion_score=score,
            risk_rule=risk[0] if risk else None,
            risk_phrase=risk[1] if risk else None,
            fingerprint=fingerprint(
                category=category.id,
                product_id=complaint.product_id,
                region=complaint.customer.region,
                key=key,
            ),
            key_phrase=key,
            reasons=tuple(reasons),
        )

    def _judged(self, complaint: ComplaintAccepted, judge: Judge) -> ContentDecision:
        """The model decides category, severity and risk; the raises apply as with rules."""
        model_text = judge.text(complaint)
        j = judge.judge(model_text)
        known = {c.id for c in self.rules.categories}
        chosen = j.category if j.category in known else self.rules.fallback_category
        severity = j.severity
        hinted: list[Reason] = []
        hint = complaint.hint
        if hint is not None:
            source = hint.source or complaint.channel.value
            if hint.category in known and hint.category != chosen and j.needs_triage:
                hinted.append(
                    Reason(
                        decision="category",
                        rule="hint.category",
                        detail=f"{source} says {hint.category}; the model is unsure ({chosen})",
                    )
                )
                chosen = hint.category
            if hint.severity is not None and _LEVELS.index(hint.severity) > _LEVELS.index(severity):
                hinted.append(
                    Reason(
                        decision="severity",
                        rule="hint.severity",
                        detail=f"{source} says {hint.severity}: raised from {severity}",
                    )
                )
                severity = hint.severity
        category = self.rules.category(chosen)
        reasons = [
            *j.reasons,
            *hinted,
            Reason(
                decision="department",
                rule=f"department.{category.id}",
                detail=f"department {category.department} owns category {category.id}",
            ),
        ]
        why: list[tuple[str, str]] = []
        customer_why = self._raise_reason(complaint.customer)
        if customer_why is not None:
            if self.rules.severity.raise_for.red_when_at_stake and j.at_stake:
                reasons.append(
                    Reason(
                        decision="severity",
                        rule="severity.raise_for.at_stake",
                        detail=f"{customer_why} with money, safety or a deadline at stake "
                        f"raises {severity} -> red",
                    )
                )
                severity = Severity.RED
            else:
                why.append(("severity.raise_for", customer_why))
        score, terms = self.emotion(normalise(f"{complaint.title}\n{complaint.description}"))
        raised = self._raised(severity, why, score=score, terms=terms)
        reasons.extend(raised.reasons)
        return ContentDecision(
            complaint=complaint,
            category=category.id,
            department=category.department,
            severity=raised.severity,
            content_severity=j.severity,
            raised_levels=raised.levels,
            emotion_score=score,
            risk_rule=f"model.{j.version}.risk" if j.risk else None,
            risk_phrase=None,
            # Similar complaints are compared within a category and, when the channel names
            # one, a product: two products' complaints are two problems.
            fingerprint=fingerprint(
                category=category.id, product_id=complaint.product_id, region=None, key=""
            ),
            key_phrase="",
            reasons=tuple(reasons),
            model_version=j.version,
            confidence=round(j.confidence, 3),
            needs_triage=j.needs_triage,
            signature=judge.signature(model_text),
        )

    def _category(self, text: str, complaint: ComplaintAccepted) -> tuple[str, str, Reason]:
        """The category whose problems match most often; ties go to the earlier category."""
        scores: dict[str, list[tuple[str, str, str]]] = {}
        for category, key, compiled in self._problems:
            phrase = compiled.matcher.first(text)
            if phrase is not None:
                scores.setdefault(category.id, []).append((key, compiled.rule, phrase))
        if not scores:
            fallback = self.rules.fallback_category
            key = normalise(complaint.title)[:_UNMATCHED_KEY_LENGTH]
            detail = f"no category phrase matched; fallback {fallback}, key phrase from the title"
            return (
                fallback,
                key,
                Reason(decision="category", rule="category.fallback", detail=detail),
            )
        best = max(scores, key=lambda cid: len(scores[cid]))  # max keeps the first of equals
        key, rule, phrase = scores[best][0]
        others = len(scores[best]) - 1
        detail = f"matched {phrase!r}" + (f" and {others} more phrase(s)" if others else "")
        return best, key, Reason(decision="category", rule=rule, detail=detail)

    def _severity_of(
        self,
        matched: tuple[Severity, str, str] | None,
        text: str,
        customer: Customer,
        reasons: list[Reason],
    ) -> tuple[Severity, int, int]:
        """The highest matching rule's level (else the default), then customer/emotion raises."""
        if matched is None:
            severity = self.rules.severity.default
            reasons.append(
                Reason(
                    decision="severity",
                    rule="severity.default",
                    detail=f"no severity phrase matched; default {severity}",
                )
            )
        else:
            severity = matched[0]
            reasons.append(
                Reason(
                    decision="severity",
                    rule=matched[1],
                    detail=f"phrase {matched[2]!r} matched -> {severity}",
                )
            )
        why: list[tuple[str, str]] = []
        customer_why = self._raise_reason(customer)
        if customer_why is not None:
            why.append(("severity.raise_for", customer_why))
        score, terms = self.emotion(text)
        raised = self._raised(severity, why, score=score, terms=terms)
        reasons.extend(raised.reasons)
        return raised.severity, raised.levels, score

    def _raised(
        self, severity: Severity, why: list[tuple[str, str]], *, score: int, terms: tuple[str, ...]
    ) -> Raised:
        """The customer causes in `why`, the emotion raise when the score reaches the
        threshold, applied together (rules and model paths alike)."""
        emotion = self.rules.severity.emotion
        if emotion is not None and score >= emotion.threshold:
            listed = ", ".join(repr(t) for t in terms)
            why = [
                *why,
                (
                    "severity.emotion",
                    f"negative-emotion score {score} >= {emotion.threshold} ({listed})",
                ),
            ]
        return apply_raises(
            severity, why=why, already=0, max_levels=self.rules.severity.raise_for.max_levels
        )

    def emotion(self, text: str) -> tuple[int, tuple[str, ...]]:
        """Score of normalised text: 2 per distinct strong term, 1 per mild one; the terms."""
        score, terms = 0, list[str]()
        for weight, compiled in self._emotion:
            if compiled is not None:
                found = compiled.matcher.all(text)
                score += weight * len(found)
                terms.extend(found)
                for term in found:  # a strong term does not count again as a mild one
                    text = text.replace(term, "\x00")
        return score, tuple(terms)

    def _highest_severity_match(self, text: str) -> tuple[Severity, str, str] | None:
        for level in reversed(_LEVELS):
            for rule_level, compiled in self._severity:
                if rule_level is level and (phrase := compiled.matcher.first(text)):
                    return level, compiled.rule, phrase
        return None

    def _raise_reason(self, customer: Customer) -> str | None:
        rule = self.rules.severity.raise_for
        if customer.tier in rule.tiers:
            return f"customer tier {customer.tier}"
        spend = customer.annual_spend
        limit = rule.annual_spend_above
        if limit is not None and spend is not None and spend >= limit:
            return f"annual spend of {limit:g} or more"
        return None
