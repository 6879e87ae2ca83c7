"""Where complaint states live: a faust table backed by a changelog topic, keyed by complaint id."""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from typing import Any, Protocol

from complaints_escalation.domain.state import ComplaintState

log = logging.getLogger(__name__)


class StateStore(Protocol):
    def get(self, complaint_id: str) -> ComplaintState | None: ...

    def put(self, state: ComplaintState, *, partition: int) -> None: ...

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        """Every stored state with the partition it belongs to."""
        ...


class TableStateStore:
    """States as JSON in a table; the partition is stored alongside to rebuild per partition.

    Writes must happen inside stream processing (faust sends the changelog record to the
    partition of the event being processed).
    """

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self._table = table

    def get(self, complaint_id: str) -> ComplaintState | None:
        return _load(complaint_id, self._table.get(complaint_id))

    def put(self, state: ComplaintState, *, partition: int) -> None:
        self._table[state.complaint_id] = {"partition": partition, "state": state.to_json()}

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        for key, raw in list(self._table.items()):
            state = _load(key, raw)
            if state is not None:
                yield int(raw["partition"]), state


def _load(key: str, raw: Any) -> ComplaintState | None:
    if raw is None:
        return None
    try:
        return ComplaintState.from_json(raw["state"])
    except (KeyError, TypeError, ValueError):
        log.exception("unreadable state in the table; ignored", extra={"key": key})
        return None


class MemoryStateStore:
    """A dict-backed store for tests."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[int, ComplaintState]] = {}

    def get(self, complaint_id: str) -> ComplaintState | None:
        found = self.data.get(complaint_id)
        return None if found is None else found[1]

    def put(self, state: ComplaintState, *, partition: int) -> None:
        self.data[state.complaint_id] = (partition, state)

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        yield from list(self.data.values())
