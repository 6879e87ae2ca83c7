"""Escalation policies: which clocks a complaint gets, their targets, warnings and chains."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from complaints_escalation.domain.calendar import CALENDAR_24X7, Calendars, WorkingCalendar
from complaints_schemas.events import CustomerTier, LifecycleAction, Scope, Severity

RESPONSE_CLOCK = "response"
CLASSIFIED_EVENT = "classified"  # a clock starting on classification runs from accepted_at

DEFAULT_RESPONSE_SLA: Mapping[Severity, timedelta] = MappingProxyType(
    {
        Severity.RED: timedelta(minutes=10),
        Severity.YELLOW: timedelta(minutes=30),
        Severity.GREEN: timedelta(hours=2),
    }
)


class Unit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    BUSINESS_HOURS = "business_hours"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True, slots=True)
class Target:
    """How long a clock may run: elapsed minutes/hours, business hours or working days (T+N)."""

    amount: float
    unit: Unit

    def __post_init__(self) -> None:
        if self.amount < 0 or (self.amount == 0 and not self.elapsed):
            raise ValueError("a target must be positive (0 minutes: breached at once)")
        if self.unit is Unit.WORKING_DAYS and self.amount != int(self.amount):
            raise ValueError("working days must be a whole number")

    @property
    def elapsed(self) -> bool:
        return self.unit in (Unit.MINUTES, Unit.HOURS)

    @classmethod
    def of(cls, duration: timedelta) -> Target:
        return cls(duration.total_seconds() / 60, Unit.MINUTES)

    def budget(self, start: datetime, calendar: WorkingCalendar) -> timedelta:
        """The clock's allowance in its own measure (elapsed, or working time in the calendar)."""
        if self.unit is Unit.MINUTES:
            return timedelta(minutes=self.amount)
        if self.unit is Unit.HOURS:
            return timedelta(hours=self.amount)
        if self.unit is Unit.BUSINESS_HOURS:
            return timedelta(hours=self.amount)
        end = calendar.add_working_days(start, int(self.amount))
        return calendar.business_between(start, end)


@dataclass(frozen=True, slots=True)
class WarningRule:
    """A warning at a share of the budget used (`percent`) or a fixed `lead` before the deadline."""

    percent: float | None = None
    lead: timedelta | None = None

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.lead is None):
            raise ValueError("a warning has either percent or lead")
        if self.percent is not None and not 0 < self.percent < 100:
            raise ValueError("a warning percent is between 0 and 100")
        if self.lead is not None and self.lead <= timedelta(0):
            raise ValueError("a warning lead must be positive")


@dataclass(frozen=True, slots=True)
class Level:
    """One step of the chain: `after` the breach, to these roles or named owners."""

    level: int
    after: timedelta
    targets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Chain:
    """Levels after a breach; the top level repeats every `repeat_every`, up to `max_repeats`
    times, or (None) until the clock stops or its alert is acknowledged."""

    levels: tuple[Level, ...]
    repeat_every: timedelta | None = None
    max_repeats: int | None = None

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("a chain needs at least one level")
        if [lv.level for lv in self.levels] != list(range(1, len(self.levels) + 1)):
            raise ValueError("chain levels must be numbered 1, 2, ... in order")
        if any(b.after < a.after for a, b in zip(self.levels, self.levels[1:], strict=False)):
            raise ValueError("chain levels must not come before the previous one")
        if self.levels[0].after < timedelta(0):
            raise ValueError("a level's delay after the breach must not be negative")
        if self.repeat_every is not None and self.repeat_every <= timedelta(0):
            raise ValueError("repeat_every must be positive")
        if self.max_repeats is not None and self.max_repeats < 0:
            raise ValueError("max_repeats must not be negative")

    @classmethod
    def paced(cls, *, interval: timedelta, max_level: int, roles: tuple[str, ...] = ()) -> Chain:
        """Level 1 at the breach, one level more every interval (the foundation's chain)."""
        if interval <= timedelta(0):
            raise ValueError("level_interval must be positive")
        if max_level < 1:
            raise ValueError("max_level must be at least 1")
        return cls(
            levels=tuple(
                Level(
                    level=n,
                    after=(n - 1) * interval,
                    targets=(roles[n - 1],) if n - 1 < len(roles) else (),
                )
                for n in range(1, max_level + 1)
            )
        )


@dataclass(frozen=True, slots=True)
class ClockSpec:
    """A clock as the policy defines it; frozen into the complaint's state when it starts."""

    name: str
    target: Target
    calendar: str = CALENDAR_24X7.name
    start: str = CLASSIFIED_EVENT
    stop: frozenset[LifecycleAction] = frozenset()
    pause: frozenset[LifecycleAction] = frozenset({LifecycleAction.PAUSED})
    resume: frozenset[LifecycleAction] = frozenset({LifecycleAction.RESUMED})
    restart: frozenset[LifecycleAction] = frozenset()
    warnings: tuple[WarningRule, ...] = ()
    # One escalation per cluster: its id is the cluster's, so later complaints repeat it.
    per_cluster: bool = False
    # Cluster sizes past which a per-cluster alert is sent again as an update (a new id).
    update_at: tuple[int, ...] = ()
    # Clocks of the same complaint that silence this one while they alert (risk over response).
    inhibited_by: frozenset[str] = frozenset()
    # The other way round: clocks of the same complaint this one silences while it alerts
    # (a common cluster's alert over its members' own response and resolution alerts).
    inhibits: frozenset[str] = frozenset()
    chain: Chain = field(
        default_factory=lambda: Chain.paced(interval=timedelta(minutes=10), max_level=3)
    )


@dataclass(frozen=True, slots=True)
class ClockRule:
    """A clock in a policy: a default target, optionally one per severity."""

    spec: ClockSpec
    target_by_severity: Mapping[Severity, Target] = field(default_factory=dict)

    def for_severity(self, severity: Severity) -> ClockSpec:
        target = self.target_by_severity.get(severity)
        if target is None or target == self.spec.target:
            return self.spec
        return replace(self.spec, target=target)


@dataclass(frozen=True, slots=True)
class Match:
    """Which complaints a policy applies to; an empty set matches anything."""

    severity: frozenset[Severity] = frozenset()
    scope: frozenset[Scope] = frozenset()
    category: frozenset[str] = frozenset()
    department: frozenset[str] = frozenset()
    tier: frozenset[CustomerTier] = frozenset()

    def matches(self, subject: Subject) -> bool:
        return all(
            not allowed or value in allowed
            for allowed, value in (
                (self.severity, subject.severity),
                (self.scope, subject.scope),
                (self.category, subject.category),
                (self.department, subject.department),
                (self.tier, subject.tier),
            )
        )


@dataclass(frozen=True, slots=True)
class Subject:
    """What policies match on."""

    severity: Severity
    scope: Scope
    category: str
    department: str
    tier: CustomerTier = CustomerTier.STANDARD


@dataclass(frozen=True, slots=True)
class PolicyRule:
    name: str
    match: Match
    clocks: tuple[ClockRule, ...]


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Policies in order; for each clock name the first matching policy that defines it wins."""

    rules: tuple[PolicyRule, ...]
    version: str = "1"
    calendars: Calendars = field(default_factory=Calendars)
    # Named owners per department and role, e.g. {"payments": {"team_lead": "li.wei"}}.
    owners: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # A lifecycle step for a complaint never classified within this is dead-lettered.
    unknown_complaint_grace: timedelta = timedelta(minutes=15)
    _resolved: dict[Subject, tuple[ClockSpec, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Whether any clock starts on a lifecycle event (not on classification).
    starts_on_events: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        later = any(c.spec.start != CLASSIFIED_EVENT for r in self.rules for c in r.clocks)
        object.__setattr__(self, "starts_on_events", later)

    def specs_for(self, subject: Subject) -> tuple[ClockSpec, ...]:
        """The clocks for a complaint with chain roles resolved to named owners (cached)."""
        found = self._resolved.get(subject)
        if found is None:
            found = self._resolved[subject] = tuple(
                replace(
                    spec,
                    chain=replace(
                        spec.chain,
                        levels=tuple(
                            replace(
                                lv,
                                targets=self.resolve_targets(
                                    lv.targets, department=subject.department
                                ),
                            )
                            for lv in spec.chain.levels
                        ),
                    ),
                )
                for spec in self.clocks_for(subject)
            )
        return found

    def clocks_for(self, subject: Subject) -> tuple[ClockSpec, ...]:
        chosen: dict[str, ClockSpec] = {}
        for rule in self.rules:
            if not rule.match.matches(subject):
                continue
            for clock in rule.clocks:
                chosen.setdefault(clock.spec.name, clock.for_severity(subject.severity))
        return tuple(chosen.values())

    def resolve_targets(self, targets: tuple[str, ...], *, department: str) -> tuple[str, ...]:
        """Roles become the department's named owner when one is configured."""
        names = self.owners.get(department, {})
        return tuple(names.get(t, t) for t in targets)

    def calendar(self, spec: ClockSpec, *, department: str) -> WorkingCalendar:
        if spec.target.elapsed:
            return CALENDAR_24X7
        return self.calendars.for_clock(spec.calendar, department=department)

    @classmethod
    def response_only(
        cls,
        *,
        response_sla: Mapping[Severity, timedelta] = DEFAULT_RESPONSE_SLA,
        level_interval: timedelta = timedelta(minutes=10),
        max_level: int = 3,
    ) -> EscalationPolicy:
        """The foundation's policy: one 24x7 response clock per severity, a paced chain."""
        return cls(
            rules=(
                PolicyRule(
                    name="default",
                    match=Match(),
                    clocks=(response_rule(response_sla, level_interval, max_level),),
                ),
            ),
            version="response-only",
        )

    def with_response_override(
        self,
        *,
        response_sla: Mapping[Severity, timedelta] | None = None,
        level_interval: timedelta | None = None,
        max_level: int | None = None,
    ) -> EscalationPolicy:
        """Environment overrides (ESCALATION_RESPONSE_SLA_*, ...) of every response clock."""
        if response_sla is None and level_interval is None and max_level is None:
            return self
        rules = []
        for rule in self.rules:
            clocks = []
            for clock in rule.clocks:
                if clock.spec.name == RESPONSE_CLOCK:
                    clock = _override(clock, response_sla, level_interval, max_level)
                clocks.append(clock)
            rules.append(PolicyRule(name=rule.name, match=rule.match, clocks=tuple(clocks)))
        return EscalationPolicy(
            rules=tuple(rules),
            version=f"{self.version}+env",
            calendars=self.calendars,
            owners=self.owners,
            unknown_complaint_grace=self.unknown_complaint_grace,
        )


def response_rule(
    response_sla: Mapping[Severity, timedelta], level_interval: timedelta, max_level: int
) -> ClockRule:
    missing = [s.value for s in Severity if s not in response_sla]
    if missing:
        raise ValueError(f"response SLA missing for severity: {', '.join(missing)}")
    if any(sla <= timedelta(0) for sla in response_sla.values()):
        raise ValueError("response SLAs must be positive")
    return ClockRule(
        spec=ClockSpec(
            name=RESPONSE_CLOCK,
            target=Target.of(response_sla[Severity.GREEN]),
            stop=frozenset(
                {
                    LifecycleAction.ACKNOWLEDGED,
                    LifecycleAction.RESPONDED,
                    LifecycleAction.RESOLVED,
                    LifecycleAction.CLOSED,
                }
            ),
            pause=frozenset(),
            resume=frozenset(),
            chain=Chain.paced(
                interval=level_interval,
                max_level=max_level,
                roles=("handler", "team_lead", "department_owner", "director"),
            ),
        ),
        target_by_severity={s: Target.of(d) for s, d in response_sla.items()},
    )


def _override(
    clock: ClockRule,
    response_sla: Mapping[Severity, timedelta] | None,
    level_interval: timedelta | None,
    max_level: int | None,
) -> ClockRule:
    spec = clock.spec
    by_severity = dict(clock.target_by_severity)
    if response_sla is not None:
        by_severity = {s: Target.of(d) for s, d in response_sla.items()}
    chain = spec.chain
    if level_interval is not None or max_level is not None:
        levels = spec.chain.levels
        interval = level_interval or (
            levels[1].after - levels[0].after if len(levels) > 1 else timedelta(minutes=10)
        )
        top = max_level or len(levels)
        roles = tuple(lv.targets[0] if lv.targets else "" for lv in levels)
        chain = Chain(
            levels=tuple(
                Level(
                    level=n,
                    after=levels[0].after + (n - 1) * interval,
                    targets=(roles[n - 1],) if n - 1 < len(roles) and roles[n - 1] else (),
                )
                for n in range(1, top + 1)
            ),
            repeat_every=spec.chain.repeat_every,
            max_repeats=spec.chain.max_repeats,
        )
    return ClockRule(spec=replace(spec, chain=chain), target_by_severity=by_severity)
