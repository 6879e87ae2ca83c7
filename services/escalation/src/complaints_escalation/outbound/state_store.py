"""Where complaint states live: a faust table backed by a changelog topic, keyed by complaint id."""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from typing import Protocol

from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.outbound import state_codec
from complaints_escalation.outbound.state_codec import Summary, UnreadableState

log = logging.getLogger(__name__)


class StateStore(Protocol):
    def get(self, complaint_id: str) -> ComplaintState | None: ...

    def put(self, state: ComplaintState, *, partition: int) -> None: ...

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        """Every stored state with the partition it belongs to."""
        ...

    def summaries(self) -> Iterator[Summary]:
        """What a rebuild needs of every stored state, without decoding the states."""
        ...


class TableStateStore:
    """States encoded by `state_codec` in a table of raw bytes.

    Writes must happen inside stream processing (faust sends the changelog record to the
    partition of the event being processed).
    """

    def __init__(self, table: MutableMapping[str, bytes]) -> None:
        self._table = table

    def get(self, complaint_id: str) -> ComplaintState | None:
        raw = self._table.get(complaint_id)
        if raw is None:
            return None
        try:
            return state_codec.decode(raw)[1]
        except UnreadableState:
            log.exception("unreadable state in the table; ignored", extra={"key": complaint_id})
            return None

    def put(self, state: ComplaintState, *, partition: int) -> None:
        self._table[state.complaint_id] = state_codec.encode(state, partition=partition)

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        for key, raw in list(self._table.items()):
            try:
                yield state_codec.decode(raw)
            except UnreadableState:
                log.exception("unreadable state in the table; ignored", extra={"key": key})

    def summaries(self) -> Iterator[Summary]:
        for key, raw in list(self._table.items()):
            try:
                yield state_codec.summary(key, raw)
            except UnreadableState:
                log.exception("unreadable state in the table; ignored", extra={"key": key})


class MemoryStateStore:
    """A dict-backed store for tests; summaries go through the real codec."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[int, ComplaintState]] = {}

    def get(self, complaint_id: str) -> ComplaintState | None:
        found = self.data.get(complaint_id)
        return None if found is None else found[1]

    def put(self, state: ComplaintState, *, partition: int) -> None:
        self.data[state.complaint_id] = (partition, state)

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        yield from list(self.data.values())

    def summaries(self) -> Iterator[Summary]:
        for cid, (partition, state) in list(self.data.items()):
            yield state_codec.summary(cid, state_codec.encode(state, partition=partition))
