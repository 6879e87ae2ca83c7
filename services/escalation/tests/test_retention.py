"""Retention of closed complaints with a fake clock, store and publisher: a closed complaint's
state goes once closed for the retention and once the console has read its closing; open
ones, recent ones and everything while retention is off stay."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from complaints_escalation.domain.retention import RetentionPolicy, closed_at, expired
from complaints_escalation.domain.state import Status
from complaints_escalation.outbound.retention import (
    PURGE_TOKEN,
    NoGate,
    RetainingStore,
    RetentionMetrics,
    RetentionSweeper,
)
from complaints_escalation.scheduling.due_message import DueBatch
from complaints_kit.records import Origin
from complaints_schemas.events import LifecycleAction
from complaints_schemas.topics import CLASSIFIED, LIFECYCLE

from .factories import T0, classified, lifecycle
from .test_handlers import World

DAY = timedelta(days=1)
KEEP = RetentionPolicy(after=30 * DAY)


class FakeGate:
    """The console's lifecycle offsets: committed moves when the test says it has read."""

    def __init__(self) -> None:
        self.ends = {2: 10}
        self.committed: dict[int, int] = {}

    def snapshot(self) -> dict[int, int]:
        return dict(self.ends)

    def caught_up(self, snapshot: Mapping[int, int]) -> set[int]:
        return {p for p, end in snapshot.items() if self.committed.get(p, -1) >= end}


class RetentionWorld(World):
    def __init__(self, policy: RetentionPolicy = KEEP) -> None:
        super().__init__()
        self.inner = self.store
        self.gate = FakeGate()
        self.handling_due = False  # what faust.current_event() tells in the service
        self.retaining = RetainingStore(
            self.inner,
            policy=policy,
            clock=self.clock,
            metrics=RetentionMetrics(CollectorRegistry()),
            purging_now=lambda: self.handling_due,
        )
        self.handlers.store = self.retaining
        self.sweeper = RetentionSweeper(
            store=self.retaining,
            gate=self.gate,
            publish_due=self.publish_due,
            owned=lambda: {2},
            clock=self.clock,
            policy=policy,
            interval=timedelta(minutes=10),
        )
        self.purge_requests: list[tuple[DueBatch, int]] = []

    async def publish_due(self, batch: DueBatch, partition: int) -> None:
        self.purge_requests.append((batch, partition))

    async def deliver_purges(self) -> None:
        """What the due agent does with the purge requests, on their partition."""
        self.handling_due = True
        for batch, partition in self.purge_requests:
            await self.handlers.due(batch.to_bytes(), Origin("due", partition, 0, None))
        self.purge_requests.clear()
        self.handling_due = False

    async def close(self, cid: str) -> None:
        await self.send(CLASSIFIED.name, classified(cid))
        await self.send(LIFECYCLE.name, lifecycle(cid, LifecycleAction.CLOSED, at=self.clock.now()))


def test_closing_time_and_expiry() -> None:
    assert expired  # the rules are pure: state, now and policy in
    assert RetentionPolicy().enabled is False


async def test_a_closed_complaint_goes_after_retention_and_the_console() -> None:
    world = RetentionWorld()
    await world.close("CLOSED-1")
    await world.send(CLASSIFIED.name, classified("OPEN-1"))
    state = world.inner.get("CLOSED-1")
    assert state is not None
    assert state.status is Status.CLOSED
    assert closed_at(state) == T0
    assert await world.sweeper.sweep() == 0  # closed just now: kept

    world.clock.advance(31 * DAY)
    assert await world.sweeper.sweep() == 0  # ripe; the console's offsets noted
    assert await world.sweeper.sweep() == 0  # the console has not read up to them yet
    assert world.inner.get("CLOSED-1") is not None
    world.gate.committed[2] = 10
    assert await world.sweeper.sweep() == 1
    ((batch, partition),) = world.purge_requests
    assert partition == 2
    assert [(m.complaint_id, m.token) for m in batch.items] == [("CLOSED-1", PURGE_TOKEN)]
    await world.deliver_purges()
    assert world.inner.get("CLOSED-1") is None  # deleted: a tombstone on a real table
    assert world.inner.get("OPEN-1") is not None  # open: never a candidate
    assert world.metric("complaints_escalation_due_dropped_total", reason="unknown") == 1
    assert await world.sweeper.sweep() == 0  # nothing left to do, nothing sent twice


async def test_a_complaint_reopened_before_its_purge_is_kept() -> None:
    world = RetentionWorld()
    world.gate.committed[2] = 10
    await world.close("REOPEN-1")
    world.clock.advance(31 * DAY)
    await world.sweeper.sweep()
    assert await world.sweeper.sweep() == 1
    at = world.clock.now()
    # The reopening arrives between the purge request and its handling: it reads the state.
    await world.send(LIFECYCLE.name, lifecycle("REOPEN-1", LifecycleAction.REOPENED, at=at))
    await world.deliver_purges()
    state = world.inner.get("REOPEN-1")
    assert state is not None
    assert state.status is Status.OPEN  # the whole state, reopened: not purged, not restarted
    assert state.classification is not None


async def test_after_a_restart_closed_complaints_are_found_from_the_summaries() -> None:
    world = RetentionWorld()
    world.gate.committed[2] = 10
    await world.close("OLD-1")
    # A new worker: nothing noted yet but what the rebuild reads.
    restarted = RetentionWorld()
    restarted.inner.data = world.inner.data
    restarted.handlers.rebuild({2})
    assert "OLD-1" in restarted.retaining.closed
    restarted.gate.committed[2] = 10
    restarted.clock.advance(31 * DAY)
    await restarted.sweeper.sweep()
    assert await restarted.sweeper.sweep() == 1
    await restarted.deliver_purges()
    assert restarted.inner.get("OLD-1") is None


@pytest.mark.parametrize("policy", [RetentionPolicy(), RetentionPolicy(after=365 * DAY)])
async def test_off_or_long_keeps_everything(policy: RetentionPolicy) -> None:
    world = RetentionWorld(policy)
    world.gate.committed[2] = 10
    await world.close("KEPT-1")
    world.clock.advance(31 * DAY)
    if policy.enabled:
        await world.sweeper.sweep()
        assert await world.sweeper.sweep() == 0
    assert world.inner.get("KEPT-1") is not None
    assert NoGate().caught_up({2: 10}) >= {2}
