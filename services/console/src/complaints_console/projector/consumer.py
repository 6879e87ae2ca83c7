"""Read the pipeline's topics into the read model: batches, one transaction, offsets inside it.

The database holds the next offset of every partition, written in the transaction that
applies the records, so a crash or a redelivery never applies a record twice and a restart
continues where the database is. An empty database starts every partition at the
beginning: the read model is rebuilt from what the topics still hold. Kafka offsets are
committed too, after the database, only so that consumer-lag metrics see progress.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, TopicPartition
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from complaints_console.metrics import ProjectorMetrics
from complaints_console.projector import apply
from complaints_console.projector.decode import decode_lenient
from complaints_console.readmodel.retention import purge_closed
from complaints_console.readmodel.tables import offsets
from complaints_console.readmodel.upsert import upsert
from complaints_schemas import topics
from complaints_schemas.cloudevents import DecodeError, Headers
from complaints_schemas.dead_letters import dead_letter
from complaints_schemas.events import (
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintClocksUpdated,
    ComplaintEscalated,
    ComplaintLifecycleEvent,
    ComplaintRejected,
    NotificationDelivered,
    NotificationFailed,
)

log = logging.getLogger(__name__)

TOPICS = (
    topics.ACCEPTED,
    topics.CLASSIFIED,
    topics.LIFECYCLE,
    topics.ESCALATED,
    topics.DELIVERED,
    topics.FAILED,
    topics.CLOCKS,
)
DB_RETRY_S = 2.0


def apply_record(conn: Connection, topic: str, value: bytes | None, headers: Headers) -> None:
    """Decode one record of `topic` and apply it; DecodeError when it is not a valid event."""
    if topic == topics.ACCEPTED.name:
        apply.accepted(conn, decode_lenient(ComplaintAccepted, value, headers)[0].data)
    elif topic == topics.CLASSIFIED.name:
        envelope, raw = decode_lenient(ComplaintClassified, value, headers)
        apply.classified(conn, envelope.data, raw)
    elif topic == topics.LIFECYCLE.name:
        apply.lifecycle(conn, decode_lenient(ComplaintLifecycleEvent, value, headers)[0].data)
    elif topic == topics.ESCALATED.name:
        apply.escalated(conn, decode_lenient(ComplaintEscalated, value, headers)[0].data)
    elif topic == topics.DELIVERED.name:
        apply.delivered(conn, decode_lenient(NotificationDelivered, value, headers)[0].data)
    elif topic == topics.FAILED.name:
        apply.failed(conn, decode_lenient(NotificationFailed, value, headers)[0].data)
    elif topic == topics.CLOCKS.name:
        apply.clocks_updated(conn, decode_lenient(ComplaintClocksUpdated, value, headers)[0].data)


class Projector:
    """The consumer loop; blocking calls (Kafka, database) run in the caller's thread."""

    def __init__(
        self,
        *,
        consumer: Consumer,
        engine: Engine,
        metrics: ProjectorMetrics,
        now: Callable[[], datetime],
        reject: Callable[[str, ComplaintRejected], None],
        batch_size: int = 500,
        retention: timedelta | None = None,
        purge_every: timedelta = timedelta(hours=1),
        topics: Mapping[str, str] | None = None,
    ) -> None:
        # The topics read, each with the pipeline topic it plays (tests read copies).
        self._topics = dict(topics) if topics is not None else {t.name: t.name for t in TOPICS}
        self._consumer = consumer
        self._engine = engine
        self._metrics = metrics
        self._now = now
        self._reject = reject
        self._batch_size = batch_size
        self._retention = retention
        self._purge_every = purge_every.total_seconds()
        self._last_purge = 0.0
        self.assigned = False
        self.caught_up = False

    def subscribe(self) -> None:
        self._consumer.subscribe(
            list(self._topics), on_assign=self._on_assign, on_revoke=self._on_revoke
        )

    def poll_once(self, timeout: float = 0.5) -> int:
        """Fetch a batch and apply it; the number of records applied."""
        messages = [m for m in self._consumer.consume(self._batch_size, timeout) if _ok(m)]
        if not messages:
            if self.assigned:
                self.caught_up = True
            self._maybe_purge()
            return 0
        try:
            self._apply(messages)
        except SQLAlchemyError as exc:
            self._metrics.batch_failures.inc()
            log.warning("batch failed; reading it again", extra={"error": str(exc)[:500]})
            self._rewind(messages)
            time.sleep(DB_RETRY_S)
            return 0
        self._commit_kafka(messages)
        self._maybe_purge()
        return len(messages)

    def close(self) -> None:
        self._consumer.close()

    def _apply(self, messages: list[Message]) -> None:
        started = time.monotonic()
        rejected: list[tuple[str, ComplaintRejected]] = []
        positions: dict[tuple[str, int], int] = {}
        with self._engine.begin() as conn:
            for msg in messages:
                topic, partition, offset = str(msg.topic()), int(msg.partition() or 0), msg.offset()
                assert offset is not None
                try:
                    with conn.begin_nested():
                        apply_record(conn, self._topics[topic], msg.value(), _headers(msg))
                    self._metrics.records.labels(topic).inc()
                except DecodeError as exc:
                    rejected.append(self._dead_letter(exc, msg))
                except SQLAlchemyError:
                    raise  # the database, not the record: the whole batch again
                except Exception as exc:  # a bug on this record's path: accounted for
                    log.exception("record could not be applied", extra={"topic": topic})
                    rejected.append(
                        self._dead_letter(DecodeError("processing_failed", repr(exc)), msg)
                    )
                positions[(topic, partition)] = offset + 1
            for (topic, partition), next_offset in positions.items():
                upsert(
                    conn,
                    offsets,
                    {"topic": topic, "partition": partition, "next_offset": next_offset},
                )
        for dead_letter_id, event in rejected:
            self._reject(dead_letter_id, event)
        self._metrics.batch_seconds.observe(time.monotonic() - started)
        self._metrics.last_applied.set(time.time())

    def _dead_letter(self, exc: DecodeError, msg: Message) -> tuple[str, ComplaintRejected]:
        self._metrics.rejected.labels(exc.reason).inc()
        log.warning(
            "rejected input",
            extra={"reason": exc.reason, "topic": msg.topic(), "offset": msg.offset()},
        )
        return dead_letter(
            exc,
            value=msg.value(),
            topic=str(msg.topic()),
            partition=int(msg.partition() or 0),
            offset=int(msg.offset() or 0),
            at=self._now(),
        )

    def _rewind(self, messages: list[Message]) -> None:
        first: dict[tuple[str, int], int] = {}
        for msg in messages:
            key = (str(msg.topic()), int(msg.partition() or 0))
            first.setdefault(key, int(msg.offset() or 0))
        for (topic, partition), offset in first.items():
            try:
                self._consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:
                log.warning("seek failed", extra={"error": str(exc)})

    def _commit_kafka(self, messages: list[Message]) -> None:
        last: dict[tuple[str, int], int] = {}
        for msg in messages:
            last[(str(msg.topic()), int(msg.partition() or 0))] = int(msg.offset() or 0) + 1
        try:
            self._consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in last.items()],
                asynchronous=True,
            )
        except KafkaException as exc:  # the database has them; only the lag metric lags
            log.debug("kafka commit failed", extra={"error": str(exc)})

    def _maybe_purge(self) -> None:
        if self._retention is None or time.monotonic() - self._last_purge < self._purge_every:
            return
        self._last_purge = time.monotonic()
        try:
            purged = purge_closed(self._engine, before=self._now() - self._retention)
        except SQLAlchemyError as exc:
            log.warning("retention purge failed", extra={"error": str(exc)[:500]})
            return
        if purged:
            self._metrics.purged.inc(purged)
            log.info("closed complaints past retention deleted", extra={"complaints": purged})

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Start each partition where the database says (the beginning when it has nothing)."""
        with self._engine.connect() as conn:
            stored = {
                (row.topic, row.partition): row.next_offset for row in conn.execute(select(offsets))
            }
        for tp in partitions:
            tp.offset = stored.get((tp.topic, tp.partition), OFFSET_BEGINNING)
        consumer.assign(partitions)
        self.assigned = True
        log.info(
            "partitions assigned",
            extra={
                "partitions": len(partitions),
                "from_database": sum(1 for tp in partitions if (tp.topic, tp.partition) in stored),
            },
        )

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        consumer.unassign()
        self.assigned = False
        self.caught_up = False


def _ok(msg: Message) -> bool:
    err = msg.error()
    if err is not None:
        log.warning("consumer error", extra={"error": str(err)})
        return False
    return True


def _headers(msg: Message) -> Any:
    headers = msg.headers()
    if isinstance(headers, dict):
        return list(headers.items())
    return headers
