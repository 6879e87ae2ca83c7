"""The rule set as validated data: categories, severity, risk and common-scope rules."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from complaints_schemas.events import CustomerTier, Severity

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _short_duration(value: object) -> object:
    """Accept "24h", "7d", "30m" besides ISO-8601 durations and seconds."""
    if isinstance(value, str) and (found := _DURATION.match(value)):
        return timedelta(seconds=float(found.group(1)) * _UNIT_SECONDS[found.group(2)])
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be a positive duration")
    return value


Duration = Annotated[timedelta, BeforeValidator(_short_duration), AfterValidator(_positive)]


class _Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PhraseSet(_Rules):
    """Chinese and English phrases (matched after normalisation) and optional regex patterns."""

    zh: tuple[Phrase, ...] = ()
    en: tuple[Phrase, ...] = ()
    patterns: tuple[Phrase, ...] = ()

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a valid regex: {exc}") from exc
        return patterns

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not (self.zh or self.en or self.patterns):
            raise ValueError("needs at least one zh or en phrase or a pattern")
        return self

    def phrases(self) -> tuple[str, ...]:
        return self.zh + self.en


class Problem(PhraseSet):
    """One kind of problem in a category; its key is the fingerprint's normalised key phrase."""

    key: RuleId


class Category(_Rules):
    id: RuleId
    department: RuleId
    label: str | None = None
    problems: tuple[Problem, ...] = ()

    @model_validator(mode="after")
    def _unique_problems(self) -> Self:
        _no_duplicates([p.key for p in self.problems], what=f"problem key in category {self.id}")
        return self


class SeverityRule(PhraseSet):
    id: RuleId
    level: Severity


class SeverityRaise(_Rules):
    """Raise the severity one level (green -> yellow -> red) for these customers."""

    tiers: tuple[CustomerTier, ...] = (CustomerTier.VIP,)
    # A customer spending this much a year (or more) is treated like one of `tiers`.
    annual_spend_above: Annotated[float, Field(ge=0)] | None = None
    # The labelling policy's default: a VIP complaint with money, safety or a deadline at
    # stake is red (a model signal); any other goes up one level. False: always one level.
    red_when_at_stake: bool = True
    # All raises together (customer, repeat, emotion) lift a complaint at most this many levels.
    max_levels: Annotated[int, Field(ge=0, le=2)] = 1


class RepeatRule(_Rules):
    """Raise one level when the same customer complained before within `within`."""

    within: Duration | None = timedelta(days=7)


class EmotionRule(_Rules):
    """Negative-emotion lexicon: score = 2 per strong term + 1 per mild term (distinct)."""

    threshold: Annotated[int, Field(ge=1, le=100)] = 4
    strong: PhraseSet | None = None
    mild: PhraseSet | None = None


class SeverityRules(_Rules):
    default: Severity = Severity.GREEN
    raise_for: SeverityRaise = SeverityRaise()
    repeat: RepeatRule = RepeatRule()
    emotion: EmotionRule | None = None
    rules: tuple[SeverityRule, ...] = ()


class RiskRule(PhraseSet):
    id: RuleId


class CommonRule(_Rules):
    """Scope common when `threshold` distinct complaints share a fingerprint within `window`."""

    threshold: Annotated[int, Field(ge=2, le=100_000)] = 5
    window: Duration = timedelta(hours=24)
    # A cluster that grows to this size is a risk (mass complaint); None: never.
    risk_threshold: Annotated[int, Field(ge=2, le=1_000_000)] | None = None


class SurgeRule(_Rules):
    """Risk when a fingerprint's count in the common window is `factor` x its baseline.

    Baseline: the mean count per common window over the `baseline_window` before the current
    common window (7d and 24h: the complaints of the 6 days before, divided by 6). A surge also
    needs at least `min_count` complaints in the common window, so 2 against 0 is no surge.
    """

    baseline_window: Duration = timedelta(days=7)
    factor: Annotated[float, Field(gt=1, le=1000)] = 3.0
    min_count: Annotated[int, Field(ge=2, le=1_000_000)] = 8


class ScopeRules(_Rules):
    risk: tuple[RiskRule, ...] = ()
    common: CommonRule = CommonRule()
    surge: SurgeRule | None = None
    # A red complaint from a customer of these tiers is a risk at once.
    risk_when_red_for_tiers: tuple[CustomerTier, ...] = ()

    @model_validator(mode="after")
    def _surge_looks_back_further(self) -> Self:
        if self.surge is not None and self.surge.baseline_window <= self.common.window:
            raise ValueError("scope.surge.baseline_window must be longer than scope.common.window")
        return self


class CorrelationRules(_Rules):
    """Omni-channel: the same customer, same fingerprint, another channel within `within`."""

    duplicate_within: Duration | None = timedelta(hours=24)


class ModelRef(_Rules):
    """The learned model: its file (relative to the rules file) and the confidence floors
    below which a complaint needs a person (needs_triage)."""

    file: str
    category_floor: Annotated[float, Field(ge=0, le=1)] = 0.4
    severity_floor: Annotated[float, Field(ge=0, le=1)] = 0.45


class RuleSet(_Rules):
    """Everything the classifier decides by; categories are tried in file order."""

    version: int = 1
    # With a model, it decides category, severity and risk; the phrases below then serve
    # the fingerprint's key and the emotion raise, and the model's own signals the overrides.
    model: ModelRef | None = None
    categories: tuple[Category, ...] = Field(min_length=1)
    fallback_category: RuleId = "other"
    severity: SeverityRules = SeverityRules()
    scope: ScopeRules = ScopeRules()
    correlation: CorrelationRules = CorrelationRules()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [c.id for c in self.categories]
        _no_duplicates(ids, what="category id")
        if self.fallback_category not in ids:
            raise ValueError(f"fallback_category {self.fallback_category!r} is not a category")
        _no_duplicates([r.id for r in self.severity.rules], what="severity rule id")
        _no_duplicates([r.id for r in self.scope.risk], what="risk rule id")
        return self

    def category(self, category_id: str) -> Category:
        return next(c for c in self.categories if c.id == category_id)

    def history_span(self) -> timedelta:
        """How long a customer's complaints are remembered (repeat and duplicate windows)."""
        spans = [self.severity.repeat.within, self.correlation.duplicate_within]
        return max((s for s in spans if s is not None), default=timedelta(0))


def _no_duplicates(values: list[str], *, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


def human_duration(span: timedelta) -> str:
    """24h, 7d, 30m, 90s: days only beyond one day, as people write windows."""
    seconds = int(span.total_seconds())
    if seconds > 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
