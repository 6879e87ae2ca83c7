"""Where complaint states live: a faust table backed by a changelog topic, keyed by complaint id."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from typing import Protocol

from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.outbound import state_codec
from complaints_escalation.outbound.state_codec import Summary, UnreadableState

log = logging.getLogger(__name__)


class StateStore(Protocol):
    def get(self, complaint_id: str) -> ComplaintState | None: ...

    def version(self, complaint_id: str) -> int | None:
        """The stored state's version, without decoding the state."""
        ...

    def put(self, state: ComplaintState, *, partition: int) -> None: ...

    def delete(self, complaint_id: str) -> None:
        """Forget a state (a tombstone in the changelog); inside stream processing."""
        ...

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        """Every stored state with the partition it belongs to."""
        ...

    def summaries(self) -> Iterator[Summary]:
        """What a rebuild needs of every stored state, without decoding the states."""
        ...


class TableStateStore:
    """States encoded by `state_codec` in a table of raw bytes.

    The states written or read last are kept decoded: a complaint is usually touched again
    soon (the due handler re-reads after publishing; an acknowledgement follows its
    classification), and decoding costs more than the transition. A cached state is used
    only while the table still holds the very bytes object it was decoded from.

    Writes must happen inside stream processing (faust sends the changelog record to the
    partition of the event being processed).
    """

    def __init__(self, table: MutableMapping[str, bytes], *, cache_size: int = 4096) -> None:
        self._table = table
        self._recent: OrderedDict[str, tuple[bytes, ComplaintState]] = OrderedDict()
        self._cache_size = cache_size

    def get(self, complaint_id: str) -> ComplaintState | None:
        raw = self._table.get(complaint_id)
        if raw is None:
            return None
        hit = self._recent.get(complaint_id)
        if hit is not None and hit[0] is raw:
            return hit[1]
        try:
            state = state_codec.decode(raw)[1]
        except UnreadableState:
            log.exception("unreadable state in the table; ignored", extra={"key": complaint_id})
            return None
        self._remember(complaint_id, raw, state)
        return state

    def version(self, complaint_id: str) -> int | None:
        raw = self._table.get(complaint_id)
        if raw is None:
            return None
        hit = self._recent.get(complaint_id)
        if hit is not None and hit[0] is raw:
            return hit[1].version
        try:
            return state_codec.summary(complaint_id, raw).token
        except UnreadableState:
            return None

    def put(self, state: ComplaintState, *, partition: int) -> None:
        raw = state_codec.encode(state, partition=partition)
        self._table[state.complaint_id] = raw
        self._remember(state.complaint_id, raw, state)

    def delete(self, complaint_id: str) -> None:
        """Forget a state: a tombstone on the changelog (inside stream processing only)."""
        self._recent.pop(complaint_id, None)
        if complaint_id in self._table:
            del self._table[complaint_id]

    def _remember(self, complaint_id: str, raw: bytes, state: ComplaintState) -> None:
        self._recent[complaint_id] = (raw, state)
        self._recent.move_to_end(complaint_id)
        if len(self._recent) > self._cache_size:
            self._recent.popitem(last=False)

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        for key, raw in list(self._table.items()):
            try:
                yield state_codec.decode(raw)
            except UnreadableState:
                log.exception("unreadable state in the table; ignored", extra={"key": key})

    def summaries(self) -> Iterator[Summary]:
        # No copy of a million items: the rebuild reads them without yielding to the loop.
        for key, raw in self._table.items():
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

    def version(self, complaint_id: str) -> int | None:
        found = self.data.get(complaint_id)
        return None if found is None else found[1].version

    def put(self, state: ComplaintState, *, partition: int) -> None:
        self.data[state.complaint_id] = (partition, state)

    def delete(self, complaint_id: str) -> None:
        self.data.pop(complaint_id, None)

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        yield from list(self.data.values())

    def summaries(self) -> Iterator[Summary]:
        for cid, (partition, state) in list(self.data.items()):
            yield state_codec.summary(cid, state_codec.encode(state, partition=partition))
