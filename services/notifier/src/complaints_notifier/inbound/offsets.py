"""Which offsets may be committed: never past an unfinished earlier offset of the partition."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

TopicPartitionKey = tuple[str, int]


@dataclass
class _Partition:
    generation: int
    first_started: int
    pending: set[int] = field(default_factory=set)
    next_offset: int = 0  # one past the highest offset started
    committed: int | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """Handed out when work on an offset starts; returned when it is finished."""

    topic: str
    partition: int
    offset: int
    generation: int


class OffsetTracker:
    """Thread-safe: tasks finish on the event loop, rebalance callbacks run in the poll thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._partitions: dict[TopicPartitionKey, _Partition] = {}
        self._generations = 0

    def start(self, topic: str, partition: int, offset: int) -> Ticket:
        with self._lock:
            state = self._partitions.get((topic, partition))
            if state is None:
                self._generations += 1
                state = _Partition(generation=self._generations, first_started=offset)
                self._partitions[(topic, partition)] = state
            state.pending.add(offset)
            state.next_offset = max(offset + 1, state.next_offset)
            return Ticket(topic, partition, offset, state.generation)

    def finish(self, ticket: Ticket) -> None:
        """Mark an offset's outcome as recorded; a ticket from before a revocation is ignored."""
        with self._lock:
            state = self._partitions.get((ticket.topic, ticket.partition))
            if state is not None and state.generation == ticket.generation:
                state.pending.discard(ticket.offset)

    def committable(
        self, only: Iterable[TopicPartitionKey] | None = None
    ) -> list[tuple[str, int, int]]:
        """(topic, partition, offset to commit) where the commit point moved since last time."""
        wanted = None if only is None else set(only)
        out: list[tuple[str, int, int]] = []
        with self._lock:
            for (topic, partition), state in self._partitions.items():
                if wanted is not None and (topic, partition) not in wanted:
                    continue
                point = min(state.pending) if state.pending else state.next_offset
                base = state.first_started if state.committed is None else state.committed
                if point > base:
                    out.append((topic, partition, point))
        return out

    def committed(self, offsets: Iterable[tuple[str, int, int]]) -> None:
        with self._lock:
            for topic, partition, offset in offsets:
                state = self._partitions.get((topic, partition))
                if state is not None:
                    state.committed = max(offset, state.committed or 0)

    def forget(self, partitions: Iterable[TopicPartitionKey]) -> None:
        """Drop revoked partitions: their unfinished work must not be committed by anyone here."""
        with self._lock:
            for key in partitions:
                self._partitions.pop(key, None)

    def pending(self) -> int:
        with self._lock:
            return sum(len(state.pending) for state in self._partitions.values())
