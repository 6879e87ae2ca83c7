from __future__ import annotations

import pytest

from complaints_kit.records import RETRY_MAX_S, OffsetGaps, Origin, handle_record

ORIGIN = Origin(topic="t", partition=1, offset=7)


class BrokerDown(Exception):
    pass


class Recorder:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0
        self.slept: list[float] = []
        self.dead_letters: list[Exception] = []

    async def handle(self) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    async def failed(self, exc: Exception) -> None:
        self.dead_letters.append(exc)

    async def run(self) -> None:
        await handle_record(
            self.handle,
            origin=ORIGIN,
            failed=self.failed,
            retryable=(BrokerDown,),
            sleep=self.sleep,
        )


async def test_broker_trouble_is_retried_with_growing_capped_backoff_until_it_passes() -> None:
    r = Recorder([BrokerDown() for _ in range(8)])
    await r.run()
    assert r.calls == 9
    assert r.dead_letters == []
    assert r.slept[:3] == [0.1, 0.2, 0.4]
    assert max(r.slept) == RETRY_MAX_S
    assert r.slept == sorted(r.slept)


async def test_a_bug_dead_letters_the_record_once_and_is_not_retried() -> None:
    bug = KeyError("severity")
    r = Recorder([BrokerDown(), bug])
    await r.run()
    assert r.calls == 2
    assert r.dead_letters == [bug]


async def test_success_neither_sleeps_nor_dead_letters() -> None:
    r = Recorder([])
    await r.run()
    assert (r.calls, r.slept, r.dead_letters) == (1, [], [])


async def test_a_dead_letter_is_retried_through_broker_trouble_too() -> None:
    r = Recorder([ValueError("bug")])
    outcomes: list[Exception] = [BrokerDown(), BrokerDown()]

    async def failed(exc: Exception) -> None:
        if outcomes:
            raise outcomes.pop(0)
        r.dead_letters.append(exc)

    await handle_record(
        r.handle, origin=ORIGIN, failed=failed, retryable=(BrokerDown,), sleep=r.sleep
    )
    assert (r.calls, len(r.dead_letters), r.slept) == (1, 1, [0.1, 0.2])


async def test_a_dead_letter_that_cannot_be_written_is_raised_not_dropped() -> None:
    async def failed(exc: Exception) -> None:
        raise TypeError("cannot encode")

    async def handle() -> None:
        raise ValueError("bug")

    with pytest.raises(TypeError):
        await handle_record(handle, origin=ORIGIN, failed=failed, retryable=(BrokerDown,))


def test_contiguous_offsets_and_a_rewind_are_not_gaps() -> None:
    gaps = OffsetGaps()
    seen = [gaps.missing_from(Origin("t", 0, o)) for o in (5, 6, 7, 3, 4, 5, 6, 7, 8)]
    assert seen == [None] * 9


def test_a_jump_names_the_first_skipped_offset_per_partition() -> None:
    gaps = OffsetGaps()
    assert gaps.missing_from(Origin("t", 0, 0)) is None
    assert gaps.missing_from(Origin("t", 1, 10)) is None
    assert gaps.missing_from(Origin("t", 0, 13)) == 1
    assert gaps.missing_from(Origin("t", 1, 11)) is None
    assert gaps.missing_from(Origin("u", 0, 40)) is None  # first record of another topic
    # read again from 1: the records up to 13 follow, then on without another gap
    assert [gaps.missing_from(Origin("t", 0, o)) for o in range(1, 16)] == [None] * 15


def test_a_revoked_partition_starts_afresh() -> None:
    gaps = OffsetGaps()
    gaps.missing_from(Origin("t", 0, 4))
    gaps.forget({("t", 0)})
    assert gaps.missing_from(Origin("t", 0, 90)) is None  # another worker handled 5..89


def test_reading_again_after_retention_deleted_the_gap_is_a_rewind() -> None:
    gaps = OffsetGaps()
    gaps.missing_from(Origin("t", 0, 2))
    assert gaps.missing_from(Origin("t", 0, 50)) == 3
    # offset 3 is gone: the consumer resets to the log start, 40, and reads on
    assert [gaps.missing_from(Origin("t", 0, o)) for o in range(40, 55)] == [None] * 15


def test_a_partition_without_progress_between_two_checks_is_stalled() -> None:
    gaps = OffsetGaps()
    gaps.missing_from(Origin("t", 0, 4))
    ends = {("t", 0): 9, ("t", 1): 30, ("t", 2): 5}
    committed = {("t", 1): 12, ("t", 2): 5}
    assert gaps.stalled(ends, committed) == {}  # a first look proves nothing
    gaps.missing_from(Origin("t", 0, 5))  # partition 0 moves on
    assert gaps.stalled(ends, committed) == {("t", 1): 12}  # 1 never delivered; 2 is done
    gaps.missing_from(Origin("t", 1, 12))
    assert gaps.stalled(ends, committed) == {("t", 0): 6}  # 0 stopped at 6 while 9 exist


def test_nothing_is_stalled_while_a_record_is_being_handled() -> None:
    """A handler blocked for minutes (a flush under a burst) is not a consumer stall."""
    gaps = OffsetGaps()
    gaps.missing_from(Origin("t", 0, 4))
    ends = {("t", 0): 9, ("t", 1): 30}
    committed = {("t", 1): 12}
    assert gaps.stalled(ends, committed) == {}
    gaps.handling += 1
    assert gaps.stalled(ends, committed) == {}  # no progress, but the agent is busy
    assert gaps.stalled(ends, committed) == {}
    gaps.handling -= 1
    assert gaps.stalled(ends, committed) == {}  # the interval starts again after it
    assert gaps.stalled(ends, committed) == {("t", 0): 5, ("t", 1): 12}


def test_a_partition_starts_at_its_committed_offset_unless_records_were_seen() -> None:
    gaps = OffsetGaps()
    gaps.expect(("t", 0), 4)
    assert gaps.missing_from(Origin("t", 0, 5)) == 4  # 4 acknowledged by faust, never handled
    gaps.expect(("t", 0), 9)  # committed moved on: what was seen counts
    assert gaps.missing_from(Origin("t", 0, 6)) is None
    gaps.expect(("t", 1), None)
    assert gaps.missing_from(Origin("t", 1, 70)) is None
