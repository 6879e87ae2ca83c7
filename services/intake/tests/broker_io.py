"""Reading and writing the real test broker."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from confluent_kafka import Consumer, Producer, TopicPartition

from complaints_kit.kafka import producer_config
from complaints_kit.settings import KafkaSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Raw:
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    partition: int
    offset: int


def read_topic(settings: KafkaSettings, topic: str) -> list[Raw]:
    """Every record of a topic from the beginning to its current end."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.bootstrap_servers,
            "group.id": f"intake-test-reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=10)
        tps = [TopicPartition(topic, p, 0) for p in meta.topics[topic].partitions]
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in tps}
        todo = {p for p, end in ends.items() if end > 0}
        consumer.assign(tps)
        out: list[Raw] = []
        deadline = time.monotonic() + 15
        while todo and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            headers = {k: v for k, v in msg.headers() or [] if isinstance(v, bytes)}
            out.append(Raw(msg.key(), msg.value(), headers, msg.partition(), msg.offset()))
            if msg.offset() + 1 >= ends[msg.partition()]:
                todo.discard(msg.partition())
        return out
    finally:
        consumer.close()


def produce_raw(
    settings: KafkaSettings,
    topic: str,
    records: list[tuple[bytes, bytes, list[tuple[str, bytes]] | None]],
) -> None:
    """Send (key, value, headers) records in order, all to one partition (order matters)."""
    producer = Producer(producer_config(settings))
    for key, value, headers in records:
        producer.produce(topic, key=key, value=value, headers=headers, partition=0)
    assert producer.flush(10) == 0


def committed(settings: KafkaSettings, group: str, topic: str, partition: int) -> int:
    consumer = Consumer({"bootstrap.servers": settings.bootstrap_servers, "group.id": group})
    try:
        [tp] = consumer.committed([TopicPartition(topic, partition)], timeout=10)
        return int(tp.offset)
    finally:
        consumer.close()


def wait_for(predicate: Callable[[], T], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


async def eventually(predicate: Callable[[], T], *, within: float, what: str) -> T:
    """wait_for for async tests: the predicate runs in a thread so the app's loop keeps going."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
