from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from prometheus_client import CollectorRegistry

from complaints_kit.kafka import provision_topics
from complaints_kit.lag import ConsumerLagCollector, lag_by_partition
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import Topic


@pytest.mark.parametrize(
    ("committed", "ends", "expected"),
    [
        ({("t", 0): 5}, {("t", 0): 12}, {("t", 0): 7}),
        ({}, {("t", 0): 3}, {("t", 0): 3}),
        ({("t", 0): -1001}, {("t", 0): 4}, {("t", 0): 4}),
        ({("t", 0): 9}, {("t", 0): 9, ("t", 1): 0}, {("t", 0): 0, ("t", 1): 0}),
    ],
)
def test_lag_by_partition(
    committed: dict[tuple[str, int], int],
    ends: dict[tuple[str, int], int],
    expected: dict[tuple[str, int], int],
) -> None:
    assert lag_by_partition(committed, ends) == expected


@pytest.mark.kafka
def test_lag_follows_commits_on_a_real_broker(kafka_settings: KafkaSettings) -> None:
    topic = f"lag-test-{uuid.uuid4().hex[:8]}"
    group = f"lag-group-{uuid.uuid4().hex[:8]}"
    provision_topics(kafka_settings, [Topic(topic, 2, key="k", description="lag test")])
    producer = Producer({"bootstrap.servers": kafka_settings.bootstrap_servers})
    for i in range(10):
        producer.produce(topic, value=b"x", partition=i % 2)
    producer.flush(10)
    registry = CollectorRegistry()
    ConsumerLagCollector(kafka_settings, group=group, topics=[topic], registry=registry)

    def lag() -> float:
        return sum(
            registry.get_sample_value(
                "complaints_kafka_consumer_lag_messages",
                {"group": group, "topic": topic, "partition": str(p)},
            )
            or 0.0
            for p in (0, 1)
        )

    def settles_at(expected: float) -> float:
        # Right after broker start the group coordinator may still be loading.
        deadline = time.monotonic() + 15
        while lag() != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        return lag()

    assert settles_at(10) == 10
    consumer = Consumer({"bootstrap.servers": kafka_settings.bootstrap_servers, "group.id": group})
    consumer.commit(
        offsets=[TopicPartition(topic, 0, 5), TopicPartition(topic, 1, 2)], asynchronous=False
    )
    consumer.close()
    assert settles_at(3) == 3
