"""A due-time index per assigned partition: heaps of (due_at, complaint_id, token)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, order=True)
class DueEntry:
    due_at: datetime
    complaint_id: str
    token: int
    partition: int


class DueIndex:
    """Earliest deadline first; a reschedule supersedes the old entry (lazy deletion)."""

    def __init__(self) -> None:
        self._heaps: dict[int, list[DueEntry]] = {}
        # complaint id -> the one live entry; heap entries that differ from it are stale.
        self._live: dict[str, DueEntry] = {}

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, complaint_id: object) -> bool:
        return complaint_id in self._live

    @property
    def partitions(self) -> frozenset[int]:
        return frozenset(self._heaps)

    def schedule(
        self, *, complaint_id: str, partition: int, due_at: datetime | None, token: int
    ) -> bool:
        """Set (or clear, with None) a complaint's due instant; True if it is the new earliest."""
        if due_at is None:
            self._live.pop(complaint_id, None)
            return False
        entry = DueEntry(due_at=due_at, complaint_id=complaint_id, token=token, partition=partition)
        if self._live.get(complaint_id) == entry:
            return False
        earliest = self.next_due()
        self._live[complaint_id] = entry
        heapq.heappush(self._heaps.setdefault(partition, []), entry)
        return earliest is None or due_at < earliest

    def due_instants(self) -> list[datetime]:
        """Every live entry's due instant (one per complaint with a pending step).

        Safe from another thread (metrics are generated off the event loop): the entries are
        copied in one C-level call the loop cannot interleave with.
        """
        return [entry.due_at for entry in list(self._live.values())]

    def next_due(self) -> datetime | None:
        """The earliest live due instant over all partitions."""
        tops = [top.due_at for top in (self._top(p) for p in list(self._heaps)) if top is not None]
        return min(tops, default=None)

    def upcoming(self, until: datetime) -> list[DueEntry]:
        """Every live entry due at or before `until`, earliest first (nothing removed).

        Walks each heap only below entries that are due by then: O(k log k) for k entries,
        whatever the index holds beyond `until`.
        """
        out: list[DueEntry] = []
        live = self._live
        for heap in self._heaps.values():
            stack = [0] if heap else []
            while stack:
                i = stack.pop()
                entry = heap[i]
                if entry.due_at > until:
                    continue
                if live.get(entry.complaint_id) == entry:
                    out.append(entry)
                stack.extend(j for j in (2 * i + 1, 2 * i + 2) if j < len(heap))
        out.sort()
        return out

    def pop_due(self, now: datetime) -> list[DueEntry]:
        """Remove and return every live entry due at or before `now`, earliest first."""
        out: list[DueEntry] = []
        for partition in list(self._heaps):
            heap = self._heaps[partition]
            while (top := self._top(partition)) is not None and top.due_at <= now:
                heapq.heappop(heap)
                del self._live[top.complaint_id]
                out.append(top)
        return sorted(out)

    def assign(self, partitions: Iterable[int]) -> None:
        """Own these partitions (empty heaps until rebuilt)."""
        for partition in partitions:
            self._heaps.setdefault(partition, [])

    def revoke(self, partitions: Iterable[int]) -> None:
        """Forget partitions another worker now owns."""
        for partition in partitions:
            for entry in self._heaps.pop(partition, []):
                if self._live.get(entry.complaint_id) == entry:
                    del self._live[entry.complaint_id]

    def rebuild(self, partition: int, entries: Iterable[DueEntry]) -> None:
        """Replace one partition's heap (after recovery) with the given entries."""
        self.revoke([partition])
        heap = [e for e in entries if e.partition == partition]
        heapq.heapify(heap)
        self._heaps[partition] = heap
        self._live.update((e.complaint_id, e) for e in heap)

    def _top(self, partition: int) -> DueEntry | None:
        heap = self._heaps[partition]
        while heap and self._live.get(heap[0].complaint_id) != heap[0]:
            heapq.heappop(heap)  # superseded or cleared
        return heap[0] if heap else None
