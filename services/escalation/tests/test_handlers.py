"""Handlers with an in-memory store, a fake publisher and a FakeClock: no broker, no sleeps."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.inbound.handlers import Handlers
from complaints_escalation.metrics import EscalationMetrics
from complaints_escalation.outbound.holidays import load_chinese_holidays
from complaints_escalation.outbound.policy_file import load_policy
from complaints_escalation.outbound.publisher import Outgoing
from complaints_escalation.outbound.state_store import MemoryStateStore
from complaints_escalation.scheduling.due_message import DueBatch, DueMessage
from complaints_escalation.scheduling.index import DueIndex
from complaints_escalation.scheduling.timer import Timer
from complaints_kit.clock import FakeClock
from complaints_kit.records import Origin, handle_record
from complaints_schemas.cloudevents import decode, encode
from complaints_schemas.events import (
    Channel,
    ComplaintEscalated,
    ComplaintLifecycleEvent,
    ComplaintRejected,
    Event,
    LifecycleAction,
)
from complaints_schemas.topics import CLASSIFIED, LIFECYCLE

from .factories import T0, classified, lifecycle

MIN = timedelta(minutes=1)


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list[ComplaintEscalated] = []
        self.dead_letters: list[ComplaintRejected] = []
        self.due_batches: list[tuple[DueBatch, int]] = []
        self.fail_next = False

    async def escalated(self, records: Sequence[Outgoing]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker down")
        self.sent.extend(decode(ComplaintEscalated, r.value, list(r.headers)).data for r in records)

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None:
        self.dead_letters.append(event)

    async def due(self, batch: DueBatch, *, partition: int) -> None:
        self.due_batches.append((batch, partition))


class World:
    def __init__(self) -> None:
        self.clock = FakeClock(T0)
        self.publisher = FakePublisher()
        self.store = MemoryStateStore()
        self.registry = CollectorRegistry()
        self.handlers = Handlers(
            store=self.store,
            timer=Timer(index=DueIndex(), clock=self.clock, fire=self._unused),
            publisher=self.publisher,  # type: ignore[arg-type]
            policy=EscalationPolicy.response_only(),
            clock=self.clock,
            metrics=EscalationMetrics(self.registry),
        )

    async def _unused(self, _: object) -> None:
        raise AssertionError("the timer task does not run in these tests")

    async def send(self, topic: str, event: Event, *, partition: int = 2) -> None:
        record = encode(event, source="/tests", id="x", time=T0)
        origin = Origin(topic=topic, partition=partition, offset=0, key=record.key)
        handle = self.handlers.classified if topic == CLASSIFIED.name else self.handlers.lifecycle
        await handle(record.value, record.headers, origin)

    async def fire_due(self, *, partition: int = 2) -> None:
        """What the timer, the due agent and the release do at the current instant."""
        entries = self.handlers.timer.index.pop_due(self.clock.now())
        if entries:
            batch = DueBatch(tuple(DueMessage(e.complaint_id, e.token, e.due_at) for e in entries))
            await self.due(batch.to_bytes(), partition=partition)

    async def due(self, raw: bytes, *, partition: int = 2) -> None:
        """A due record into the agent, then what follows from it: the held escalations sent
        at their instant and the `fired` records they produce handled by the agent."""
        await self.handlers.due(raw, Origin("due", partition, 0, None))
        await self.release()

    async def release(self) -> None:
        """What the release task does now: send what is due, then record it as fired."""
        while held := self.handlers.release.pop_due(self.clock.now()):
            await self.handlers.send_held(held)
            fired, self.publisher.due_batches = self.publisher.due_batches, []
            for batch, p in fired:  # `fired` records, or unknown complaints handed back
                await self.handlers.due(batch.to_bytes(), Origin("due", p, 1, None))

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def world() -> World:
    return World()


async def test_breach_published_once_then_next_level_scheduled(world: World) -> None:
    await world.send(CLASSIFIED.name, classified("H-1"))
    assert world.handlers.timer.index.next_due() == T0 + 10 * MIN
    world.clock.set(T0 + 10 * MIN)
    await world.fire_due()
    assert [e.level for e in world.publisher.sent] == [1]
    assert world.handlers.timer.index.next_due() == T0 + 20 * MIN
    assert world.metric("complaints_escalation_escalations_total", kind="breach", level="1") == 1
    assert world.metric("complaints_escalation_open_complaints", severity="red") == 1


async def test_redelivered_due_message_is_dropped(world: World) -> None:
    await world.send(CLASSIFIED.name, classified("H-2"))
    state = world.store.get("H-2")
    assert state is not None
    batch = DueBatch((DueMessage("H-2", state.version, T0 + 10 * MIN),))
    world.clock.set(T0 + 10 * MIN)
    for _ in range(2):
        await world.due(batch.to_bytes())
    assert len(world.publisher.sent) == 1
    assert world.metric("complaints_escalation_due_dropped_total", reason="stale") == 1


async def test_publish_failure_is_not_recorded_and_retried(world: World) -> None:
    await world.send(CLASSIFIED.name, classified("H-3"))
    world.clock.set(T0 + 10 * MIN)
    world.publisher.fail_next = True
    await world.fire_due()
    assert world.publisher.sent == []
    state = world.store.get("H-3")
    assert state is not None
    assert state.fired == ()
    world.clock.advance(timedelta(seconds=1))
    await world.fire_due()
    assert [e.level for e in world.publisher.sent] == [1]


async def test_ack_before_classification_means_no_escalation(world: World) -> None:
    await world.send(LIFECYCLE.name, lifecycle("H-4", LifecycleAction.ACKNOWLEDGED, at=T0))
    await world.send(CLASSIFIED.name, classified("H-4"))
    assert world.handlers.timer.index.next_due() is None
    world.clock.set(T0 + 60 * MIN)
    await world.fire_due()
    assert world.publisher.sent == []


async def test_bad_input_is_rejected_with_the_original_bytes(world: World) -> None:
    origin = Origin(topic=CLASSIFIED.name, partition=1, offset=7, key=b"k")
    await world.handlers.classified(b"\xff not json", [], origin)
    record = encode(classified("H-5"), source="/tests", id="x", time=T0)
    wrong_key = Origin(topic=CLASSIFIED.name, partition=1, offset=8, key=b"other")
    await world.handlers.classified(record.value, record.headers, wrong_key)
    reasons = [(r.reason, r.original, r.offset) for r in world.publisher.dead_letters]
    assert reasons == [
        ("invalid_envelope", b"\xff not json", 7),
        ("invalid_envelope", record.value, 8),
    ]
    assert world.store.get("H-5") is None


async def test_rebuild_restores_the_index_from_the_store(world: World) -> None:
    await world.send(CLASSIFIED.name, classified("H-6"), partition=1)
    await world.send(CLASSIFIED.name, classified("H-7", accepted_at=T0 + MIN), partition=4)
    world.handlers.revoke({1, 4})
    assert len(world.handlers.timer.index) == 0
    world.handlers.rebuild({4})
    assert world.handlers.timer.index.next_due() == T0 + 11 * MIN
    assert world.metric("complaints_escalation_open_complaints", severity="red") == 1


async def test_a_burst_is_one_batch_and_each_complaint_escalates_once(world: World) -> None:
    for i in range(30):
        await world.send(CLASSIFIED.name, classified(f"B-{i}"))
    await world.send(LIFECYCLE.name, lifecycle("B-7", LifecycleAction.ACKNOWLEDGED, at=T0))
    world.clock.set(T0 + 10 * MIN)
    await world.fire_due()
    ids = [e.complaint_id for e in world.publisher.sent]
    assert sorted(ids) == sorted(f"B-{i}" for i in range(30) if i != 7)
    # One due record for the burst, one `fired` record after its sends were acknowledged.
    assert world.metric("complaints_escalation_events_total", source="timer") == 2
    await world.fire_due()  # nothing new is due at the same instant
    assert len(world.publisher.sent) == 29


async def test_a_due_message_written_before_batches_is_still_read(world: World) -> None:
    await world.send(CLASSIFIED.name, classified("L-1"))
    state = world.store.get("L-1")
    assert state is not None
    world.clock.set(T0 + 10 * MIN)
    single = b'{"complaint_id": "L-1", "token": %d, "due_at": "%s"}' % (
        state.version,
        (T0 + 10 * MIN).isoformat().encode(),
    )
    await world.due(single)
    assert [e.complaint_id for e in world.publisher.sent] == ["L-1"]


async def test_a_redelivered_event_rewrites_the_state_for_the_changelog(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    puts: list[int] = []
    real_put = world.store.put

    def counting_put(state: object, *, partition: int) -> None:
        puts.append(partition)
        real_put(state, partition=partition)  # type: ignore[arg-type]

    monkeypatch.setattr(world.store, "put", counting_put)
    event = classified("H-8")
    await world.send(CLASSIFIED.name, event)
    version = world.store.get("H-8").version  # type: ignore[union-attr]
    await world.send(CLASSIFIED.name, event)  # redelivered after a crash
    assert len(puts) == 2
    assert world.store.get("H-8").version == version  # type: ignore[union-attr]
    assert (
        world.metric(
            "complaints_escalation_transitions_total", source="classified", outcome="duplicate"
        )
        == 1
    )


async def test_a_record_whose_handling_raises_is_dead_lettered_with_the_error(
    world: World,
) -> None:
    origin = Origin(topic=CLASSIFIED.name, partition=1, offset=9, key=b"H-9")

    async def failed(exc: Exception) -> None:
        await world.handlers.failed(b"raw", origin, exc)

    async def broken() -> None:
        raise ZeroDivisionError("policy divides by zero")

    await handle_record(broken, origin=origin, failed=failed, retryable=())
    [dead] = world.publisher.dead_letters
    assert (dead.reason, dead.original, dead.offset) == ("processing_failed", b"raw", 9)
    assert "policy divides by zero" in dead.detail


POLICY_FILE = Path(__file__).resolve().parents[3] / "config" / "escalation" / "policy.yaml"


async def test_a_complaint_past_the_holiday_data_is_scheduled_and_counted(world: World) -> None:
    world.handlers.policy = load_policy(POLICY_FILE, holiday_data=load_chinese_holidays())
    accepted = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
    await world.send(CLASSIFIED.name, classified("H-2027", accepted_at=accepted))
    state = world.store.get("H-2027")
    assert state is not None
    assert {k.name for k in state.clocks} >= {"response", "closure"}
    assert world.publisher.dead_letters == []
    assert (
        world.metric(
            "complaints_escalation_provisional_clocks_total", calendar="cn-days", year="2027"
        )
        == 1
    )
    # A redelivery recomputes nothing new: not counted again.
    await world.send(CLASSIFIED.name, classified("H-2027", accepted_at=accepted))
    assert (
        world.metric(
            "complaints_escalation_provisional_clocks_total", calendar="cn-days", year="2027"
        )
        == 1
    )


async def test_a_deadline_that_cannot_be_computed_is_dead_lettered(world: World) -> None:
    world.handlers.policy = load_policy(POLICY_FILE, holiday_data=load_chinese_holidays())
    await world.send(CLASSIFIED.name, classified("H-legacy"))
    state = world.store.get("H-legacy")
    assert state is not None
    # A state written before calendars were frozen, naming a calendar the policy lost.
    legacy = dataclasses.replace(
        state,
        clocks=tuple(
            dataclasses.replace(k, calendar="gone", calendar_spec=None)
            if k.name == "closure"
            else k
            for k in state.clocks
        ),
    )
    world.store.put(legacy, partition=2)
    await world.send(LIFECYCLE.name, lifecycle("H-legacy", LifecycleAction.PAUSED, at=T0 + MIN))
    [letter] = world.publisher.dead_letters
    assert letter.reason == "processing_failed"
    assert "unknown calendar 'gone'" in letter.detail
    assert letter.original  # the record as it arrived
    assert world.metric("complaints_escalation_calendar_errors_total", reason="calendar") == 1


async def test_a_duplicate_sends_its_original_a_link_and_the_originals_alert_names_both() -> None:
    world = World()
    links: list[ComplaintLifecycleEvent] = []

    async def collect(event: ComplaintLifecycleEvent) -> None:
        links.append(event)

    world.handlers.links = collect
    await world.send(CLASSIFIED.name, classified("OC-1"))
    original = classified("OC-2")
    dup = original.model_copy(
        update={
            "complaint_id": "OC-2",
            "duplicate_of": "OC-1",
            "complaint": original.complaint.model_copy(update={"channel": Channel.HOTLINE}),
        }
    )
    await world.send(CLASSIFIED.name, dup)
    await world.send(CLASSIFIED.name, dup)  # a redelivery sends the (idempotent) link again
    assert [(e.complaint_id, e.linked_complaint_id) for e in links] == [("OC-1", "OC-2")] * 2
    for link in links:  # what the lifecycle topic brings back to the original's worker
        await world.send(LIFECYCLE.name, link)
    world.clock.set(T0 + 10 * MIN)
    await world.fire_due()
    assert [(e.complaint_id, e.channels) for e in world.publisher.sent] == [
        ("OC-1", (Channel.APP, Channel.HOTLINE))
    ]


async def test_escalations_prepared_ahead_go_out_at_the_instant_unless_acknowledged_meanwhile(
    world: World,
) -> None:
    for cid in ("P-1", "P-2"):
        await world.send(CLASSIFIED.name, classified(cid))
    world.clock.set(T0 + 10 * MIN - timedelta(seconds=2))  # handed over 2 s ahead
    entries = world.handlers.timer.index.pop_due(T0 + 10 * MIN)
    batch = DueBatch(tuple(DueMessage(e.complaint_id, e.token, e.due_at) for e in entries))
    await world.handlers.due(batch.to_bytes(), Origin("due", 2, 0, None))
    await world.release()
    assert world.publisher.sent == []
    assert len(world.handlers.release) == 2
    await world.send(LIFECYCLE.name, lifecycle("P-2", LifecycleAction.ACKNOWLEDGED, at=T0))
    world.clock.set(T0 + 10 * MIN)
    await world.release()
    assert [(e.complaint_id, e.escalated_at) for e in world.publisher.sent] == [
        ("P-1", T0 + 10 * MIN)
    ]
    state = world.store.get("P-1")
    assert state is not None
    assert len(state.fired) == 1
    assert world.handlers.timer.index.next_due() == T0 + 20 * MIN


async def test_revoked_partitions_drop_what_was_held_for_them(world: World) -> None:
    await world.send(CLASSIFIED.name, classified("R-1"))
    entries = world.handlers.timer.index.pop_due(T0 + 10 * MIN)
    batch = DueBatch(tuple(DueMessage(e.complaint_id, e.token, e.due_at) for e in entries))
    await world.handlers.due(batch.to_bytes(), Origin("due", 2, 0, None))
    world.handlers.revoke({2})
    world.clock.set(T0 + 10 * MIN)
    await world.release()
    assert world.publisher.sent == []
    assert len(world.handlers.release) == 0
