"""AsyncProducer.send_all: a batch queued at once and awaited once, on a real broker."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.partitioner import murmur2
from confluent_kafka import KafkaException

from complaints_kit.kafka import AsyncProducer, producer_config, provision_topics, read_topic
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import KafkaRecord
from complaints_schemas.topics import Topic


def records(n: int) -> list[KafkaRecord]:
    return [
        KafkaRecord(f"c-{i}".encode(), f"v-{i}".encode(), [("ce_id", f"id-{i}"), ("x", None)])
        for i in range(n)
    ]


@pytest.mark.kafka
async def test_a_batch_is_delivered_whole_before_the_await_returns(
    kafka_settings: KafkaSettings,
) -> None:
    topic = Topic(f"test.batch-{uuid.uuid4().hex[:8]}.v1", 6, key="id", description="t")
    provision_topics(kafka_settings, [topic])
    producer = AsyncProducer(producer_config(kafka_settings))
    try:
        await producer.send_all(topic.name, records(3000))
        # Read before close() flushes: what the broker holds once the await returns. (Not
        # queued() == 0: the last delivery report's callback may still be running then.)
        stored = read_topic(kafka_settings, topic.name)
    finally:
        producer.close()
    assert sorted(value for _, _, _, value, _ in stored) == sorted(r.value for r in records(3000))
    for partition, _, key, _, headers in stored:  # keyed like faust's (aiokafka) producer
        assert key is not None
        assert partition == (murmur2(key) & 0x7FFFFFFF) % 6
        assert [name for name, _ in headers] == ["ce_id"]


async def test_a_failed_delivery_fails_the_batch() -> None:
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:1")  # nothing listens there
    producer = AsyncProducer(producer_config(settings, **{"message.timeout.ms": 300}))
    try:
        with pytest.raises(KafkaException):
            await producer.send_all("test.nowhere.v1", records(20))
    finally:
        producer.close(timeout=0.5)


async def test_an_empty_batch_returns_at_once() -> None:
    producer = AsyncProducer(producer_config(KafkaSettings(bootstrap_servers="127.0.0.1:1")))
    try:
        await producer.send_all("test.nowhere.v1", [])
    finally:
        producer.close(timeout=0.5)
