"""Clock views for read models: deadline, periods (running, paused, off hours), next step."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from complaints_escalation.domain.clock_view import clocks_updated
from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.domain.transitions import on_classified, on_lifecycle
from complaints_escalation.inbound.handlers import Handlers
from complaints_escalation.metrics import EscalationMetrics
from complaints_escalation.outbound.holidays import load_chinese_holidays
from complaints_escalation.outbound.policy_file import load_policy
from complaints_escalation.outbound.state_store import MemoryStateStore
from complaints_escalation.scheduling.index import DueIndex
from complaints_escalation.scheduling.timer import Timer
from complaints_kit.clock import FakeClock
from complaints_kit.records import Origin
from complaints_schemas.cloudevents import encode
from complaints_schemas.events import ClockState, ComplaintClocksUpdated, LifecycleAction

from .factories import T0, classified, lifecycle
from .test_handlers import FakePublisher

MIN = timedelta(minutes=1)
POLICY = Path(__file__).resolve().parents[3] / "config" / "escalation" / "policy.yaml"


def test_response_clock_view_names_deadline_and_next_step() -> None:
    policy = EscalationPolicy.response_only()
    state = on_classified(None, classified("V-1"), policy=policy).state
    view = clocks_updated(state, now=T0 + 2 * MIN, calendars=policy.calendars)
    [clock] = view.clocks
    assert view.version == state.version
    assert view.next_step_at == T0 + 10 * MIN
    assert clock.state is ClockState.RUNNING
    assert clock.deadline == T0 + 10 * MIN
    assert clock.next_step == "breach:1"
    assert clock.next_step_at == T0 + 10 * MIN
    assert clock.used_s == 120
    kinds = [(p.kind, p.planned) for p in clock.periods]
    assert kinds == [("running", False), ("running", True)]


def test_acknowledged_clock_stops_with_its_running_period() -> None:
    policy = EscalationPolicy.response_only()
    state = on_classified(None, classified("V-2"), policy=policy).state
    state = on_lifecycle(
        state, lifecycle("V-2", LifecycleAction.ACKNOWLEDGED, at=T0 + 3 * MIN), policy=policy
    ).state
    view = clocks_updated(state, now=T0 + 5 * MIN, calendars=policy.calendars)
    [clock] = view.clocks
    assert clock.state is ClockState.STOPPED
    assert clock.stopped_at == T0 + 3 * MIN
    assert clock.next_step is None
    assert view.next_step_at is None
    assert [(p.kind, p.start, p.end) for p in clock.periods] == [("running", T0, T0 + 3 * MIN)]


def test_working_time_clock_is_split_into_working_and_off_hours_periods() -> None:
    policy = load_policy(POLICY, holiday_data=load_chinese_holidays())
    # Monday 2025-03-03 17:00 Shanghai: an hour before the end of the working day.
    accepted = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    state = on_classified(
        None,
        classified("V-3", accepted_at=accepted, department="logistics", category="logistics"),
        policy=policy,
    ).state
    view = clocks_updated(state, now=accepted, calendars=policy.calendars)
    business = [c for c in view.clocks if c.target_unit in ("business_hours", "working_days")]
    assert business, [c.target_unit for c in view.clocks]
    clock = business[0]
    kinds = {p.kind for p in clock.periods}
    assert "off_hours" in kinds
    assert "running" in kinds
    planned = [p for p in clock.periods if p.planned]
    assert planned[-1].end == clock.deadline
    for earlier, later in itertools.pairwise(planned):
        assert earlier.end == later.start


async def test_handlers_publish_clocks_after_each_change_and_on_redelivery() -> None:
    clock = FakeClock(T0)
    views: list[ComplaintClocksUpdated] = []

    async def publish(batch: Sequence[ComplaintClocksUpdated]) -> None:
        views.extend(batch)

    handlers = Handlers(
        store=MemoryStateStore(),
        timer=Timer(index=DueIndex(), clock=clock, fire=publish),  # type: ignore[arg-type]
        publisher=FakePublisher(),  # type: ignore[arg-type]
        policy=EscalationPolicy.response_only(),
        clock=clock,
        metrics=EscalationMetrics(CollectorRegistry()),
        clock_views=publish,
    )
    record = encode(classified("V-4"), source="/t", id="1", time=T0)
    origin = Origin("complaints.classified.v1", 0, 0, record.key)
    await handlers.classified(record.value, record.headers, origin)
    ack = encode(
        lifecycle("V-4", LifecycleAction.ACKNOWLEDGED, at=T0 + MIN), source="/t", id="2", time=T0
    )
    for _ in range(2):  # the second is a redelivery: published again, same version
        await handlers.lifecycle(ack.value, ack.headers, Origin("l", 0, 0, ack.key))
    assert [v.version for v in views] == [1, 2, 2]
    assert views[-1].clocks[0].state is ClockState.STOPPED
