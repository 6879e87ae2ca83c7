"""The changelog-backed state: written once per key and batch, restored per partition."""

from __future__ import annotations

import json
from datetime import timedelta

from complaints_classifier.domain.window import WindowEntry, WindowState
from complaints_classifier.outbound.state import ChangelogStore

from .factories import T0


class RecordingOutbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, int | None]] = []

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, str | bytes | None]] | None = None,
        *,
        partition: int | None = None,
    ) -> None:
        self.sent.append((topic, key, value, partition))


def state(*ids: str) -> WindowState:
    return WindowState(
        entries=tuple(
            WindowEntry(complaint_id=c, at=T0 + timedelta(minutes=n)) for n, c in enumerate(ids)
        )
    )


def store() -> ChangelogStore[WindowState]:
    return ChangelogStore(changelog="cls-windows-changelog", model=WindowState)


def test_a_key_changed_many_times_in_a_batch_is_written_once_with_its_newest_state() -> None:
    windows, outbox = store(), RecordingOutbox()
    windows.put("fp", state("C-1"), partition=3)
    windows.put("fp", state("C-1", "C-2"), partition=3)
    windows.put("other", state("C-9"), partition=1)
    assert windows.write(outbox) == 2
    assert windows.write(outbox) == 0
    by_key = {key: (value, partition) for _, key, value, partition in outbox.sent}
    value, partition = by_key[json.dumps("fp").encode()]
    assert partition == 3  # the changelog partition numbered like the input partition
    assert value is not None
    assert WindowState.model_validate_json(value) == state("C-1", "C-2")
    assert windows.get("fp", partition=3) == state("C-1", "C-2")


def test_restore_replays_a_partition_newest_last_with_tombstones() -> None:
    windows = store()
    windows.put("stale", state("C-0"), partition=0)
    records = [
        (b'"fp"', state("C-1").model_dump_json().encode()),
        (b'"gone"', state("C-5").model_dump_json().encode()),
        (b'"fp"', state("C-1", "C-2").model_dump_json().encode()),
        (b'"gone"', None),
        (b"not json", b"{}"),  # skipped with a warning, not a crash
    ]
    assert windows.restore(0, records) == 1
    assert windows.get("fp", partition=0) == state("C-1", "C-2")
    assert windows.get("gone", partition=0) is None
    assert windows.get("stale", partition=0) is None  # the changelog is the truth


def test_a_dropped_partition_forgets_its_state_and_its_unwritten_changes() -> None:
    windows, outbox = store(), RecordingOutbox()
    windows.put("a", state("C-1"), partition=0)
    windows.put("b", state("C-2"), partition=1)
    windows.drop(p for p in [0])
    assert windows.get("a", partition=0) is None
    assert windows.partitions() == {1}
    windows.write(outbox)
    assert [key for _, key, _, _ in outbox.sent] == [b'"b"']
