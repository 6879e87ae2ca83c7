"""confluent-kafka client factories, topic provisioning and an asyncio-friendly producer."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    NewTopic,
)

from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import KafkaRecord
from complaints_schemas.topics import COMPLAINT_PARTITIONS, Topic

log = logging.getLogger(__name__)


def client_config(settings: KafkaSettings) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "security.protocol": settings.security_protocol,
    }
    if settings.sasl_mechanism:
        config["sasl.mechanism"] = settings.sasl_mechanism
        config["sasl.username"] = settings.sasl_username or ""
        config["sasl.password"] = (
            settings.sasl_password.get_secret_value() if settings.sasl_password else ""
        )
    if settings.ssl_ca_location:
        config["ssl.ca.location"] = settings.ssl_ca_location
    return config


def producer_config(settings: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """Durable, ordered, idempotent; murmur2 so keys land where faust (aiokafka) puts them."""
    return {
        **client_config(settings),
        "enable.idempotence": True,
        "acks": "all",
        "partitioner": "murmur2_random",
        "linger.ms": 5,
        "compression.type": "lz4",
        **overrides,
    }


def consumer_config(settings: KafkaSettings, group_id: str, **overrides: Any) -> dict[str, Any]:
    """Manual commits: a consumer commits only what it has fully handled."""
    return {
        **client_config(settings),
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 1_000,
        **overrides,
    }


StoredRecord = tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes]]]


def read_topic(
    settings: KafkaSettings, topic: str, *, timeout: float = 30.0, partial: bool = False
) -> list[StoredRecord]:
    """Every record of a topic from its start to its end as it is now, outside any group:
    (partition, offset, key, value, headers). For tools and tests, not for services. What
    is not read within `timeout` raises TimeoutError, or is left out with `partial`."""
    consumer = Consumer(consumer_config(settings, f"complaints-reader-{uuid.uuid4().hex}"))
    try:
        metadata = consumer.list_topics(topic, timeout=timeout)
        if metadata.topics[topic].error is not None:
            raise KafkaException(metadata.topics[topic].error)
        partitions = [
            TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.topics[topic].partitions
        ]
        ends = {
            tp.partition: consumer.get_watermark_offsets(tp, timeout=timeout) for tp in partitions
        }
        todo = {p for p, (low, high) in ends.items() if high > low}
        consumer.assign(partitions)
        records: list[StoredRecord] = []
        deadline = time.monotonic() + timeout
        while todo and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            partition, offset = msg.partition(), msg.offset()
            if partition is None or offset is None:
                continue
            raw_headers = msg.headers() or []
            pairs = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
            headers = [(k, v) for k, v in pairs if isinstance(v, bytes)]
            records.append((partition, offset, msg.key(), msg.value(), headers))
            if offset + 1 >= ends[partition][1]:
                todo.discard(partition)
        if todo and not partial:
            raise TimeoutError(
                f"{topic}: partitions {sorted(todo)} not read to the end in {timeout} s"
            )
        return records
    finally:
        consumer.close()


def cluster_id(settings: KafkaSettings, *, timeout: float = 30.0) -> str:
    """The broker cluster's id (from metadata): tells one cluster from another."""
    metadata = AdminClient(client_config(settings)).list_topics(timeout=timeout)
    return str(metadata.cluster_id)


def laid_out(settings: KafkaSettings, topic: Topic) -> Topic:
    """A topic as this cluster should have it: co-partitioned topics (those declared with
    COMPLAINT_PARTITIONS) take KAFKA_TOPIC_PARTITIONS; every topic takes
    KAFKA_TOPIC_MIN_INSYNC_REPLICAS."""
    partitions = (
        settings.topic_partitions if topic.partitions == COMPLAINT_PARTITIONS else topic.partitions
    )
    config = {**topic.config, "min.insync.replicas": str(settings.topic_min_insync_replicas)}
    return replace(topic, partitions=partitions, config=config)


def provision_topics(
    settings: KafkaSettings, topics: Iterable[Topic], *, timeout: float = 30.0
) -> list[str]:
    """Create the topics that do not exist yet (replication factor, min.insync.replicas and
    partitions from the settings); return the names created."""
    admin = AdminClient(client_config(settings))
    wanted = [laid_out(settings, t) for t in topics]
    existing = set(admin.list_topics(timeout=timeout).topics)
    new = [
        NewTopic(
            t.name,
            num_partitions=t.partitions,
            replication_factor=settings.topic_replication_factor,
            config=t.topic_config(),
        )
        for t in wanted
        if t.name not in existing
    ]
    created: list[str] = []
    if not new:
        return created
    for name, future in admin.create_topics(new, operation_timeout=timeout).items():
        try:
            future.result(timeout=timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    _await_metadata(admin, [t for t in wanted if t.name in created], timeout=timeout)
    log.info("topics provisioned", extra={"topics_created": created})
    return created


def _await_metadata(admin: AdminClient, topics: list[Topic], *, timeout: float) -> None:
    """Until the broker's metadata shows every partition of the topics just created (a
    verification or a consumer right after creation would otherwise find them missing)."""
    deadline = time.monotonic() + timeout
    while topics and time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=timeout).topics
        shown = {
            name
            for name, found in metadata.items()
            if found.error is None and all(p.leader >= 0 for p in found.partitions.values())
        }
        if all(
            t.name in shown and len(metadata[t.name].partitions) == t.partitions for t in topics
        ):
            return
        time.sleep(0.1)


class TopicsNotReady(RuntimeError):
    """The cluster's topics are missing or laid out otherwise than the settings say."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def topic_problems(
    settings: KafkaSettings, topics: Iterable[Topic], *, timeout: float = 30.0
) -> list[str]:
    """What differs between the cluster and the settings: missing topics, another partition
    count, fewer replicas or a lower min.insync.replicas than configured. Empty when all is well."""
    admin = AdminClient(client_config(settings))
    wanted = [laid_out(settings, t) for t in topics]
    metadata = admin.list_topics(timeout=timeout).topics
    problems: list[str] = []
    present: list[Topic] = []
    for topic in wanted:
        found = metadata.get(topic.name)
        if found is None or found.error is not None:
            problems.append(f"{topic.name}: missing")
            continue
        present.append(topic)
        if len(found.partitions) != topic.partitions:
            problems.append(
                f"{topic.name}: {len(found.partitions)} partitions, expected {topic.partitions}"
            )
        replicas = min(len(p.replicas) for p in found.partitions.values())
        if replicas < settings.topic_replication_factor:
            problems.append(
                f"{topic.name}: replication factor {replicas}, "
                f"expected {settings.topic_replication_factor}"
            )
    if present:
        resources = [ConfigResource("topic", t.name) for t in present]
        for resource, future in admin.describe_configs(resources).items():
            entry = future.result(timeout=timeout).get("min.insync.replicas")
            value = int(entry.value) if entry is not None and entry.value else 1
            if value < settings.topic_min_insync_replicas:
                problems.append(
                    f"{resource.name}: min.insync.replicas {value}, "
                    f"expected {settings.topic_min_insync_replicas}"
                )
    return problems


def verify_topics(
    settings: KafkaSettings, topics: Iterable[Topic], *, timeout: float = 30.0
) -> None:
    """Raise TopicsNotReady naming every topic that is missing or laid out otherwise."""
    problems = topic_problems(settings, topics, timeout=timeout)
    if problems:
        raise TopicsNotReady(problems)


def prepare_topics(
    settings: KafkaSettings, topics: Iterable[Topic], *, timeout: float = 30.0
) -> list[str]:
    """What a service does at start: create missing topics (KAFKA_TOPICS=create, local runs)
    or only check them (verify, production: the provisioning Job created them)."""
    if settings.topics == "verify":
        verify_topics(settings, topics, timeout=timeout)
        return []
    return provision_topics(settings, topics, timeout=timeout)


def start_on_topics(service: str, settings: KafkaSettings, topics: Iterable[Topic]) -> None:
    """prepare_topics for a service's main(): topics not laid out as configured stop it with
    exit status 3, naming each problem (an orchestrator restarts it until the Job has run)."""
    try:
        prepare_topics(settings, topics)
    except TopicsNotReady as exc:
        log.error("topics not ready; not starting", extra={"problems": exc.problems})
        print(f"complaints-{service}: topics not ready: {exc}", file=sys.stderr)
        sys.exit(3)


class Producible(Protocol):
    """A record ready to produce (a KafkaRecord, or a service's pre-encoded one)."""

    @property
    def key(self) -> bytes: ...
    @property
    def value(self) -> bytes: ...
    @property
    def headers(self) -> Sequence[tuple[str, str | bytes | None]]: ...


class AsyncProducer:
    """A confluent-kafka producer whose sends are awaitable until the broker acknowledges."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._producer = Producer(config)
        self._stopping = threading.Event()
        self._poller = threading.Thread(target=self._poll_loop, name="kafka-producer-poll")
        self._poller.daemon = True
        self._poller.start()

    def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            self._producer.poll(0.05)

    def queued(self) -> int:
        return len(self._producer)

    def send(self, topic: str, record: KafkaRecord) -> asyncio.Future[Message]:
        """Queue a record; the future completes when the broker has it (acks=all).

        Raises BufferError at once when the local queue is full, so callers can push back.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Message] = loop.create_future()

        def delivered(err: KafkaError | None, msg: Message) -> None:
            loop.call_soon_threadsafe(_settle, future, err, msg)

        self._producer.produce(
            topic, key=record.key, value=record.value, headers=record.headers, on_delivery=delivered
        )
        return future

    async def send_all(self, topic: str, records: Sequence[Producible]) -> None:
        """Queue every record, then wait once until the broker has them all (acks=all).

        One future and one wake-up of the event loop for the whole batch, not one per record;
        it fails with the first delivery error (the caller retries the batch: the records
        must be idempotent). A full local queue is waited out, not raised.
        """
        if not records:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        batch = _Batch(loop, done, len(records))
        for record in records:
            while True:
                try:
                    self._producer.produce(
                        topic,
                        key=record.key,
                        value=record.value,
                        headers=list(record.headers),
                        on_delivery=batch.delivered,
                    )
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    await asyncio.to_thread(self._producer.flush, 0.1)
        await done

    async def flush(self, wait_seconds: float = 30.0) -> int:
        return await asyncio.to_thread(self._producer.flush, wait_seconds)

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
        self._stopping.set()
        self._poller.join(timeout=2)


def _settle(future: asyncio.Future[Message], err: KafkaError | None, msg: Message) -> None:
    if future.done():
        return
    if err is not None:
        future.set_exception(KafkaException(err))
    else:
        future.set_result(msg)


class _Batch:
    """Counts a batch's deliveries on the poll thread; settles its future once."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None], size: int
    ) -> None:
        self._loop = loop
        self._future = future
        self._left = size
        self._failed = False
        self._lock = threading.Lock()

    def delivered(self, err: KafkaError | None, msg: Message) -> None:
        with self._lock:
            if self._failed:
                return
            if err is not None:
                self._failed = True
                self._loop.call_soon_threadsafe(_fail, self._future, err)
                return
            self._left -= 1
            if self._left == 0:
                self._loop.call_soon_threadsafe(_done, self._future)


def _fail(future: asyncio.Future[None], err: KafkaError) -> None:
    if not future.done():
        future.set_exception(KafkaException(err))


def _done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
