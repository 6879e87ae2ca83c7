"""Prepared work held until its instant, then handed over in one batch (no periodic scan)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from complaints_kit.clock import Clock, sleep_until_or_woken

log = logging.getLogger(__name__)

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Held(Generic[P]):
    """Something prepared for `partition` that must not go out before `at`."""

    at: datetime
    partition: int
    payload: P


class Release(Generic[P]):
    """Holds prepared items and calls `send` with every item whose instant has come.

    Items due at the same wake-up go out together (one `send`, one awaited delivery); the
    sleeper is woken when an earlier item is held.
    """

    def __init__(self, *, clock: Clock, send: Callable[[Sequence[Held[P]]], Awaitable[None]]):
        self._clock = clock
        self._send = send
        self._heap: list[tuple[datetime, int, Held[P]]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._heap)

    def hold(self, items: Iterable[Held[P]]) -> None:
        earliest = self._heap[0][0] if self._heap else None
        for item in items:
            heapq.heappush(self._heap, (item.at, next(self._seq), item))
        if self._heap and (earliest is None or self._heap[0][0] < earliest):
            self._wake.set()

    def drop(self, partitions: Iterable[int]) -> list[Held[P]]:
        """Forget what was held for partitions another worker now owns."""
        gone = set(partitions)
        dropped = [entry[2] for entry in self._heap if entry[2].partition in gone]
        if dropped:
            self._heap = [entry for entry in self._heap if entry[2].partition not in gone]
            heapq.heapify(self._heap)
        return dropped

    def pop_due(self, now: datetime) -> list[Held[P]]:
        out = []
        while self._heap and self._heap[0][0] <= now:
            out.append(heapq.heappop(self._heap)[2])
        return out

    async def run(self) -> None:
        """Loop forever: send what is due, then sleep until the next instant or a wake-up."""
        while True:
            self._wake.clear()
            due = self.pop_due(self._clock.now())
            if due:
                try:
                    await self._send(due)
                except Exception:  # send handles its own failures; never stop the loop
                    log.exception("sending held items failed", extra={"items": len(due)})
                continue
            await self._sleep(self._heap[0][0] if self._heap else None)

    async def _sleep(self, until: datetime | None) -> None:
        await sleep_until_or_woken(self._clock, self._wake, until)
