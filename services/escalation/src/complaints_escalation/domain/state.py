"""Per-complaint escalation state, serialisable to JSON for the state table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from complaints_schemas.events import EscalationKind, LifecycleAction, Scope, Severity

STATE_FORMAT = 1


class Status(StrEnum):
    AWAITING_CLASSIFICATION = "awaiting_classification"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Step:
    """One escalation step of a clock: due at an instant, identified by kind, level and repeat."""

    clock: str
    kind: EscalationKind
    level: int
    repeat: int
    due_at: datetime

    @property
    def key(self) -> str:
        return f"{self.clock}:{self.kind.value}:{self.level}:{self.repeat}"


@dataclass(frozen=True, slots=True)
class SlaClock:
    """A running deadline with the chain frozen at its start (policy changes do not move it)."""

    name: str
    started_at: datetime
    deadline: datetime
    level_interval: timedelta
    max_level: int
    stopped_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    def steps(self) -> Iterator[Step]:
        """Breach level 1 at the deadline, then one level more every interval, in time order."""
        for level in range(1, self.max_level + 1):
            yield Step(
                clock=self.name,
                kind=EscalationKind.BREACH,
                level=level,
                repeat=0,
                due_at=self.deadline + (level - 1) * self.level_interval,
            )


@dataclass(frozen=True, slots=True)
class LifecycleFact:
    """The part of a lifecycle event the escalation state keeps."""

    event_id: str
    action: LifecycleAction
    occurred_at: datetime
    to_department: str | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    severity: Severity
    scope: Scope
    category: str
    department: str
    title: str
    accepted_at: datetime
    cluster_id: str | None = None


@dataclass(frozen=True, slots=True)
class ComplaintState:
    """Everything escalation knows about one complaint; `version` is the timer token."""

    complaint_id: str
    status: Status = Status.AWAITING_CLASSIFICATION
    version: int = 0
    classification: Classification | None = None
    clocks: tuple[SlaClock, ...] = ()
    fired: tuple[str, ...] = ()
    early_events: tuple[LifecycleFact, ...] = ()
    seen_event_ids: tuple[str, ...] = ()
    paused_since: datetime | None = None

    def clock(self, name: str) -> SlaClock | None:
        return next((c for c in self.clocks if c.name == name), None)

    def to_json(self) -> dict[str, Any]:
        c = self.classification
        return {
            "format": STATE_FORMAT,
            "complaint_id": self.complaint_id,
            "status": self.status.value,
            "version": self.version,
            "classification": None
            if c is None
            else {
                "severity": c.severity.value,
                "scope": c.scope.value,
                "category": c.category,
                "department": c.department,
                "title": c.title,
                "accepted_at": c.accepted_at.isoformat(),
                "cluster_id": c.cluster_id,
            },
            "clocks": [
                {
                    "name": k.name,
                    "started_at": k.started_at.isoformat(),
                    "deadline": k.deadline.isoformat(),
                    "level_interval_s": k.level_interval.total_seconds(),
                    "max_level": k.max_level,
                    "stopped_at": _iso(k.stopped_at),
                }
                for k in self.clocks
            ],
            "fired": list(self.fired),
            "early_events": [
                {
                    "event_id": e.event_id,
                    "action": e.action.value,
                    "occurred_at": e.occurred_at.isoformat(),
                    "to_department": e.to_department,
                }
                for e in self.early_events
            ],
            "seen_event_ids": list(self.seen_event_ids),
            "paused_since": _iso(self.paused_since),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComplaintState:
        c = data["classification"]
        return cls(
            complaint_id=data["complaint_id"],
            status=Status(data["status"]),
            version=int(data["version"]),
            classification=None
            if c is None
            else Classification(
                severity=Severity(c["severity"]),
                scope=Scope(c["scope"]),
                category=c["category"],
                department=c["department"],
                title=c["title"],
                accepted_at=datetime.fromisoformat(c["accepted_at"]),
                cluster_id=c.get("cluster_id"),
            ),
            clocks=tuple(
                SlaClock(
                    name=k["name"],
                    started_at=datetime.fromisoformat(k["started_at"]),
                    deadline=datetime.fromisoformat(k["deadline"]),
                    level_interval=timedelta(seconds=k["level_interval_s"]),
                    max_level=int(k["max_level"]),
                    stopped_at=_dt(k.get("stopped_at")),
                )
                for k in data["clocks"]
            ),
            fired=tuple(data["fired"]),
            early_events=tuple(
                LifecycleFact(
                    event_id=e["event_id"],
                    action=LifecycleAction(e["action"]),
                    occurred_at=datetime.fromisoformat(e["occurred_at"]),
                    to_department=e.get("to_department"),
                )
                for e in data["early_events"]
            ),
            seen_event_ids=tuple(data["seen_event_ids"]),
            paused_since=_dt(data.get("paused_since")),
        )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
