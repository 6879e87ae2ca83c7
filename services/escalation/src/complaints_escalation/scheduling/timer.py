"""The timer task: sleeps until the index's earliest due instant, then fires what is due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from complaints_escalation.scheduling.index import DueEntry, DueIndex
from complaints_kit.clock import Clock, sleep_until_or_woken

log = logging.getLogger(__name__)

Fire = Callable[[Sequence[DueEntry]], Awaitable[None]]

# A due entry whose firing failed (broker trouble) is tried again after this delay.
RETRY_DELAY = timedelta(seconds=1)
# Entries of one partition fired together, in one due message.
MAX_BATCH = 500


# Hand-overs remembered for the cost measurement at most (a batch another worker took
# never reports back).
MAX_TRACKED = 10_000


@dataclass
class Lookahead:
    """How far ahead of its instant an entry is handed over: by the expected work before it.

    Entry i (in due order) is handed over once `due_at - margin - cost * (i + 1)` has come:
    the work queued ahead of it (`cost` seconds per entry) is done by its instant. Never
    more than `max_lead` ahead.

    The cost is wall time, not CPU: from a batch's hand-over to its entries being prepared,
    divided by the entries outstanding at the hand-over (this batch and those before it
    not yet prepared). That includes whatever else the event loop did meanwhile (the
    burst's own writes, sends, the due topic's hop), which a CPU measure leaves out. A
    higher measure is taken at once; a lower one slowly (a moving average).
    """

    margin: timedelta = timedelta(milliseconds=100)
    max_lead: timedelta = timedelta(seconds=60)
    # Per entry, until measured: the first burst after a start is handed over with this.
    # 3 ms is what preparing took per entry with the worker on a fraction of a shared core
    # (BENCHMARKS.md, issue 17: 10,000 prepared 13-26 s late with 1 ms).
    cost_s: float = 0.003
    safety: float = 2.0
    _outstanding: int = 0
    _handed: dict[tuple[str, int], tuple[datetime, int]] = field(default_factory=dict)

    def observe(self, per_entry_s: float) -> None:
        """A measured cost per entry: taken at once when higher, averaged in when lower."""
        measured = max(per_entry_s, 0.0)
        self.cost_s = max(measured, 0.8 * self.cost_s + 0.2 * measured)

    def handed_over(self, key: tuple[str, int], *, at: datetime, entries: int) -> None:
        """A batch (named by its first entry's complaint id and token) was handed over."""
        if len(self._handed) >= MAX_TRACKED:
            self.forget()
        self._outstanding += entries
        self._handed[key] = (at, self._outstanding)

    def prepared(self, key: tuple[str, int], *, at: datetime, entries: int) -> None:
        """The batch handed over under `key` is prepared: its wall-time cost is observed."""
        self._outstanding = max(0, self._outstanding - entries)
        found = self._handed.pop(key, None)
        if found is None:  # handed over by another worker, or before a restart
            return
        handed_at, ahead = found
        self.observe((at - handed_at).total_seconds() / max(ahead, 1))

    def failed(self, key: tuple[str, int], *, entries: int) -> None:
        """The hand-over under `key` failed (it is retried as a new one)."""
        if self._handed.pop(key, None) is not None:
            self._outstanding = max(0, self._outstanding - entries)

    def forget(self) -> None:
        """Drop what is outstanding (a revocation: those batches go to another worker)."""
        self._handed.clear()
        self._outstanding = 0

    def plan(self, now: datetime, upcoming: Sequence[DueEntry]) -> tuple[datetime, datetime | None]:
        """(hand over every entry due by this instant, wake up again at this one)."""
        cost = self.cost_s * self.safety
        start_by = [
            entry.due_at - self.margin - timedelta(seconds=cost * (i + 1))
            for i, entry in enumerate(upcoming)
        ]
        until = max(
            (e.due_at for e, start in zip(upcoming, start_by, strict=True) if start <= now),
            default=now,
        )
        later = [s for e, s in zip(upcoming, start_by, strict=True) if e.due_at > until]
        return max(until, now), min(later, default=None)


class Timer:
    """Hands each due entry over at its instant, or ahead of it by the expected work
    (`lookahead`); `schedule` wakes the sleeper for an earlier one."""

    def __init__(
        self, *, index: DueIndex, clock: Clock, fire: Fire, lookahead: Lookahead | None = None
    ) -> None:
        self.index = index
        self.lookahead = lookahead
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
            until, wake = self._plan(self._clock.now())
            by_partition: dict[int, list[DueEntry]] = {}
            for entry in self.index.pop_due(until):
                by_partition.setdefault(entry.partition, []).append(entry)
            for entries in by_partition.values():
                for start in range(0, len(entries), MAX_BATCH):
                    await self._fire_batch(entries[start : start + MAX_BATCH])
            if by_partition:
                continue  # plan again: time passed while handing over
            await self._sleep(wake)

    def _plan(self, now: datetime) -> tuple[datetime, datetime | None]:
        next_due = self.index.next_due()
        if self.lookahead is None or next_due is None:
            return now, next_due
        horizon = now + self.lookahead.max_lead
        if next_due > horizon:
            return now, next_due - self.lookahead.max_lead
        # A None wake-up means everything within the horizon is handed over now; the loop
        # then plans again.
        return self.lookahead.plan(now, self.index.upcoming(horizon))

    async def _fire_batch(self, entries: Sequence[DueEntry]) -> None:
        try:
            if self.lookahead is not None:
                first = entries[0]
                self.lookahead.handed_over(
                    (first.complaint_id, first.token), at=self._clock.now(), entries=len(entries)
                )
            await self._fire(entries)
        except Exception:
            if self.lookahead is not None:
                first = entries[0]
                self.lookahead.failed((first.complaint_id, first.token), entries=len(entries))
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
        await sleep_until_or_woken(self._clock, self._wake, until)
