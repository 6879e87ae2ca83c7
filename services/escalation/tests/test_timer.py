"""Due index and timer task on a FakeClock: exact instants, wake-ups, stale entries; no sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest

from complaints_escalation.scheduling.index import DueEntry, DueIndex
from complaints_escalation.scheduling.release import Held, Release
from complaints_escalation.scheduling.timer import MAX_BATCH, RETRY_DELAY, Lookahead, Timer
from complaints_kit.clock import FakeClock

from .factories import T0

S = timedelta(seconds=1)


async def settle() -> None:
    """Let the timer task run until it blocks again."""
    for _ in range(20):
        await asyncio.sleep(0)


class Recorder:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.fired: list[tuple[DueEntry, object]] = []
        self.batches: list[int] = []
        self.failures = 0

    async def __call__(self, entries: Sequence[DueEntry]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unavailable")
        assert len({e.partition for e in entries}) == 1, "a batch holds one partition"
        self.batches.append(len(entries))
        self.fired.extend((entry, self.clock.now()) for entry in entries)

    @property
    def ids(self) -> list[str]:
        return [entry.complaint_id for entry, _ in self.fired]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def recorder(clock: FakeClock) -> Recorder:
    return Recorder(clock)


@pytest.fixture
async def timer(clock: FakeClock, recorder: Recorder) -> AsyncIterator[Timer]:
    timer = Timer(index=DueIndex(), clock=clock, fire=recorder)
    task = asyncio.create_task(timer.run())
    await settle()
    yield timer
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_fires_at_the_instant_not_before(
    timer: Timer, clock: FakeClock, recorder: Recorder
) -> None:
    timer.schedule(complaint_id="A", partition=0, due_at=T0 + 10 * S, token=1)
    await settle()
    clock.advance(10 * S - timedelta(microseconds=1))
    await settle()
    assert recorder.fired == []
    clock.advance(timedelta(microseconds=1))
    await settle()
    assert [(e.complaint_id, e.token, at) for e, at in recorder.fired] == [("A", 1, T0 + 10 * S)]


async def test_earlier_deadline_wakes_the_sleeper(
    timer: Timer, clock: FakeClock, recorder: Recorder
) -> None:
    timer.schedule(complaint_id="late", partition=0, due_at=T0 + 60 * S, token=1)
    await settle()
    timer.schedule(complaint_id="early", partition=3, due_at=T0 + 5 * S, token=1)
    await settle()
    clock.advance(5 * S)
    await settle()
    assert recorder.fired == [
        (DueEntry(due_at=T0 + 5 * S, complaint_id="early", token=1, partition=3), T0 + 5 * S)
    ]
    clock.advance(55 * S)
    await settle()
    assert recorder.ids == ["early", "late"]


async def test_overdue_entry_fires_at_once(
    timer: Timer, clock: FakeClock, recorder: Recorder
) -> None:
    timer.schedule(complaint_id="overdue", partition=1, due_at=T0 - 30 * S, token=4)
    await settle()
    assert recorder.ids == ["overdue"]


async def test_stale_entries_are_dropped(
    timer: Timer, clock: FakeClock, recorder: Recorder
) -> None:
    timer.schedule(complaint_id="A", partition=0, due_at=T0 + 5 * S, token=1)
    timer.schedule(complaint_id="A", partition=0, due_at=T0 + 8 * S, token=2)  # supersedes
    timer.schedule(complaint_id="B", partition=1, due_at=T0 + 6 * S, token=1)
    timer.schedule(complaint_id="B", partition=1, due_at=None, token=2)  # acknowledged
    await settle()
    clock.advance(10 * S)
    await settle()
    assert [(e.complaint_id, e.token) for e, _ in recorder.fired] == [("A", 2)]


async def test_same_instant_fires_every_entry_once(
    timer: Timer, clock: FakeClock, recorder: Recorder
) -> None:
    for i in range(5):
        timer.schedule(complaint_id=f"C{i}", partition=i % 3, due_at=T0 + 3 * S, token=1)
    await settle()
    clock.advance(3 * S)
    await settle()
    clock.advance(3 * S)
    await settle()
    assert sorted(recorder.ids) == [f"C{i}" for i in range(5)]


async def test_failed_fire_is_retried(timer: Timer, clock: FakeClock, recorder: Recorder) -> None:
    recorder.failures = 1
    timer.schedule(complaint_id="A", partition=0, due_at=T0 + S, token=1)
    await settle()
    clock.advance(S)
    await settle()
    assert recorder.fired == []
    clock.advance(RETRY_DELAY)
    await settle()
    assert recorder.ids == ["A"]


async def test_revoked_partition_does_not_fire(
    timer: Timer, clock: FakeClock, recorder: Recorder
) -> None:
    timer.schedule(complaint_id="mine", partition=0, due_at=T0 + S, token=1)
    timer.schedule(complaint_id="gone", partition=5, due_at=T0 + S, token=1)
    timer.index.revoke([5])
    timer.wake()
    clock.advance(S)
    await settle()
    assert recorder.ids == ["mine"]


def test_index_rebuild_replaces_a_partition() -> None:
    index = DueIndex()
    index.schedule(complaint_id="old", partition=2, due_at=T0, token=1)
    index.schedule(complaint_id="other", partition=4, due_at=T0 + S, token=1)
    index.rebuild(2, [DueEntry(due_at=T0 + 2 * S, complaint_id="new", token=7, partition=2)])
    assert "old" not in index
    assert index.next_due() == T0 + S
    assert [e.complaint_id for e in index.pop_due(T0 + 5 * S)] == ["other", "new"]
    assert len(index) == 0
    assert index.next_due() is None


@pytest.mark.parametrize(
    ("schedules", "expected_earlier"),
    [
        ([("A", 10)], [True]),
        ([("A", 10), ("B", 20)], [True, False]),
        ([("A", 10), ("B", 5)], [True, True]),
        ([("A", 10), ("A", 10)], [True, False]),  # identical entry: nothing new
    ],
)
def test_schedule_reports_a_new_earliest(
    schedules: list[tuple[str, int]], expected_earlier: list[bool]
) -> None:
    index = DueIndex()
    got = [
        index.schedule(complaint_id=cid, partition=0, due_at=T0 + sec * S, token=1)
        for cid, sec in schedules
    ]
    assert got == expected_earlier


async def test_a_burst_fires_in_batches_per_partition(
    timer: Timer, clock: FakeClock, recorder: Recorder
) -> None:
    n = 2 * MAX_BATCH + 7
    for i in range(n):
        timer.schedule(complaint_id=f"C{i}", partition=i % 2, due_at=T0 + S, token=1)
    await settle()
    clock.advance(S)
    await settle()
    assert len(recorder.fired) == n
    assert len(set(recorder.ids)) == n
    assert max(recorder.batches) == MAX_BATCH
    assert len(recorder.batches) == 4  # two partitions, each over one batch


def test_upcoming_lists_live_entries_due_by_an_instant_without_removing_them() -> None:
    index = DueIndex()
    for i in range(20):
        index.schedule(complaint_id=f"C{i}", partition=i % 3, due_at=T0 + i * S, token=1)
    index.schedule(complaint_id="C3", partition=0, due_at=T0 + 100 * S, token=2)  # moved away
    got = index.upcoming(T0 + 5 * S)
    assert [e.complaint_id for e in got] == ["C0", "C1", "C2", "C4", "C5"]
    assert len(index) == 20


def test_lookahead_hands_a_burst_over_by_the_expected_work() -> None:
    ahead = Lookahead(margin=timedelta(0), max_lead=60 * S, cost_s=0.01, safety=1.0)
    burst = [DueEntry(T0 + 10 * S, f"C{i}", 1, 0) for i in range(100)]  # 1 s of work
    until, wake = ahead.plan(T0, burst)
    assert until == T0  # nothing yet
    assert wake == T0 + 9 * S  # the 100th entry must start 100 x 10 ms before the instant
    until, wake = ahead.plan(T0 + 9 * S, burst)
    assert until == T0 + 10 * S
    assert wake is None


def test_lookahead_cost_is_wall_time_from_hand_over_per_entry_outstanding() -> None:
    ahead = Lookahead(cost_s=0.001)
    ahead.handed_over(("A", 1), at=T0, entries=100)
    ahead.handed_over(("B", 1), at=T0, entries=100)  # queued behind A
    ahead.prepared(("A", 1), at=T0 + S, entries=100)
    assert ahead.cost_s == pytest.approx(0.01)  # 1 s for 100: higher, taken at once
    ahead.prepared(("B", 1), at=T0 + 2 * S, entries=100)
    assert ahead.cost_s == pytest.approx(0.01)  # 2 s for the 200 outstanding at B's hand-over
    ahead.handed_over(("C", 1), at=T0 + 2 * S, entries=100)
    ahead.prepared(("C", 1), at=T0 + 2 * S + timedelta(milliseconds=100), entries=100)
    assert ahead.cost_s == pytest.approx(0.8 * 0.01 + 0.2 * 0.001)  # lower: averaged in
    ahead.prepared(("Z", 1), at=T0 + 3 * S, entries=100)  # handed over elsewhere: ignored
    assert ahead.cost_s == pytest.approx(0.8 * 0.01 + 0.2 * 0.001)


def test_a_burst_handed_over_late_moves_the_next_hand_over_earlier() -> None:
    ahead = Lookahead(margin=timedelta(0), max_lead=60 * S, cost_s=0.0001, safety=1.0)
    burst = [DueEntry(T0 + 10 * S, f"C{i}", 1, 0) for i in range(1000)]
    _, wake_before = ahead.plan(T0, burst)
    ahead.handed_over(("C0", 1), at=T0, entries=1000)
    ahead.prepared(("C0", 1), at=T0 + 5 * S, entries=1000)  # 5 ms each, not 0.1 ms
    _, wake_after = ahead.plan(T0, burst)
    assert wake_before == T0 + 9_900 * timedelta(milliseconds=1)
    assert wake_after == T0 + 5 * S  # 1000 x 5 ms before the instant


async def test_a_timer_with_lookahead_hands_over_early_and_never_past_the_horizon(
    clock: FakeClock, recorder: Recorder
) -> None:
    ahead = Lookahead(margin=timedelta(milliseconds=100), max_lead=5 * S, cost_s=0.0)
    timer = Timer(index=DueIndex(), clock=clock, fire=recorder, lookahead=ahead)
    task = asyncio.create_task(timer.run())
    try:
        timer.schedule(complaint_id="A", partition=0, due_at=T0 + 60 * S, token=1)
        await settle()
        clock.advance(59 * S)
        await settle()
        assert recorder.fired == []
        clock.advance(timedelta(milliseconds=900))  # the margin before the instant
        await settle()
        assert recorder.ids == ["A"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_release_sends_each_held_item_at_its_instant_and_drops_revoked_ones(
    clock: FakeClock,
) -> None:
    sent: list[tuple[list[str], object]] = []

    async def send(items: Sequence[Held[str]]) -> None:
        sent.append(([i.payload for i in items], clock.now()))

    release: Release[str] = Release(clock=clock, send=send)
    task = asyncio.create_task(release.run())
    try:
        release.hold([Held(T0 + 2 * S, 0, "late"), Held(T0 + S, 1, "early")])
        release.hold([Held(T0 + S, 1, "early2"), Held(T0 + S, 4, "gone")])
        assert [h.payload for h in release.drop([4])] == ["gone"]
        await settle()
        assert sent == []
        clock.advance(S)
        await settle()
        assert sent == [(["early", "early2"], T0 + S)]  # one send for the same instant
        clock.advance(S)
        await settle()
        assert sent[-1] == (["late"], T0 + 2 * S)
        assert len(release) == 0
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
