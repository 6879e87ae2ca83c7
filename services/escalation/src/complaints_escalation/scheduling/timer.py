"""The timer task: sleeps until the index's earliest due instant, then fires what is due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from complaints_escalation.scheduling.index import DueEntry, DueIndex
from complaints_kit.clock import Clock

log = logging.getLogger(__name__)

Fire = Callable[[Sequence[DueEntry]], Awaitable[None]]

# A due entry whose firing failed (broker trouble) is tried again after this delay.
RETRY_DELAY = timedelta(seconds=1)
# Entries of one partition fired together, in one due message.
MAX_BATCH = 500


class Timer:
    """Fires each due entry at its instant; `schedule` wakes the sleeper for an earlier one."""

    def __init__(self, *, index: DueIndex, clock: Clock, fire: Fire) -> None:
        self.index = index
        self._clock = clock
        self._fire = fire
        self._wake = asyncio.Event()

    def schedule(
        self, *, complaint_id: str, partition: int, due_at: datetime | None, token: int
    ) -> None:
        """Put a complaint's next due instant in the index and wake the sleeper if it is earlier."""
        earlier = self.index.schedule(
            complaint_id=complaint_id, partition=partition, due_at=due_at, token=token
        )
        if earlier:
            self._wake.set()

    def wake(self) -> None:
        """Re-read the index (after a rebuild or revocation)."""
        self._wake.set()

    async def run(self) -> None:
        """Loop forever: fire what is due, then sleep until the next instant or a wake-up."""
        while True:
            self._wake.clear()
            by_partition: dict[int, list[DueEntry]] = {}
            for entry in self.index.pop_due(self._clock.now()):
                by_partition.setdefault(entry.partition, []).append(entry)
            for entries in by_partition.values():
                for start in range(0, len(entries), MAX_BATCH):
                    await self._fire_batch(entries[start : start + MAX_BATCH])
            next_due = self.index.next_due()
            if next_due is not None and next_due <= self._clock.now():
                continue
            await self._sleep(next_due)

    async def _fire_batch(self, entries: Sequence[DueEntry]) -> None:
        try:
            await self._fire(entries)
        except Exception:
            log.exception(
                "firing due entries failed; retrying",
                extra={"partition": entries[0].partition, "entries": len(entries)},
            )
            retry_at = self._clock.now() + RETRY_DELAY
            for entry in entries:
                if entry.complaint_id in self.index:
                    continue  # rescheduled meanwhile: the newer entry wins
                self.index.schedule(
                    complaint_id=entry.complaint_id,
                    partition=entry.partition,
                    due_at=retry_at,
                    token=entry.token,
                )

    async def _sleep(self, until: datetime | None) -> None:
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wake.wait())]
        if until is not None:
            waiters.append(asyncio.ensure_future(self._clock.sleep_until(until)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waiters:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
