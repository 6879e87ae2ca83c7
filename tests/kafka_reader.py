"""Reading a topic to its end, for assertions on what the pipeline really published."""

from __future__ import annotations

import time
import uuid
from typing import TypeVar

from confluent_kafka import Consumer, TopicPartition

from complaints_schemas import cloudevents
from complaints_schemas.events import Event

E = TypeVar("E", bound=Event)


def read_raw(
    bootstrap: str, topic: str, *, timeout: float = 10.0
) -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    """Every record of a topic from the beginning to the current end: (key, value, headers)."""
    return [(key, value, headers) for _, _, key, value, headers in _read(bootstrap, topic, timeout)]


def read_positions(
    bootstrap: str, topic: str, *, timeout: float = 10.0
) -> list[tuple[int, int, bytes | None]]:
    """(partition, offset, value) of every record of a topic to its current end."""
    return [(p, o, value) for p, o, _, value, _ in _read(bootstrap, topic, timeout)]


def _read(
    bootstrap: str, topic: str, timeout: float
) -> list[tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"e2e-reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout)
        partitions = [TopicPartition(topic, p, 0) for p in metadata.topics[topic].partitions]
        ends = {
            tp.partition: consumer.get_watermark_offsets(tp, timeout=timeout)[1]
            for tp in partitions
        }
        todo = {p for p, end in ends.items() if end > 0}
        consumer.assign(partitions)
        records = []
        deadline = time.monotonic() + timeout
        while todo and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            records.append(
                (msg.partition(), msg.offset(), msg.key(), msg.value(), list(msg.headers() or []))
            )
            if msg.offset() + 1 >= ends[msg.partition()]:
                todo.discard(msg.partition())
        return records
    finally:
        consumer.close()


def read_events(bootstrap: str, topic: str, model: type[E], *, timeout: float = 10.0) -> list[E]:
    """The valid events of a topic; other suites put deliberately broken records beside them."""
    events = []
    for _, value, headers in read_raw(bootstrap, topic, timeout=timeout):
        try:
            events.append(cloudevents.decode(model, value, headers).data)
        except cloudevents.DecodeError:
            continue
    return events


def wait_for(predicate, *, timeout: float, interval: float = 0.25, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll until predicate() is truthy; return its value or fail with `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
