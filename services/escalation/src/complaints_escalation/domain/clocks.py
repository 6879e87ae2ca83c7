"""Clock arithmetic: start, pause, resume, stop and recompute deadlines on a calendar."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from complaints_escalation.domain.calendar import WorkingCalendar
from complaints_escalation.domain.policy import ClockSpec
from complaints_escalation.domain.state import HolidaySources, SlaClock


def advance(
    spec: ClockSpec, calendar: WorkingCalendar, start: datetime, amount: timedelta
) -> datetime:
    """`amount` of the clock's measure after `start`: elapsed, or working time."""
    if spec.target.elapsed:
        return start + amount
    return calendar.add_business(start, amount)


def measure(
    spec: ClockSpec, calendar: WorkingCalendar, start: datetime, end: datetime
) -> timedelta:
    """How much of the clock's measure lies in [start, end)."""
    if spec.target.elapsed:
        return max(timedelta(0), end - start)
    return calendar.business_between(start, end)


def holiday_sources(
    calendar: WorkingCalendar, start: datetime, deadline: datetime
) -> HolidaySources:
    """Which source decided the holidays of each year between `start` and the deadline."""
    return tuple(
        (year, source.name, source.provisional)
        for year, source in calendar.sources(start, deadline)
    )


def start_clock(
    spec: ClockSpec, calendar: WorkingCalendar, *, at: datetime, cycle: int = 0
) -> SlaClock:
    """A running clock from `at` with the policy's allowance."""
    budget = spec.target.budget(at, calendar)
    deadline = advance(spec, calendar, at, budget)
    return SlaClock(
        name=spec.name,
        spec=spec,
        calendar=calendar.name,
        started_at=at,
        budget=budget,
        deadline=deadline,
        run_since=at,
        cycle=cycle,
        calendar_spec=calendar.spec,
        holiday_sources=holiday_sources(calendar, at, deadline),
        warn_at=_warnings(
            spec, calendar, budget=budget, used=timedelta(0), run_since=at, deadline=deadline
        )
        if spec.warnings
        else (),
    )


def warning_instants(clock: SlaClock, calendar: WorkingCalendar) -> tuple[datetime | None, ...]:
    """Each warning's instant for the current run; None for one that passed before this run."""
    if clock.run_since is None:
        return clock.warn_at
    return _warnings(
        clock.spec,
        calendar,
        budget=clock.budget,
        used=clock.used,
        run_since=clock.run_since,
        deadline=clock.deadline,
    )


def _warnings(
    spec: ClockSpec,
    calendar: WorkingCalendar,
    *,
    budget: timedelta,
    used: timedelta,
    run_since: datetime,
    deadline: datetime,
) -> tuple[datetime | None, ...]:
    instants: list[datetime | None] = []
    for rule in spec.warnings:
        at: datetime | None
        if rule.percent is not None:
            threshold = budget * (rule.percent / 100)
            at = advance(spec, calendar, run_since, threshold - used) if threshold > used else None
        else:
            assert rule.lead is not None
            at = deadline - rule.lead
        instants.append(at if at is not None and at >= run_since else None)
    return tuple(instants)


def pause_clock(clock: SlaClock, calendar: WorkingCalendar, *, at: datetime) -> SlaClock:
    if not clock.running:
        return clock
    assert clock.run_since is not None
    used = clock.used + measure(clock.spec, calendar, clock.run_since, max(at, clock.run_since))
    return replace(clock, used=used, run_since=None, pauses=(*clock.pauses, (at, None)))


def resume_clock(clock: SlaClock, calendar: WorkingCalendar, *, at: datetime) -> SlaClock:
    if not clock.paused:
        return clock
    pauses = clock.pauses
    if pauses and pauses[-1][1] is None:
        pauses = (*pauses[:-1], (pauses[-1][0], at))
    remaining = max(timedelta(0), clock.budget - clock.used)
    deadline = advance(clock.spec, calendar, at, remaining)
    resumed = replace(
        clock,
        run_since=at,
        pauses=pauses,
        deadline=deadline,
        holiday_sources=holiday_sources(calendar, clock.started_at, deadline),
    )
    return replace(resumed, warn_at=warning_instants(resumed, calendar))


def stop_clock(clock: SlaClock, calendar: WorkingCalendar, *, at: datetime) -> SlaClock:
    if clock.stopped_at is not None:
        return clock
    used = clock.used
    pauses = clock.pauses
    if clock.run_since is not None:
        used += measure(clock.spec, calendar, clock.run_since, max(at, clock.run_since))
    elif pauses and pauses[-1][1] is None:
        pauses = (*pauses[:-1], (pauses[-1][0], at))
    return replace(clock, stopped_at=at, used=used, pauses=pauses)


def recompute(
    clock: SlaClock,
    spec: ClockSpec,
    calendar: WorkingCalendar,
    *,
    old_calendar: WorkingCalendar,
    now: datetime,
) -> SlaClock:
    """The same clock under a new spec or calendar (transfer, reclassification).

    The allowance is re-derived from the original start on the new calendar; the share
    already used (measured on the old calendar up to `now`) carries over.
    """
    if clock.stopped_at is not None:
        return clock
    used = clock.used
    if clock.run_since is not None:
        used += measure(clock.spec, old_calendar, clock.run_since, max(now, clock.run_since))
    budget = spec.target.budget(clock.started_at, calendar)
    run_since = now if clock.run_since is not None else None
    deadline = (
        advance(spec, calendar, now, max(timedelta(0), budget - used))
        if run_since is not None
        else clock.deadline
    )
    moved = replace(
        clock,
        spec=spec,
        calendar=calendar.name,
        calendar_spec=calendar.spec,
        budget=budget,
        used=used,
        run_since=run_since,
        deadline=deadline,
        holiday_sources=holiday_sources(calendar, clock.started_at, deadline),
    )
    return replace(moved, warn_at=warning_instants(moved, calendar))


def remaining(clock: SlaClock, *, now: datetime) -> timedelta:
    """Wall time to the deadline (negative once breached); for a paused clock, at resume."""
    return clock.deadline - now
