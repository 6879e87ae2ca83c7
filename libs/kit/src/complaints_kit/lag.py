"""Consumer lag per group and topic: committed offsets against the partitions' high watermarks.

confluent-kafka consumers and faust workers alike commit to the group coordinator, so one
collector serves every service. It asks the broker at scrape time (bounded by a timeout)
and registers on the registry it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from complaints_kit.kafka import client_config
from complaints_kit.settings import KafkaSettings

log = logging.getLogger(__name__)

Partition = tuple[str, int]


def lag_by_partition(
    committed: Mapping[Partition, int], ends: Mapping[Partition, int]
) -> dict[Partition, int]:
    """Messages not yet committed; a partition never committed lags by its whole length."""
    return {tp: max(0, end - max(committed.get(tp, 0), 0)) for tp, end in ends.items()}


class GroupOffsets:
    """A consumer group's committed offsets and its topics' end offsets, read without joining
    the group (a consumer that never subscribes only reads its offsets)."""

    def __init__(
        self, kafka: KafkaSettings, *, group: str, topics: Iterable[str], timeout: float = 3.0
    ) -> None:
        self._admin = AdminClient(client_config(kafka))
        self._reader = Consumer(
            {**client_config(kafka), "group.id": group, "enable.auto.commit": False}
        )
        self.group = group
        self._topics = list(topics)
        self._timeout = timeout

    def _partitions(self) -> list[TopicPartition]:
        metadata = self._admin.list_topics(timeout=self._timeout)
        return [
            TopicPartition(topic, p)
            for topic in self._topics
            if topic in metadata.topics
            for p in metadata.topics[topic].partitions
        ]

    def ends(self) -> dict[Partition, int]:
        futures: dict[TopicPartition, Future[Any]] = self._admin.list_offsets(
            {tp: OffsetSpec.latest() for tp in self._partitions()},  # type: ignore[no-untyped-call]
            request_timeout=self._timeout,
        )
        return {
            (tp.topic, tp.partition): int(f.result(self._timeout).offset)
            for tp, f in futures.items()
        }

    def committed(self) -> dict[Partition, int]:
        # (AdminClient.list_consumer_group_offsets crashed the process here.)
        committed = self._reader.committed(self._partitions(), timeout=self._timeout)
        return {(tp.topic, tp.partition): int(tp.offset) for tp in committed}


class ConsumerLagCollector(Collector):
    def __init__(
        self,
        kafka: KafkaSettings,
        *,
        group: str,
        topics: Iterable[str],
        registry: CollectorRegistry,
        timeout: float = 3.0,
    ) -> None:
        self._offsets = GroupOffsets(kafka, group=group, topics=topics, timeout=timeout)
        self._group = group
        registry.register(self)

    def describe(self) -> list[GaugeMetricFamily]:
        return [self._family()]

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "complaints_kafka_consumer_lag_messages",
            "Messages in a partition after the group's committed offset.",
            labels=["group", "topic", "partition"],
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = self._family()
        try:
            lags = lag_by_partition(self._offsets.committed(), self._offsets.ends())
        except Exception as exc:  # a scrape must not fail because the broker is slow
            log.warning("consumer lag unavailable: %r", exc)
            lags = {}
        for (topic, partition), lag in sorted(lags.items()):
            family.add_metric([self._group, topic, str(partition)], lag)
        yield family
