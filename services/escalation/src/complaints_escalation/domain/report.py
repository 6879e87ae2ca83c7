"""SLA outcomes of clocks and the seeds' KPIs over a set of complaint states (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from complaints_escalation.domain.state import ComplaintState, SlaClock
from complaints_schemas.events import Scope

MET, BREACHED, OPEN = "met", "breached", "open"


def clock_outcome(clock: SlaClock, *, now: datetime) -> str:
    """Met when stopped by its deadline; breached when stopped late or overdue; else open."""
    if clock.stopped_at is not None:
        return MET if clock.stopped_at <= clock.deadline else BREACHED
    if clock.running and clock.deadline <= now:
        return BREACHED
    return OPEN


@dataclass
class Tally:
    met: int = 0
    breached: int = 0
    open: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def compliance(self) -> float | None:
        """Share of concluded clocks that met their deadline."""
        done = self.met + self.breached
        return None if done == 0 else self.met / done

    def as_json(self) -> dict[str, Any]:
        c = self.compliance
        return {
            "met": self.met,
            "breached": self.breached,
            "open": self.open,
            "compliance": None if c is None else round(c, 4),
        }


@dataclass
class Breakdown:
    """Outcomes per clock, per clock and severity, per clock and department; escalations."""

    by_clock: dict[str, Tally]
    by_severity: dict[tuple[str, str], Tally]
    by_department: dict[tuple[str, str], Tally]
    escalations: Counter[tuple[str, str, str]]  # (kind, level, department)
    complaints: int = 0
    transfers: int = 0

    @classmethod
    def empty(cls) -> Breakdown:
        return cls({}, {}, {}, Counter())

    def merge(self, other: Breakdown) -> None:
        """Add another shard's figures (complaints are independent)."""
        pairs: list[tuple[dict[Any, Tally], dict[Any, Tally]]] = [
            (self.by_clock, other.by_clock),
            (self.by_severity, other.by_severity),
            (self.by_department, other.by_department),
        ]
        for mine, theirs in pairs:
            for key, t in theirs.items():
                m = mine.setdefault(key, Tally())
                m.met, m.breached, m.open = m.met + t.met, m.breached + t.breached, m.open + t.open
        self.escalations.update(other.escalations)
        self.complaints += other.complaints
        self.transfers += other.transfers

    def add(self, state: ComplaintState, *, now: datetime) -> None:
        c = state.classification
        if c is None:
            return
        self.complaints += 1
        self.transfers += state.transfers
        for clock in state.clocks:
            outcome = clock_outcome(clock, now=now)
            self.by_clock.setdefault(clock.name, Tally()).add(outcome)
            self.by_severity.setdefault((clock.name, c.severity.value), Tally()).add(outcome)
            self.by_department.setdefault((clock.name, c.department), Tally()).add(outcome)
        for key in state.fired:
            _, kind, level, _ = key.rsplit(":", 3)
            self.escalations[(kind, level, c.department)] += 1


def sla_report(
    states: Iterable[ComplaintState], *, start: datetime, end: datetime, now: datetime
) -> dict[str, Any]:
    """The seeds' KPIs for complaints accepted in [start, end)."""
    breakdown = Breakdown.empty()
    common: Counter[str] = Counter()
    for state in states:
        c = state.classification
        if c is None or not start <= c.accepted_at < end:
            continue
        breakdown.add(state, now=now)
        if c.scope is Scope.COMMON or c.cluster_id:
            common[c.category] += 1

    def rate(clock: str) -> dict[str, Any]:
        return breakdown.by_clock.get(clock, Tally()).as_json()

    by_level: Counter[str] = Counter()
    by_department: Counter[str] = Counter()
    for (kind, level, department), n in breakdown.escalations.items():
        if kind == "breach":
            by_level[level] += n
            by_department[department] += n
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "complaints": breakdown.complaints,
        "response_within_sla": rate("response"),
        "resolution_within_sla": rate("resolution"),
        "t3_closure": rate("closure"),
        "clocks": {name: t.as_json() for name, t in sorted(breakdown.by_clock.items())},
        "escalations_by_level": dict(sorted(by_level.items())),
        "escalations_by_department": dict(by_department.most_common()),
        "warnings": sum(n for (k, _, _), n in breakdown.escalations.items() if k == "warning"),
        "transfers_per_complaint": round(breakdown.transfers / breakdown.complaints, 4)
        if breakdown.complaints
        else 0.0,
        "top_common_issues": [
            {"category": cat, "complaints": n} for cat, n in common.most_common(5)
        ],
    }
