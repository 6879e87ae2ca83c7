"""complaints.accepted.v1 read back by every intake process: the complaint ids any process
accepted within the dedup window feed the local DedupWindow, so a resend that reaches another
pod, or comes after a restart, is answered `duplicate: true` instead of being published again.

The topic is keyed by the (deterministic) complaint id and every accepted complaint is on it,
so it is the shared store: no database is added. At start the log is read from `now - ttl`
(offsets_for_times) to its end before the service is ready; then it is tailed. A complaint
this process has not seen triggers a sync (`caught_up`): the topic's high watermarks are
asked for (one ListOffsets request, shared by the requests waiting at that moment) and the
tail is awaited up to them. A resend whose first copy the broker acknowledged before the
resend arrived is therefore always found. Two copies arriving at two pods in the same
instant can both be published; the copy is then a redelivery downstream (same id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from confluent_kafka import (
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from complaints_intake.domain.dedup import DedupWindow
from complaints_schemas.topics import ACCEPTED

log = logging.getLogger(__name__)

_LATEST = OffsetSpec.latest()  # type: ignore[no-untyped-call]
POLL_SECONDS = 0.2
BATCH = 500
RETRY_SECONDS = 1.0


def caught_up(positions: dict[int, int], ends: dict[int, int]) -> bool:
    """Whether the tail has read every partition up to `ends` (next offset to read >= end)."""
    return all(positions.get(p, 0) >= end for p, end in ends.items())


class AcceptedLog:
    """Tails complaints.accepted.v1 into `window`; `sync()` waits until it has read what the
    broker holds now. Blocking client calls run in worker threads; state lives on the loop."""

    def __init__(
        self,
        config: dict[str, Any],
        *,
        window: DedupWindow,
        ttl: timedelta,
        topic: str = ACCEPTED.name,
    ) -> None:
        # Assigned, never subscribed: no group is joined and no offset is committed.
        self._consumer = Consumer(
            {
                **config,
                "group.id": f"intake-accepted-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "fetch.wait.max.ms": 50,
            }
        )
        self._admin = AdminClient(config)
        self._window = window
        self._ttl = ttl
        self._topic = topic
        self._partitions: tuple[int, ...] = ()  # set once, before the tail starts
        self._positions: dict[int, int] = {}  # partition -> next offset to read
        self._progress = asyncio.Event()
        # A watermark request not sent yet, joined by every sync arriving meanwhile; sent as
        # soon as none is out (one that is out may predate a caller's record).
        self._pending: asyncio.Future[dict[int, int]] | None = None
        self._out = False
        self.loaded = False

    async def run(self, stop: asyncio.Event, *, now: datetime, load_within: float = 60.0) -> None:
        """Assign from `now - ttl`, read to the end (then `loaded`), tail until `stop`."""
        while not stop.is_set():
            try:  # a fresh topic may have no leader yet: retried until the broker answers
                await asyncio.to_thread(self._assign, now, load_within)
                break
            except KafkaException as exc:
                log.warning("accepted log not assigned; retrying", extra={"error": str(exc)})
                await _wait(stop, RETRY_SECONDS)
        if stop.is_set():
            await asyncio.to_thread(self._consumer.close)
            return
        tail = asyncio.create_task(self._tail(stop), name="intake-accepted-tail")
        try:
            while not await self.sync(within=load_within):
                if stop.is_set():
                    return
                log.warning(
                    "accepted log not read to its end yet; still reading",
                    extra={"topic": self._topic, "within_s": load_within},
                )
            self.loaded = True
            log.info(
                "accepted log loaded",
                extra={"topic": self._topic, "complaints": len(self._window)},
            )
            await tail
        finally:
            self.loaded = False
            if not tail.done():
                tail.cancel()
            await asyncio.gather(tail, return_exceptions=True)
            await asyncio.to_thread(self._consumer.close)

    async def sync(self, *, within: float) -> bool:
        """Wait until the tail has read every record the broker acknowledged before this call;
        False when that took longer than `within` seconds (the caller then treats it as new)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        try:
            ends = await asyncio.wait_for(asyncio.shield(self._ends()), within)
            while not caught_up(self._positions, ends):
                left = deadline - loop.time()
                if left <= 0:
                    return False
                progress = self._progress
                await asyncio.wait_for(progress.wait(), left)
        except TimeoutError:
            return False
        except KafkaException as exc:  # the watermarks could not be read
            log.warning("accepted log sync failed", extra={"error": str(exc)})
            return False
        return True

    def _ends(self) -> asyncio.Future[dict[int, int]]:
        """High watermarks measured after this call: the pending request, sent now if none is
        out, else when the one out returns (so N concurrent callers cost at most two)."""
        answer = self._pending
        if answer is None:
            answer = self._pending = asyncio.get_running_loop().create_future()
            if not self._out:
                self._send()
        return answer

    def _send(self) -> None:
        answer, self._pending = self._pending, None
        assert answer is not None
        self._out = True
        request = asyncio.ensure_future(asyncio.to_thread(self._high_watermarks))

        def done(task: asyncio.Future[dict[int, int]]) -> None:
            self._out = False
            if answer.done():
                pass
            elif task.cancelled():
                answer.cancel()
            elif (error := task.exception()) is not None:
                answer.set_exception(error)
            else:
                answer.set_result(task.result())
            if self._pending is not None:
                self._send()

        request.add_done_callback(done)

    def _assign(self, now: datetime, timeout: float) -> None:
        meta = self._consumer.list_topics(self._topic, timeout=timeout)
        partitions = sorted(meta.topics[self._topic].partitions)
        since = int((now - self._ttl).timestamp() * 1000)
        starts = self._consumer.offsets_for_times(
            [TopicPartition(self._topic, p, since) for p in partitions], timeout=timeout
        )
        self._partitions = tuple(partitions)
        ends = self._high_watermarks()
        assignment = []
        for tp in starts:
            # -1: no record at or after `since` there: start at the end.
            start = tp.offset if tp.offset >= 0 else ends.get(tp.partition, 0)
            self._positions[tp.partition] = start
            assignment.append(
                TopicPartition(self._topic, tp.partition, start if tp.offset >= 0 else OFFSET_END)
            )
        self._consumer.assign(assignment)

    def _high_watermarks(self) -> dict[int, int]:
        futures = self._admin.list_offsets(
            {TopicPartition(self._topic, p): _LATEST for p in self._partitions},
            request_timeout=10,
        )
        return {tp.partition: future.result().offset for tp, future in futures.items()}

    async def _tail(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            messages = await asyncio.to_thread(self._poll)
            if messages:
                self._apply(messages)

    def _poll(self) -> list[Message]:
        """Wait for the first record only, then take what has already arrived."""
        first = self._consumer.poll(POLL_SECONDS)
        if first is None:
            return []
        return [first, *self._consumer.consume(BATCH - 1, 0)]

    def _apply(self, messages: list[Message]) -> None:
        for msg in messages:
            partition, offset = msg.partition(), msg.offset()
            if partition is None or offset is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    self._advance(partition, offset)  # the end: offset is the next to come
                else:
                    log.warning("accepted log read error", extra={"error": str(err)})
                continue
            key = msg.key()
            if key is not None:
                _kind, ms = msg.timestamp()
                at = datetime.fromtimestamp(ms / 1000, UTC) if ms > 0 else None
                if at is not None:
                    self._window.record(key.decode("utf-8", "replace"), now=at)
            self._advance(partition, offset + 1)
        progress, self._progress = self._progress, asyncio.Event()
        progress.set()

    def _advance(self, partition: int, position: int) -> None:
        if position > self._positions.get(partition, 0):
            self._positions[partition] = position


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
