"""Token bucket (pure) and the grouping channel: groups per cluster, digests over the limit."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from complaints_kit.clock import FakeClock
from complaints_notifier.domain.notification import Notification, Route
from complaints_notifier.domain.outcome import Delivered, Outcome, Retryable
from complaints_notifier.domain.throttle import TokenBucket, group_key
from complaints_notifier.metrics import NotifierMetrics
from complaints_notifier.outbound.grouping import GroupingChannel

from .factories import T0, escalated


@pytest.mark.parametrize(
    ("limit", "capacity", "per_minute"),
    [(20, 5, 15), (100, 25, 75), (1, 1, 1), (3, 1, 2)],
)
def test_bucket_under_limit(limit: int, capacity: float, per_minute: float) -> None:
    bucket = TokenBucket.under_limit(limit)
    assert (bucket.capacity, bucket.per_minute) == (capacity, per_minute)


def test_bucket_never_exceeds_limit_in_any_minute() -> None:
    bucket = TokenBucket.under_limit(20)
    sent: list[datetime] = []
    now = T0
    for _ in range(2000):  # try every 0.5 s for 1000 s
        if bucket.take(now):
            sent.append(now)
        now += timedelta(seconds=0.5)
    for i, start in enumerate(sent):
        assert sum(1 for t in sent[i:] if t < start + timedelta(minutes=1)) <= 20
    assert len(sent) >= 15 * 16  # and it does use its budget


def test_bucket_next_token_and_drain() -> None:
    bucket = TokenBucket(capacity=1, per_minute=30)
    assert bucket.take(T0)
    assert not bucket.take(T0)
    assert bucket.next_token_at(T0) == T0 + timedelta(seconds=2)
    assert bucket.take(T0 + timedelta(seconds=2))
    bucket.drain(T0 + timedelta(seconds=10))
    assert not bucket.take(T0 + timedelta(seconds=10))


def test_group_key_uses_cluster_or_complaint() -> None:
    a = Notification(escalated("e1").model_copy(update={"cluster_id": "k"}), Route("r", "c"))
    b = Notification(
        escalated("e2", complaint_id="c-2").model_copy(update={"cluster_id": "k"}),
        Route("r", "c"),
    )
    c = Notification(escalated("e3", complaint_id="c-3"), Route("r", "c"))
    assert group_key(a) == group_key(b) != group_key(c)


class Robot:
    name = "robot"

    def __init__(self, outcomes: list[Outcome] | None = None) -> None:
        self.messages: list[Notification] = []
        self.outcomes = outcomes or []

    async def send(self, notification: Notification, *, now: datetime) -> Outcome:
        self.messages.append(notification)
        return self.outcomes.pop(0) if self.outcomes else Delivered()

    async def aclose(self) -> None:
        pass


async def run_until_done(clock: FakeClock, tasks: list[asyncio.Task[Outcome]]) -> None:
    for _ in range(1000):
        await asyncio.sleep(0)
        if all(t.done() for t in tasks):
            return
        clock.advance(timedelta(seconds=0.5))
    raise AssertionError("not all sends finished")


def members(n: Notification) -> int:
    return len(n.context.folded) or 1


async def test_robot_over_its_limit_gets_one_digest_not_dropped_alerts() -> None:
    clock = FakeClock(T0)
    registry = CollectorRegistry()
    robot = Robot()
    channel = GroupingChannel(
        robot,
        clock=clock,
        metrics=NotifierMetrics(registry),
        bucket=TokenBucket.under_limit(20),
    )
    tasks = [
        asyncio.create_task(
            channel.send(
                Notification(escalated(f"e{i}", complaint_id=f"c{i}"), Route("r", "robot")),
                now=clock.now(),
            )
        )
        for i in range(30)
    ]
    await run_until_done(clock, tasks)
    assert all(t.result() == Delivered() for t in tasks)
    sizes = [members(m) for m in robot.messages]
    assert sizes == [1] * 5 + [25]  # the burst (5 tokens), then ONE digest of the rest
    assert sum(sizes) == 30
    digest = robot.messages[-1]
    assert {e.escalation_id for e in digest.context.folded} == {f"e{i}" for i in range(5, 30)}
    sample = registry.get_sample_value
    assert sample("complaints_notifier_digested_total", {"channel": "robot"}) == 25
    assert sample("complaints_notifier_digests_total", {"channel": "robot"}) == 1
    assert sample("complaints_notifier_rate_limited_total", {"channel": "robot"}) == 1


async def test_same_cluster_within_window_is_one_message_with_counts() -> None:
    clock = FakeClock(T0)
    robot = Robot()
    channel = GroupingChannel(
        robot,
        clock=clock,
        metrics=NotifierMetrics(CollectorRegistry()),
        window=timedelta(seconds=30),
    )
    same = [
        escalated(f"e{i}", complaint_id=f"c{i}").model_copy(update={"cluster_id": "k1"})
        for i in range(4)
    ]
    other = escalated("x", complaint_id="cx")
    tasks = [
        asyncio.create_task(channel.send(Notification(e, Route("r", "robot")), now=clock.now()))
        for e in [*same, other]
    ]
    await run_until_done(clock, tasks)
    assert sorted(members(m) for m in robot.messages) == [1, 4]
    grouped = next(m for m in robot.messages if members(m) == 4)
    assert [e.escalation_id for e in grouped.context.folded] == ["e0", "e1", "e2", "e3"]
    assert clock.now() >= T0 + timedelta(seconds=30)


async def test_peer_rate_limit_drains_the_bucket_and_members_get_the_outcome() -> None:
    clock = FakeClock(T0)
    robot = Robot([Retryable("dingtalk 130101: send too fast", rate_limited=True)])
    bucket = TokenBucket(capacity=5, per_minute=15)
    channel = GroupingChannel(
        robot, clock=clock, metrics=NotifierMetrics(CollectorRegistry()), bucket=bucket
    )
    task = asyncio.create_task(
        channel.send(Notification(escalated(), Route("r", "robot")), now=clock.now())
    )
    await run_until_done(clock, [task])
    assert isinstance(task.result(), Retryable)
    assert bucket.tokens < 1
