"""The commit point never passes an unfinished earlier offset (table-driven, no broker)."""

from __future__ import annotations

import pytest

from complaints_notifier.inbound.offsets import OffsetTracker, Ticket

T = "complaints.escalated.v1"


@pytest.mark.parametrize(
    ("started", "finished", "expected"),
    [
        ([], [], []),
        ([5], [], []),  # nothing finished yet
        ([5], [5], [(T, 0, 6)]),
        ([5, 6, 7], [6, 7], []),  # 5 unfinished: 6 and 7 wait for it
        ([5, 6, 7], [5, 7], [(T, 0, 6)]),  # up to the first unfinished
        ([5, 6, 7], [5, 6, 7], [(T, 0, 8)]),
        ([5, 9, 12], [5, 9, 12], [(T, 0, 13)]),  # gaps (compaction, markers) are fine
    ],
)
def test_commit_point(started: list[int], finished: list[int], expected: list[object]) -> None:
    tracker = OffsetTracker()
    tickets = {offset: tracker.start(T, 0, offset) for offset in started}
    for offset in finished:
        tracker.finish(tickets[offset])
    assert tracker.committable() == expected


def test_partitions_are_independent_and_committed_points_are_not_repeated() -> None:
    tracker = OffsetTracker()
    a = tracker.start(T, 0, 10)
    tracker.start(T, 1, 3)
    tracker.finish(a)
    assert tracker.committable() == [(T, 0, 11)]
    tracker.committed([(T, 0, 11)])
    assert tracker.committable() == []
    b = tracker.start(T, 0, 11)
    tracker.finish(b)
    assert tracker.committable() == [(T, 0, 12)]
    assert tracker.committable(only=[(T, 1)]) == []


def test_a_ticket_from_before_revocation_does_not_finish_the_new_assignment() -> None:
    tracker = OffsetTracker()
    stale = tracker.start(T, 0, 4)
    tracker.forget([(T, 0)])
    fresh = tracker.start(T, 0, 4)
    tracker.finish(stale)
    assert tracker.committable() == []
    assert tracker.pending() == 1
    tracker.finish(fresh)
    assert tracker.committable() == [(T, 0, 5)]


def test_unknown_ticket_is_ignored() -> None:
    tracker = OffsetTracker()
    tracker.finish(Ticket(T, 3, 1, generation=99))
    assert tracker.committable() == []
