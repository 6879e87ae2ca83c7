"""The complaint's clocks as read models see them (complaints.clocks-updated.v1), pure.

Escalation owns the clock arithmetic; the console shows what this computes and never
recomputes a deadline itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from complaints_escalation.domain.calendar import (
    CALENDAR_24X7,
    CalendarError,
    Calendars,
    WorkingCalendar,
)
from complaints_escalation.domain.ledger import ran_periods
from complaints_escalation.domain.state import ComplaintState, SlaClock
from complaints_escalation.domain.transitions import next_due
from complaints_schemas.events import (
    ClockPeriod,
    ClockState,
    ClockView,
    ComplaintClocksUpdated,
    EscalationKind,
)

# A clock of a few working days has a few dozen periods; a bound keeps a record small.
MAX_PERIODS = 200


def clocks_updated(
    state: ComplaintState, *, now: datetime, calendars: Calendars
) -> ComplaintClocksUpdated:
    """Every clock of the complaint at `now`, with the state's version (newest wins)."""
    c = state.classification
    return ComplaintClocksUpdated(
        complaint_id=state.complaint_id,
        version=state.version,
        updated_at=now,
        status=state.status.value,
        policy_version=state.policy_version,
        department=None if c is None else c.department,
        next_step_at=next_due(state),
        clocks=tuple(_view(k, state, now=now, calendars=calendars) for k in state.clocks),
    )


def _view(k: SlaClock, state: ComplaintState, *, now: datetime, calendars: Calendars) -> ClockView:
    end = k.stopped_at or now
    business: WorkingCalendar | None = None
    if not k.spec.target.elapsed and k.calendar != CALENDAR_24X7.name:
        try:
            business = calendars.get(k.calendar)
        except CalendarError:
            business = None
    periods: list[ClockPeriod] = []
    outside = timedelta(0)
    for a, b in ran_periods(k, end):
        split, off = _split(a, b, business)
        periods.extend(split)
        outside += off
    if k.running and k.deadline > now:
        planned, _ = _split(now, k.deadline, business, planned=True)
        periods.extend(planned)
    elif k.running:
        periods.append(ClockPeriod(kind="running", start=now, planned=True))
    for paused_at, resumed_at in k.pauses:
        periods.append(ClockPeriod(kind="paused", start=paused_at, end=resumed_at))
    periods.sort(key=lambda p: p.start)
    used = k.used
    if k.run_since is not None and k.stopped_at is None:
        used += (
            business.business_between(k.run_since, now)
            if business is not None
            else max(timedelta(0), now - k.run_since)
        )
    step_at, step = _next_step(k, state.fired)
    return ClockView(
        name=k.name,
        cycle=k.cycle,
        state=ClockState.STOPPED
        if k.stopped_at
        else (ClockState.PAUSED if k.paused else ClockState.RUNNING),
        calendar=k.calendar,
        target_amount=k.spec.target.amount,
        target_unit=k.spec.target.unit.value,
        started_at=k.started_at,
        deadline=k.deadline,
        stopped_at=k.stopped_at,
        budget_s=k.budget.total_seconds(),
        used_s=used.total_seconds(),
        outside_working_hours_s=outside.total_seconds(),
        periods=tuple(periods[:MAX_PERIODS]),
        next_step_at=step_at,
        next_step=step,
    )


def _split(
    start: datetime, end: datetime, calendar: WorkingCalendar | None, *, planned: bool = False
) -> tuple[list[ClockPeriod], timedelta]:
    """[start, end) cut into working ("running") and off-hours stretches of the calendar."""
    if end <= start:
        return [], timedelta(0)
    if calendar is None or calendar.is_24x7:
        return [ClockPeriod(kind="running", start=start, end=end, planned=planned)], timedelta(0)
    out: list[ClockPeriod] = []
    off = timedelta(0)
    cursor = start
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    last = end.astimezone(calendar.zone).date() + timedelta(days=1)
    try:
        while day <= last and len(out) < MAX_PERIODS:
            for p_start, p_end in calendar.periods(day):
                a, b = max(p_start, cursor), min(p_end, end)
                if b <= a:
                    continue
                if a > cursor:
                    out.append(ClockPeriod(kind="off_hours", start=cursor, end=a, planned=planned))
                    off += a - cursor
                out.append(ClockPeriod(kind="running", start=a, end=b, planned=planned))
                cursor = b
            day += timedelta(days=1)
    except CalendarError:
        return [ClockPeriod(kind="running", start=start, end=end, planned=planned)], timedelta(0)
    if cursor < end:
        out.append(ClockPeriod(kind="off_hours", start=cursor, end=end, planned=planned))
        off += end - cursor
    return out, off


def _next_step(k: SlaClock, fired: tuple[str, ...]) -> tuple[datetime | None, str | None]:
    """This clock's earliest step not yet fired, while it runs."""
    if not k.running:
        return None, None
    pending = k.next_pending(fired)
    if pending is None:
        return None, None
    best = None
    # Up to the next pending instant: an uncapped repeat has no last step to list.
    for step in k.steps(until=pending, fired=fired):
        if step.key in fired:
            continue
        if best is None or step.due_at < best.due_at:
            best = step
    if best is None:
        return None, None
    label = "warning" if best.kind is EscalationKind.WARNING else f"breach:{best.level}"
    return best.due_at, label
