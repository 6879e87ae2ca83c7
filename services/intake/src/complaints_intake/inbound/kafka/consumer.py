"""The complaints.submitted.v1 consumer: poll a batch, handle it, commit what was acknowledged.

confluent-kafka calls block, so they run in a worker thread (asyncio.to_thread), one at a time;
handling runs on the event loop, where the HTTP API shares the dedup window with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from complaints_intake.inbound.kafka.offsets import Outcome, plan
from complaints_intake.inbound.kafka.submitted import InboundRecord

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
# Pause before re-reading records whose output the broker did not acknowledge.
FAILURE_BACKOFF = 1.0


class SubmittedConsumer:
    def __init__(
        self,
        *,
        consumer: Consumer,
        topic: str,
        handle: Callable[[InboundRecord], Awaitable[None]],
        batch_size: int,
        failure_backoff: float = FAILURE_BACKOFF,
    ) -> None:
        self._consumer = consumer
        self._topic = topic
        self._handle = handle
        self._batch_size = batch_size
        self._failure_backoff = failure_backoff
        self.polling = False

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; the batch in hand is finished and committed first."""
        self._consumer.subscribe([self._topic])
        try:
            while not stop.is_set():
                messages = await asyncio.to_thread(
                    self._consumer.consume, self._batch_size, POLL_SECONDS
                )
                self.polling = True
                records = [r for r in map(self._record, messages) if r is not None]
                if records and not await self._handle_batch(records):
                    await _wait(stop, self._failure_backoff)
        finally:
            self.polling = False
            await asyncio.to_thread(self._consumer.close)

    async def _handle_batch(self, records: list[InboundRecord]) -> bool:
        """Handle records concurrently (gather starts them in order); False if any failed."""
        results = await asyncio.gather(*(self._handle(r) for r in records), return_exceptions=True)
        outcomes = []
        for record, result in zip(records, results, strict=True):
            if isinstance(result, BaseException):
                log.error(
                    "record not handled; will retry",
                    extra={"partition": record.partition, "offset": record.offset},
                    exc_info=result,
                )
            outcomes.append(Outcome(record.partition, record.offset, ok=result is None))
        batch = plan(outcomes)
        if batch.commit:
            await asyncio.to_thread(self._commit, batch.commit)
        for partition, offset in batch.rewind.items():
            try:
                self._consumer.seek(TopicPartition(self._topic, partition, offset))
            except KafkaException as exc:
                log.warning("seek failed (partition revoked?)", extra={"error": str(exc)})
        return not batch.rewind

    def _commit(self, offsets: dict[int, int]) -> None:
        try:
            self._consumer.commit(
                offsets=[TopicPartition(self._topic, p, o) for p, o in offsets.items()],
                asynchronous=False,
            )
        except KafkaException as exc:
            # E.g. a rebalance took the partition: its new owner re-reads, dedup absorbs it.
            log.warning("commit failed", extra={"error": str(exc)})

    def _record(self, msg: Message) -> InboundRecord | None:
        error = msg.error()
        if error is not None:
            log.warning("consumer error", extra={"error": str(error)})
            return None
        topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
        if topic is None or partition is None or offset is None:
            return None
        return InboundRecord(
            topic=topic,
            partition=partition,
            offset=offset,
            key=msg.key(),
            value=msg.value(),
            # Kafka headers always arrive as a list of pairs (a dict is only accepted on produce).
            headers=headers if isinstance(headers := msg.headers(), list) else None,
        )


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
