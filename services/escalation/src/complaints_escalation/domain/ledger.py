"""A complaint's ledger: every clock with its deadline, periods, warnings and escalations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from complaints_escalation.domain.calendar import CALENDAR_24X7, CalendarError, Calendars
from complaints_escalation.domain.report import clock_outcome
from complaints_escalation.domain.state import ComplaintState, SlaClock
from complaints_schemas.events import LifecycleAction

_ACKS = (LifecycleAction.ACKNOWLEDGED, LifecycleAction.RESPONDED)


def ledger(state: ComplaintState, *, now: datetime, calendars: Calendars) -> dict[str, Any]:
    """The explainable record of one complaint, as JSON."""
    c = state.classification
    fired_at = dict(zip(state.fired, state.fired_at, strict=False))
    steps = []
    for key in state.fired:
        clock, kind, level, repeat = key.rsplit(":", 3)
        at = fired_at.get(key)
        steps.append(
            {
                "clock": clock,
                "kind": kind,
                "level": int(level),
                "repeat": int(repeat),
                "at": None if at is None else at.isoformat(),
            }
        )
    return {
        "complaint_id": state.complaint_id,
        "status": state.status.value,
        "policy_version": state.policy_version,
        "classification": None
        if c is None
        else {
            "severity": c.severity.value,
            "scope": c.scope.value,
            "category": c.category,
            "department": c.department,
            "tier": c.tier.value,
            "accepted_at": c.accepted_at.isoformat(),
            "cluster_id": c.cluster_id,
        },
        "clocks": [_clock(k, now=now, calendars=calendars) for k in state.clocks],
        "warnings": [s for s in steps if s["kind"] == "warning"],
        "escalations": [s for s in steps if s["kind"] == "breach"],
        "acknowledgements": [
            {
                "action": f.action.value,
                "at": f.occurred_at.isoformat(),
                "event_id": f.event_id,
                "actor": f.actor,
                "note": f.note,
            }
            for f in state.history
            if f.action in _ACKS
        ],
        "lifecycle": [
            {
                "action": f.action.value,
                "at": f.occurred_at.isoformat(),
                "to_department": f.to_department,
                "actor": f.actor,
                "note": f.note,
            }
            for f in state.history
        ],
        "provisional_calendar": any(k.provisional_years for k in state.clocks),
        "transfers": state.transfers,
        "reclassifications": state.reclassifications,
    }


def _clock(k: SlaClock, *, now: datetime, calendars: Calendars) -> dict[str, Any]:
    end = k.stopped_at or now
    ran = ran_periods(k, end)
    ran_s = sum((b - a for a, b in ran), timedelta(0))
    paused_s = sum(((b or end) - a for a, b in k.pauses), timedelta(0))
    outside = timedelta(0)
    if not k.spec.target.elapsed and k.calendar != CALENDAR_24X7.name:
        try:
            cal = (
                calendars.get(k.calendar)
                if k.calendar_spec is None
                else calendars.build(k.calendar_spec)
            )
            outside = ran_s - sum((cal.business_between(a, b) for a, b in ran), timedelta(0))
        except CalendarError:
            outside = timedelta(0)
    state = "stopped" if k.stopped_at else ("paused" if k.paused else "running")
    return {
        "name": k.name,
        "cycle": k.cycle,
        "state": state,
        "outcome": clock_outcome(k, now=now),
        "target": {"amount": k.spec.target.amount, "unit": k.spec.target.unit.value},
        "calendar": k.calendar,
        "started_at": k.started_at.isoformat(),
        "deadline": k.deadline.isoformat(),
        "remaining_s": None if k.stopped_at else round((k.deadline - now).total_seconds(), 3),
        "stopped_at": None if k.stopped_at is None else k.stopped_at.isoformat(),
        "acknowledged_at": None if k.acknowledged_at is None else k.acknowledged_at.isoformat(),
        "ran": [[a.isoformat(), b.isoformat()] for a, b in ran],
        "ran_s": ran_s.total_seconds(),
        "paused": [[a.isoformat(), None if b is None else b.isoformat()] for a, b in k.pauses],
        "paused_s": paused_s.total_seconds(),
        "outside_working_hours_s": outside.total_seconds(),
        "warnings_at": [None if w is None else w.isoformat() for w in k.warn_at],
        # Which source decided each year's holidays; provisional: no official schedule.
        "holidays": [
            {"year": year, "source": source, "provisional": provisional}
            for year, source, provisional in k.holiday_sources
        ],
        "provisional": bool(k.provisional_years),
        "chain": [
            {"level": lv.level, "after_s": lv.after.total_seconds(), "targets": list(lv.targets)}
            for lv in k.spec.chain.levels
        ],
    }


def ran_periods(k: SlaClock, end: datetime) -> list[tuple[datetime, datetime]]:
    """Running periods: from the start to `end`, minus the pauses."""
    periods, cursor = [], k.started_at
    for paused_at, resumed_at in k.pauses:
        if paused_at > cursor:
            periods.append((cursor, min(paused_at, end)))
        if resumed_at is None:
            return periods
        cursor = resumed_at
    if end > cursor:
        periods.append((cursor, end))
    return periods
