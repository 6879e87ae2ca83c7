"""Retention of closed complaints: their states leave the table (a tombstone on the changelog,
the key out of RocksDB) once closed for ESCALATION_CLOSED_RETENTION, and only after the
console's projector has read their closing (ESCALATION_RETENTION_AFTER_GROUP). Off by default.

How, without touching the handlers: `RetainingStore` wraps the state store and notes which
complaints are closed (on every write, and from the summaries a rebuild reads). The sweeper
finds those past retention; at its next sweep, once the console's group has committed past the
lifecycle topic's end offsets of the first sweep (so it has read every closing escalation had
read by then), it sends each partition a due message naming them. A table write must happen
while that partition's record is processed: the due agent's read of such a state (through
`RetainingStore.get`) deletes it there, and the handler sees an unknown complaint.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Set
from datetime import datetime, timedelta
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge

from complaints_escalation.domain.retention import RetentionPolicy, closed_at, expired
from complaints_escalation.domain.state import ComplaintState, Status
from complaints_escalation.outbound.state_codec import Summary
from complaints_escalation.scheduling.due_message import DueBatch, DueMessage
from complaints_kit.clock import Clock
from complaints_kit.lag import GroupOffsets
from complaints_schemas.topics import LIFECYCLE

log = logging.getLogger(__name__)

# A purge request's token matches no state version: if the state is not purged (reopened
# meanwhile), its due handling finds it stale and changes nothing.
PURGE_TOKEN = -1


class DeletableStore(Protocol):
    def get(self, complaint_id: str) -> ComplaintState | None: ...

    def version(self, complaint_id: str) -> int | None: ...
    def put(self, state: ComplaintState, *, partition: int) -> None: ...
    def delete(self, complaint_id: str) -> None: ...
    def entries(self) -> Iterator[tuple[int, ComplaintState]]: ...
    def summaries(self) -> Iterator[Summary]: ...


class RetentionMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.purged = Counter(
            "complaints_escalation_retention_purged_total",
            "Closed complaints whose state was deleted after retention (tombstoned).",
            registry=registry,
        )
        self.closed = Gauge(
            "complaints_escalation_retention_closed_states",
            "Closed complaints still held in this worker's state table.",
            registry=registry,
        )


class RetainingStore:
    """A StateStore that knows its closed complaints and deletes those it was told to."""

    def __init__(
        self,
        inner: DeletableStore,
        *,
        policy: RetentionPolicy,
        clock: Clock,
        metrics: RetentionMetrics,
        purging_now: Callable[[], bool] = lambda: True,
    ) -> None:
        self._inner = inner
        # True while a purge request (a due record) is being handled: a lifecycle event for
        # an approved complaint reads it as it is (a reopen keeps it).
        self._purging_now = purging_now
        self._policy = policy
        self._clock = clock
        self._metrics = metrics
        # Closed (or, from a summary, possibly closed) complaints: partition, closing instant
        # (None until the state is read once).
        self.closed: dict[str, tuple[int, datetime | None]] = {}
        self._approved: set[str] = set()

    def get(self, complaint_id: str) -> ComplaintState | None:
        state = self._inner.get(complaint_id)
        if complaint_id in self._approved and self._purging_now():
            self._approved.discard(complaint_id)
            if state is not None and expired(state, now=self._clock.now(), policy=self._policy):
                self._inner.delete(complaint_id)
                self.closed.pop(complaint_id, None)
                self._metrics.purged.inc()
                self._metrics.closed.set(len(self.closed))
                log.info("closed complaint purged", extra={"complaint_id": complaint_id})
                return None
        return state

    def version(self, complaint_id: str) -> int | None:
        return self._inner.version(complaint_id)

    def peek(self, complaint_id: str) -> ComplaintState | None:
        """Read without purging (the sweeper, outside stream processing)."""
        return self._inner.get(complaint_id)

    def put(self, state: ComplaintState, *, partition: int) -> None:
        self._inner.put(state, partition=partition)
        if state.status is Status.CLOSED:
            self.closed[state.complaint_id] = (partition, closed_at(state))
        else:
            self.closed.pop(state.complaint_id, None)
        self._metrics.closed.set(len(self.closed))

    def delete(self, complaint_id: str) -> None:
        """Forget a state (an unknown complaint's, after its grace window)."""
        self._inner.delete(complaint_id)
        self.closed.pop(complaint_id, None)
        self._metrics.closed.set(len(self.closed))

    def approve(self, complaint_ids: set[str]) -> None:
        self._approved |= complaint_ids

    def entries(self) -> Iterator[tuple[int, ComplaintState]]:
        return self._inner.entries()

    def summaries(self) -> Iterator[Summary]:
        for summary in self._inner.summaries():
            # Nothing due and not open: closed, or waiting for its classification.
            if summary.due_at is None and summary.severity is None:
                self.closed.setdefault(summary.complaint_id, (summary.partition, None))
            yield summary
        self._metrics.closed.set(len(self.closed))


class Gate(Protocol):
    """Has the console read everything escalation had read at a snapshot?"""

    def snapshot(self) -> dict[int, int]: ...
    def caught_up(self, snapshot: Mapping[int, int]) -> set[int]: ...


class ConsoleGate:
    """The console projector's group against the lifecycle topic's end offsets."""

    def __init__(self, offsets: GroupOffsets) -> None:
        self._offsets = offsets

    def snapshot(self) -> dict[int, int]:
        return {
            p: end for (topic, p), end in self._offsets.ends().items() if topic == LIFECYCLE.name
        }

    def caught_up(self, snapshot: Mapping[int, int]) -> set[int]:
        committed = {p: o for (t, p), o in self._offsets.committed().items() if t == LIFECYCLE.name}
        return {p for p, end in snapshot.items() if committed.get(p, -1) >= end}


class NoGate:
    """Retention by time alone (no console to wait for)."""

    def snapshot(self) -> dict[int, int]:
        return {}

    def caught_up(self, snapshot: Mapping[int, int]) -> set[int]:
        return set(range(1 << 16))


PublishDue = Callable[[DueBatch, int], Awaitable[None]]


class RetentionSweeper:
    """Every `interval`: purge what was found ripe last time where the console caught up, then
    find what is ripe now (closed for longer than the policy keeps)."""

    def __init__(
        self,
        *,
        store: RetainingStore,
        gate: Gate,
        publish_due: PublishDue,
        owned: Callable[[], Set[int]],
        clock: Clock,
        policy: RetentionPolicy,
        interval: timedelta,
        batch: int = 500,
    ) -> None:
        self._store = store
        self._gate = gate
        self._publish = publish_due
        self._owned = owned
        self._clock = clock
        self._policy = policy
        self._interval = interval
        self._batch = batch
        self._ripe: dict[str, int] = {}
        self._snapshot: dict[int, int] = {}

    async def sweep(self) -> int:
        """One sweep; returns how many purges it requested."""
        owned = self._owned()
        requested: set[str] = set()
        if self._ripe:
            ready = await asyncio.to_thread(self._gate.caught_up, self._snapshot)
            by_partition: dict[int, set[str]] = {}
            for cid, partition in self._ripe.items():
                if partition in ready and partition in owned:
                    by_partition.setdefault(partition, set()).add(cid)
            for partition, cids in by_partition.items():
                self._store.approve(cids)
                now = self._clock.now()
                ordered = sorted(cids)
                for start in range(0, len(ordered), self._batch):
                    items = tuple(
                        DueMessage(cid, PURGE_TOKEN, now)
                        for cid in ordered[start : start + self._batch]
                    )
                    await self._publish(DueBatch(items), partition)
                requested |= cids
        # Not again at once: the requests are on their way (a lost one is asked again next time).
        ripe = self._find_ripe(owned)
        self._ripe = {cid: p for cid, p in ripe.items() if cid not in requested}
        if self._ripe:
            self._snapshot = await asyncio.to_thread(self._gate.snapshot)
        return len(requested)

    def _find_ripe(self, owned: Set[int]) -> dict[str, int]:
        now = self._clock.now()
        ripe: dict[str, int] = {}
        after = self._policy.after
        assert after is not None
        for cid, (partition, at) in list(self._store.closed.items()):
            if partition not in owned:
                continue
            if at is None:  # known from a summary only: read it once
                state = self._store.peek(cid)
                if state is None or state.status is not Status.CLOSED:
                    self._store.closed.pop(cid, None)
                    continue
                at = closed_at(state)
                self._store.closed[cid] = (partition, at)
            if at is not None and at + after <= now:
                ripe[cid] = partition
        return ripe

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval.total_seconds())
            try:
                requested = await self.sweep()
                if requested:
                    log.info("retention: purges requested", extra={"complaints": requested})
            except Exception:  # the next sweep tries again
                log.exception("retention sweep failed")
