"""Poll complaints.escalated.v1, handle records concurrently (bounded), commit in offset order.

confluent-kafka calls block, so they run in a worker thread (asyncio.to_thread), one at a
time; rebalance callbacks therefore run in that thread too. An offset is committed only
after its outcome is acknowledged by the broker, and never past an unfinished earlier one.
Commits in the poll loop are asynchronous (not awaited); at revocation and shutdown they
are synchronous.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from complaints_notifier.inbound.handlers import Record
from complaints_notifier.inbound.offsets import OffsetTracker, Ticket
from complaints_notifier.metrics import NotifierMetrics
from complaints_notifier.outbound.dedup_log import DedupLog
from complaints_schemas.topics import ESCALATED

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2


class EscalationConsumer:
    def __init__(
        self,
        *,
        consumer: Consumer,
        handle: Callable[[Record], Coroutine[Any, Any, None]],
        dedup: DedupLog,
        metrics: NotifierMetrics,
        concurrency: int,
        shutdown_grace: float,
        topic: str = ESCALATED.name,
    ) -> None:
        self._consumer = consumer
        self._handle = handle
        self._dedup = dedup
        self._metrics = metrics
        self._concurrency = max(1, concurrency)
        self._grace = shutdown_grace
        self._topic = topic
        self._tracker = OffsetTracker()
        self._tasks: set[asyncio.Task[None]] = set()
        self._paused = False
        # Records fetched but not yet dispatched: keeps a burst flowing without pausing the
        # partitions at every full slot (a resume drops prefetched records and refetches them).
        self._backlog: deque[Message] = deque()
        self._max_backlog = max(4 * self._concurrency, 64)
        self.polling = False

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, then drain, commit what finished and leave the group."""
        self._consumer.subscribe(
            [self._topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        try:
            while not stop.is_set():
                for msg in await self._poll():
                    self._dispatch(msg)
                self.polling = True
                await self._commit()
        finally:
            self.polling = False
            await self._shutdown()

    async def _poll(self) -> list[Message]:
        """Fetch into the backlog (paused while it is full), then hand out one per free slot."""
        room = self._max_backlog - len(self._backlog)
        # Pause when full, resume only once it is half empty, so fetches come in large batches.
        self._set_paused(room < self._max_backlog // 2 if self._paused else room <= 0)
        free = self._concurrency - len(self._tasks)
        if not self._paused:
            # Block for new records only when there is nothing else to do.
            wait = POLL_SECONDS if free > 0 and not self._backlog else 0
            fetched = await asyncio.to_thread(self._fetch, room, wait)
            self._backlog.extend(fetched)
        else:
            # Paused: keep polling so the group keeps us (only errors or events come back).
            msg = await asyncio.to_thread(self._consumer.poll, 0)
            if msg is not None:
                self._backlog.append(msg)
        if free <= 0 and self._tasks:
            await asyncio.wait(
                self._tasks, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            free = self._concurrency - len(self._tasks)
        return [self._backlog.popleft() for _ in range(min(max(free, 0), len(self._backlog)))]

    def _fetch(self, room: int, wait: float) -> list[Message]:
        """Up to `room` records: waits up to `wait` for the first one only, then takes what
        has already arrived. (`consume(n, wait)` alone waits until n records or the whole
        timeout: a lone escalation sat up to POLL_SECONDS before it was dispatched.)"""
        if room <= 0:
            return []
        first = self._consumer.poll(wait)
        if first is None:
            return []
        return [first, *self._consumer.consume(room - 1, 0)] if room > 1 else [first]

    def _set_paused(self, paused: bool) -> None:
        if paused == self._paused:
            return
        assignment = self._consumer.assignment()
        if assignment:
            # A paused partition's prefetched records are dropped and fetched again on resume.
            (self._consumer.pause if paused else self._consumer.resume)(assignment)
        self._paused = paused

    def _dispatch(self, msg: Message) -> None:
        err = msg.error()
        if err is not None:
            log.warning("consumer error", extra={"error": str(err)})
            return
        topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
        if topic is None or partition is None or offset is None:
            return
        ticket = self._tracker.start(topic, partition, offset)
        record = Record(
            topic=topic,
            partition=partition,
            offset=offset,
            value=msg.value(),
            headers=_header_list(msg),
        )
        task = asyncio.create_task(self._handle(record), name=f"escalation-{partition}-{offset}")
        self._tasks.add(task)
        self._metrics.in_flight.set(len(self._tasks))
        task.add_done_callback(lambda t: self._finished(t, ticket))

    def _finished(self, task: asyncio.Task[None], ticket: Ticket) -> None:
        self._tasks.discard(task)
        self._metrics.in_flight.set(len(self._tasks))
        if task.cancelled():
            return  # abandoned at shutdown: redelivered after restart, not committed
        exc = task.exception()
        if exc is not None:
            # Left uncommitted: a restart retries it rather than skipping it silently.
            log.error(
                "escalation handling failed; offset stays uncommitted",
                exc_info=exc,
                extra={"partition": ticket.partition, "offset": ticket.offset},
            )
            return
        self._tracker.finish(ticket)

    async def _commit(self) -> None:
        """Commit what finished without waiting for the broker's answer (the poll loop goes
        on fetching); revocation and shutdown commit synchronously. A commit that fails is
        superseded by the next one (offsets are cumulative); one never superseded leaves its
        records to be consumed again after a restart, where the dedup log drops them."""
        offsets = self._tracker.committable()
        if offsets:
            self._commit_offsets(offsets, asynchronous=True)

    def _commit_sync(self, offsets: list[tuple[str, int, int]]) -> None:
        self._commit_offsets(offsets, asynchronous=False)

    def _commit_offsets(self, offsets: list[tuple[str, int, int]], *, asynchronous: bool) -> None:
        partitions = [TopicPartition(t, p, o) for t, p, o in offsets]
        try:
            if asynchronous:  # two calls: the client's typing overloads on the literal
                self._consumer.commit(offsets=partitions, asynchronous=True)
            else:
                self._consumer.commit(offsets=partitions, asynchronous=False)
        except KafkaException as exc:
            self._metrics.commits.labels("error").inc()
            log.warning("commit failed; retrying later", extra={"error": str(exc)})
            return
        self._tracker.committed(offsets)
        self._metrics.commits.labels("ok").inc()

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Another instance may have delivered for these partitions: read its records first.
        started = time.monotonic()
        try:
            read = self._dedup.catch_up()
        except (KafkaException, TimeoutError) as exc:
            log.warning("dedup log catch-up failed", extra={"error": str(exc)})
            read = 0
        self._metrics.dedup_log_size.set(len(self._dedup))
        log.info(
            "partitions assigned",
            extra={
                "partitions": sorted(tp.partition for tp in partitions),
                "dedup_records_read": read,
                "dedup_catch_up_seconds": round(time.monotonic() - started, 3),
            },
        )

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        offsets = self._tracker.committable(keys)
        if offsets:
            self._commit_sync(offsets)
        self._tracker.forget(keys)
        self._drop_backlog(set(keys))
        log.info("partitions revoked", extra={"partitions": sorted(p for _, p in keys)})

    def _drop_backlog(self, keys: set[tuple[str, int]]) -> None:
        """Records of partitions no longer ours: the next owner reads them from the commit."""
        kept = [m for m in self._backlog if (m.topic(), m.partition()) not in keys]
        self._backlog.clear()
        self._backlog.extend(kept)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._tracker.forget((tp.topic, tp.partition) for tp in partitions)
        self._drop_backlog({(str(tp.topic), int(tp.partition)) for tp in partitions})
        log.warning(
            "partitions lost", extra={"partitions": sorted(tp.partition for tp in partitions)}
        )

    async def _shutdown(self) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=self._grace)
            for task in pending:
                task.cancel()
            if pending:
                log.info("abandoned in-flight deliveries", extra={"count": len(pending)})
                await asyncio.gather(*pending, return_exceptions=True)
        offsets = self._tracker.committable()
        if offsets:
            await asyncio.to_thread(self._commit_sync, offsets)
        await asyncio.to_thread(self._consumer.close)


def _header_list(msg: Message) -> list[tuple[str, str | bytes | None]] | None:
    headers = msg.headers()
    if isinstance(headers, dict):
        return list(headers.items())
    return headers
