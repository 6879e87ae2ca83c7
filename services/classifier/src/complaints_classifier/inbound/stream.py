"""The classifier's stream loop: one confluent-kafka consumer for its three stages, in batches.

Each turn takes what has arrived on the partitions this worker owns (complaints.accepted.v1,
the by-customer and the by-fingerprint topics; up to `max_batch` records), hands every
record to its stage in offset order, queues the stages' outputs and the batch's state
changes (each changed key once) on the producer, waits once for the broker to acknowledge
all of it, then commits the batch's offsets once. So a SIGKILL at any point leaves every
record either committed with all its outputs and state delivered, or uncommitted and read
again; a record read again meets state that already knows it and gets the same answer
(the domain's redelivery rule), so nothing is lost and nothing is counted twice.

A batch the broker did not fully acknowledge is not committed: the worker rewinds its
partitions to the last committed positions and restores their state from the changelogs.
Partitions assigned to the worker have their state restored from the changelogs before
their first record is handled; readiness is false from a revocation until then.
Everything here runs in one thread; rebalance callbacks run inside its polls, between batches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_INVALID,
    Consumer,
    KafkaException,
    Message,
    TopicPartition,
)

from complaints_classifier.domain.customer import CustomerState
from complaints_classifier.domain.window import WindowState
from complaints_classifier.inbound.handlers import Handlers
from complaints_classifier.metrics import ClassifierMetrics
from complaints_classifier.outbound.publisher import DeliveryFailed, Outbox
from complaints_classifier.outbound.state import ChangelogStore
from complaints_kit.records import Origin

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
RESTORE_TIMEOUT_S = 600.0
Partition = tuple[str, int]
Rebalance = Callable[[Consumer, list[TopicPartition]], None]


@dataclass
class Readiness:
    """Ready once partitions are assigned and their state restored; not while rebalancing."""

    ready: bool = False
    started_at: float = field(default_factory=time.monotonic)
    first_ready_after_s: float | None = None

    def __call__(self) -> bool:
        return self.ready

    def restored(self) -> None:
        self.ready = True
        if self.first_ready_after_s is None:
            self.first_ready_after_s = time.monotonic() - self.started_at


@dataclass(frozen=True, slots=True)
class StreamTopics:
    accepted: str
    by_customer: str
    by_fingerprint: str

    def all(self) -> list[str]:
        return [self.accepted, self.by_customer, self.by_fingerprint]


class ClassifierStream:
    def __init__(
        self,
        *,
        consumer: dict[str, Any],
        restorer: dict[str, Any],
        outbox: Outbox,
        handlers: Handlers,
        customers: ChangelogStore[CustomerState],
        windows: ChangelogStore[WindowState],
        topics: StreamTopics,
        readiness: Readiness,
        metrics: ClassifierMetrics,
        max_batch: int = 500,
        between_batches: Callable[[], None] = lambda: None,
    ) -> None:
        self._consumer_config = consumer
        self._restorer_config = restorer
        self._outbox = outbox
        self._handlers = handlers
        self._customers = customers
        self._windows = windows
        self._topics = topics
        self._readiness = readiness
        self._metrics = metrics
        self._max_batch = max(1, max_batch)
        self._between_batches = between_batches
        self._owned: set[Partition] = set()
        self._callback_failure: Exception | None = None
        self._done: dict[Partition, int] = {}  # next offset, once the batch is acknowledged
        self._stores: dict[str, ChangelogStore[CustomerState] | ChangelogStore[WindowState]] = {
            topics.by_customer: customers,
            topics.by_fingerprint: windows,
        }

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set, then commit what is done and leave the group."""
        self._outbox.open()
        self._restorer = Consumer(self._restorer_config)
        self._consumer = Consumer(self._consumer_config)
        self._consumer.subscribe(
            self._topics.all(),
            on_assign=self._guarded(self._on_assign),
            on_revoke=self._guarded(self._on_revoke),
            on_lost=self._guarded(self._on_lost),
        )
        try:
            while not stop.is_set():
                batch = self._fetch()
                if self._callback_failure is not None:
                    raise RuntimeError("rebalance handling failed") from self._callback_failure
                if batch:
                    self.handle(batch)
                self._between_batches()
        finally:
            self._shutdown()

    def _guarded(self, callback: Rebalance) -> Rebalance:
        """A rebalance callback whose failure stops the loop after the poll that ran it.

        (An exception raised inside a callback comes back out of the client's poll as an
        object that is not an Exception, which no handler catches: it would kill the
        thread and leave the service hanging, unready, instead of stopping it.)
        """

        def guarded(consumer: Consumer, partitions: list[TopicPartition]) -> None:
            try:
                callback(consumer, partitions)
            except Exception as exc:
                log.exception("rebalance callback failed; stopping")
                self._callback_failure = exc

        return guarded

    def _fetch(self) -> list[Message]:
        """Wait up to POLL_SECONDS for the first record only, then take what has arrived."""
        first = self._consumer.poll(POLL_SECONDS)
        if first is None:
            return []
        batch = [first, *self._consumer.consume(self._max_batch - 1, 0)]
        # A rebalance inside the second call may have taken partitions of records in hand.
        return [m for m in batch if (m.topic(), m.partition()) in self._owned or m.error()]

    def handle(self, batch: list[Message]) -> None:
        """One batch: every record through its stage, outputs and state delivered, committed."""
        positions: dict[Partition, int] = {}
        for msg in batch:
            err = msg.error()
            topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
            if err is not None or topic is None or partition is None or offset is None:
                if err is not None:
                    log.warning("consumer error", extra={"error": str(err)})
                continue
            self._dispatch(msg, Origin(topic=topic, partition=partition, offset=offset))
            positions[(topic, partition)] = offset + 1
        self._customers.write(self._outbox)
        self._windows.write(self._outbox)
        self._metrics.batch_messages.observe(len(batch))
        try:
            self._outbox.settle()
        except DeliveryFailed as exc:
            self._metrics.batches_failed.inc()
            log.warning("batch not acknowledged; reading it again", extra={"error": str(exc)})
            self._handlers.discarded()
            self._rewind()
            return
        self._handlers.settled()
        self._done.update(positions)
        self._commit(positions, asynchronous=True)

    def _dispatch(self, msg: Message, origin: Origin) -> None:
        value = msg.value()
        try:
            if origin.topic == self._topics.accepted:
                self._handlers.accepted(value, _headers(msg), origin)
            elif origin.topic == self._topics.by_customer:
                self._handlers.customer(value, origin)
            elif origin.topic == self._topics.by_fingerprint:
                self._handlers.windowed(value, origin)
        except Exception as exc:
            # A bug on this record's path: dead-lettered with the error, the partition goes on.
            log.exception("record handling failed; dead-lettering it", extra=origin.log_fields())
            self._handlers.failed(value, origin, exc)

    def _commit(self, positions: dict[Partition, int], *, asynchronous: bool) -> None:
        """Commit offsets; a failed asynchronous commit is superseded by the next one."""
        if not positions:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
        try:
            if asynchronous:
                self._consumer.commit(offsets=offsets, asynchronous=True)
            else:
                self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            self._metrics.commits.labels("error").inc()
            log.warning("commit failed; the next one supersedes it", extra={"error": str(exc)})
            return
        self._metrics.commits.labels("ok").inc()

    def _rewind(self) -> None:
        """Back to what is committed (or being committed), with state restored to match."""
        owned = sorted(self._owned)
        if not owned:
            return
        committed = self._consumer.committed([TopicPartition(t, p) for t, p in owned], timeout=30)
        for tp in committed:
            key = (tp.topic, tp.partition)
            offset = self._done.get(key, tp.offset)
            if offset == OFFSET_INVALID or offset < 0:
                offset = OFFSET_BEGINNING
            self._consumer.seek(TopicPartition(tp.topic, tp.partition, offset))
        self._customers.discard_changes()
        self._windows.discard_changes()
        self._restore(owned)

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._readiness.ready = False
        keys = [(tp.topic, tp.partition) for tp in partitions]
        started = time.monotonic()
        restored = self._restore(keys)
        self._owned.update(keys)
        self._readiness.restored()
        log.info(
            "partitions assigned; state restored",
            extra={
                "partitions": sorted(f"{t}[{p}]" for t, p in keys),
                "keys_restored": restored,
                "restore_seconds": round(time.monotonic() - started, 3),
                "since_start_s": round(time.monotonic() - self._readiness.started_at, 3),
            },
        )

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._readiness.ready = False
        keys = {(tp.topic, tp.partition) for tp in partitions}
        self._commit({k: o for k, o in self._done.items() if k in keys}, asynchronous=False)
        self._forget(keys)
        log.info("partitions revoked", extra={"partitions": sorted(f"{t}[{p}]" for t, p in keys)})

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._readiness.ready = False
        keys = {(tp.topic, tp.partition) for tp in partitions}
        self._forget(keys)
        log.warning("partitions lost", extra={"partitions": sorted(f"{t}[{p}]" for t, p in keys)})

    def _forget(self, keys: set[Partition]) -> None:
        self._owned -= keys
        for key in keys:
            self._done.pop(key, None)
        for topic, store in self._stores.items():
            store.drop(p for t, p in keys if t == topic)

    def _restore(self, keys: Iterable[Partition]) -> int:
        """Read the changelog partitions of the stateful input partitions; keys restored."""
        restored = 0
        wanted = sorted(keys)
        for topic, store in self._stores.items():
            partitions = [p for t, p in wanted if t == topic]
            if partitions:
                restored += _restore(self._restorer, store, partitions)
        return restored

    def _shutdown(self) -> None:
        try:
            self._commit(dict(self._done), asynchronous=False)
            self._consumer.close()  # leaves the group; revocation commits again, harmlessly
        finally:
            self._restorer.close()
            self._outbox.close()


class Restorable(Protocol):
    changelog: str

    def restore(
        self, partition: int, records: Iterable[tuple[bytes | None, bytes | None]]
    ) -> int: ...


def _restore(restorer: Consumer, store: Restorable, partitions: list[int]) -> int:
    topic = store.changelog
    ends = {p: _end_offset(restorer, TopicPartition(topic, p)) for p in partitions}
    records: dict[int, list[tuple[bytes | None, bytes | None]]] = {p: [] for p in partitions}
    todo = {p for p in partitions if ends[p] > 0}
    if todo:
        restorer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(todo)])
        deadline = time.monotonic() + RESTORE_TIMEOUT_S
        try:
            while todo:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{topic}: {sorted(todo)} not restored in time")
                batch = restorer.consume(10_000, 0.2)
                for msg in batch:
                    partition, offset = msg.partition(), msg.offset()
                    if msg.error() or partition is None or offset is None:
                        continue
                    records[partition].append((msg.key(), msg.value()))
                    if offset + 1 >= ends[partition]:
                        todo.discard(partition)
                if not batch:  # compaction may have removed the last offsets: ask where we are
                    for tp in restorer.position([TopicPartition(topic, p) for p in todo]):
                        if tp.offset >= ends[tp.partition]:
                            todo.discard(tp.partition)
        finally:
            restorer.unassign()
    return sum(store.restore(p, records[p]) for p in partitions)


def _end_offset(restorer: Consumer, tp: TopicPartition, *, attempts: int = 60) -> int:
    """The partition's high watermark; asked again while a new topic elects its leader."""
    for attempt in range(attempts):
        try:
            return restorer.get_watermark_offsets(tp, timeout=30)[1]
        except KafkaException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def _headers(msg: Message) -> list[tuple[str, str | bytes | None]]:
    headers = msg.headers()
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, dict) else headers
