"""The rule set as validated data: categories, severity, risk and common-scope rules."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Self

from pydantic import (
    BaseModel,
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
    annual_spend_above: Annotated[float, Field(ge=0)] | None = None


class SeverityRules(_Rules):
    default: Severity = Severity.GREEN
    raise_for: SeverityRaise = SeverityRaise()
    rules: tuple[SeverityRule, ...] = ()


class RiskRule(PhraseSet):
    id: RuleId


class CommonRule(_Rules):
    """Scope common when `threshold` distinct complaints share a fingerprint within `window`."""

    threshold: Annotated[int, Field(ge=2, le=100_000)] = 5
    window: timedelta = timedelta(hours=24)

    @field_validator("window", mode="before")
    @classmethod
    def _short_duration(cls, value: object) -> object:
        """Accept "24h", "7d", "30m" besides ISO-8601 durations and seconds."""
        if isinstance(value, str) and (found := _DURATION.match(value)):
            return timedelta(seconds=float(found.group(1)) * _UNIT_SECONDS[found.group(2)])
        return value

    @field_validator("window")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("window must be a positive duration")
        return value


class ScopeRules(_Rules):
    risk: tuple[RiskRule, ...] = ()
    common: CommonRule = CommonRule()


class RuleSet(_Rules):
    """Everything the classifier decides by; categories are tried in file order."""

    version: int = 1
    categories: tuple[Category, ...] = Field(min_length=1)
    fallback_category: RuleId = "other"
    severity: SeverityRules = SeverityRules()
    scope: ScopeRules = ScopeRules()

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


def _no_duplicates(values: list[str], *, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)
