"""The ledger and SLA report served by the ops HTTP server (no broker: a memory store)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from complaints_escalation.domain.transitions import (
    on_classified,
    on_due,
    on_lifecycle,
    record_fired,
)
from complaints_escalation.inbound.status_http import StatusServer, partition_of
from complaints_escalation.outbound.state_store import MemoryStateStore
from complaints_kit.clock import FakeClock
from complaints_schemas.events import LifecycleAction

from .factories import classified, lifecycle
from .test_engine import SEEDS

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
MIN = timedelta(minutes=1)


def server(
    store: MemoryStateStore, clock: FakeClock, owned: frozenset[int], *, partitions: int = 6
) -> StatusServer:
    return StatusServer(
        registry=CollectorRegistry(),
        ready=lambda: True,
        host="127.0.0.1",
        port=0,
        store=store,
        owned=lambda: owned,
        calendars=SEEDS.calendars,
        clock=clock,
        partitions=partitions,
    )


async def test_ledger_shows_clocks_periods_warnings_escalations_and_acks() -> None:
    store, clock = MemoryStateStore(), FakeClock(T0 + 30 * MIN)
    state = on_classified(None, classified("L-1", accepted_at=T0), policy=SEEDS).state
    escalations = on_due(state, token=state.version, now=T0 + 10 * MIN)
    state = record_fired(state, tuple(e.step for e in escalations), at=T0 + 10 * MIN)
    for action, minute in (
        (LifecycleAction.ACKNOWLEDGED, 12),
        (LifecycleAction.PAUSED, 15),
        (LifecycleAction.RESUMED, 25),
    ):
        state = on_lifecycle(
            state, lifecycle("L-1", action, at=T0 + minute * MIN), policy=SEEDS
        ).state
    partition = partition_of("L-1")
    store.put(state, partition=partition)
    status, ctype, body = await server(store, clock, frozenset({partition})).respond(
        "/v1/complaints/L-1"
    )
    assert (status, ctype) == (200, "application/json")
    data = json.loads(body)
    assert data["policy_version"] == "seeds-2025.1"
    clocks = {k["name"]: k for k in data["clocks"]}
    assert clocks["response"]["state"] == "stopped"
    assert clocks["response"]["outcome"] == "breached"
    resolution = clocks["resolution"]
    assert resolution["state"] == "running"
    assert resolution["paused_s"] == 600
    assert resolution["ran_s"] == 20 * 60
    assert resolution["remaining_s"] == (6 * 60 + 10 - 30) * 60
    assert clocks["closure"]["outside_working_hours_s"] == 0  # 09:00-09:30 Shanghai, workday
    assert [e["level"] for e in data["escalations"]] == [1]
    assert data["acknowledgements"][0]["action"] == "acknowledged"


async def test_unknown_complaint_says_whether_this_worker_owns_it() -> None:
    store, clock = MemoryStateStore(), FakeClock(T0)
    partition = partition_of("nope")
    status, _, body = await server(store, clock, frozenset()).respond("/v1/complaints/nope")
    data = json.loads(body)
    assert status == 404
    assert data["partition"] == partition
    assert data["owned_here"] is False
    assert "owns this partition" in data["detail"]


async def test_the_partition_named_follows_the_configured_partition_count() -> None:
    # KAFKA_TOPIC_PARTITIONS=12: producers put a key where murmur2 % 12 says, not % 6.
    cid = next(c for c in (f"P-{n}" for n in range(100)) if partition_of(c, 12) >= 6)
    twelve = server(MemoryStateStore(), FakeClock(T0), frozenset(), partitions=12)
    status, _, body = await twelve.respond(f"/v1/complaints/{cid}")
    assert status == 404
    assert json.loads(body)["partition"] == partition_of(cid, 12)


async def test_sla_report_for_a_period() -> None:
    store, clock = MemoryStateStore(), FakeClock(T0 + 3 * 60 * MIN)
    for n, ack_minute in enumerate((5, 20, None)):
        cid = f"R-{n}"
        state = on_classified(None, classified(cid, accepted_at=T0), policy=SEEDS).state
        if ack_minute is not None:
            state = on_lifecycle(
                state,
                lifecycle(cid, LifecycleAction.ACKNOWLEDGED, at=T0 + ack_minute * MIN),
                policy=SEEDS,
            ).state
        store.put(state, partition=0)
    status, _, body = await server(store, clock, frozenset({0})).respond(
        "/v1/reports/sla/2025-03-01/2025-03-31"
    )
    data = json.loads(body)
    assert status == 200
    assert data["complaints"] == 3
    assert data["response_within_sla"] == {"met": 1, "breached": 2, "open": 0, "compliance": 0.3333}
    assert data["resolution_within_sla"]["open"] == 3
    assert "t3_closure" in data
    assert (await server(store, clock, frozenset()).respond("/v1/reports/sla/bad"))[0] == 400


def test_remaining_time_metric_counts_next_steps_by_upper_bound() -> None:
    from prometheus_client import generate_latest

    from complaints_escalation.metrics import RemainingTime

    registry = CollectorRegistry()
    due = [T0 - MIN, T0 + 30 * MIN, T0 + 2 * 60 * MIN]
    registry.register(RemainingTime(due_instants=lambda: due, now=lambda: T0))
    text = generate_latest(registry).decode()
    assert 'complaints_escalation_next_step_remaining{le="0.0"} 1.0' in text
    assert 'complaints_escalation_next_step_remaining{le="900.0"} 1.0' in text
    assert 'complaints_escalation_next_step_remaining{le="3600.0"} 2.0' in text
    assert 'complaints_escalation_next_step_remaining{le="+Inf"} 3.0' in text


async def test_complaint_and_report_routes_need_the_status_token() -> None:
    store, clock = MemoryStateStore(), FakeClock(T0)
    state = on_classified(None, classified("L-9", accepted_at=T0), policy=SEEDS).state
    store.put(state, partition=partition_of("L-9"))
    locked = server(store, clock, frozenset({partition_of("L-9")}))
    assert (await locked.respond_to("/v1/complaints/L-9", {}))[0] == 404  # no token: off
    guarded = StatusServer(
        registry=CollectorRegistry(),
        ready=lambda: True,
        host="127.0.0.1",
        port=0,
        store=store,
        owned=lambda: frozenset({partition_of("L-9")}),
        calendars=SEEDS.calendars,
        clock=clock,
        token="s3cret",
    )
    for path in ("/v1/complaints/L-9", "/v1/reports/sla"):
        assert (await guarded.respond_to(path, {}))[0] == 401
        assert (await guarded.respond_to(path, {"authorization": "Bearer wrong"}))[0] == 401
        assert (await guarded.respond_to(path, {"authorization": "Bearer s3cret"}))[0] == 200
    assert (await guarded.respond_to("/healthz", {}))[0] == 200
