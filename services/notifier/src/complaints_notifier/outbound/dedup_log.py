"""The dedup log: ids of delivered notifications, read back from notifications.delivered.v1.

The topic is compacted and keyed by notification id, so it keeps one record per delivered
notification for ever; reading it from the beginning rebuilds the set after a restart.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from complaints_schemas.topics import DELIVERED

log = logging.getLogger(__name__)

_LATEST = OffsetSpec.latest()  # type: ignore[no-untyped-call]


class DedupLog:
    """A set of delivered notification ids, loaded from and kept up to date with the topic."""

    def __init__(self, config: dict[str, Any], *, topic: str = DELIVERED.name) -> None:
        # Assigned, never subscribed: no group is joined and no offset is committed.
        self._consumer = Consumer(
            {
                **config,
                "group.id": f"notifier-dedup-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
            }
        )
        self._admin = AdminClient(config)
        self._topic = topic
        self._ids: set[str] = set()
        self._lock = threading.Lock()
        self._partitions: list[int] = []  # the topic's partitions, read once
        self.loaded = False

    def __contains__(self, notification_id: object) -> bool:
        return notification_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, notification_id: str) -> None:
        """Record a delivery made here (its record on the topic follows)."""
        self._ids.add(notification_id)

    def catch_up(self, *, timeout: float = 60.0) -> int:
        """Read the topic up to its current high watermarks; return records read. Blocks."""
        with self._lock:
            read = self._read_to_end(timeout)
            self.loaded = True
            return read

    def close(self) -> None:
        with self._lock:
            self._consumer.close()

    def _read_to_end(self, timeout: float) -> int:
        if not self._partitions:
            meta = self._consumer.list_topics(self._topic, timeout=timeout)
            self._partitions = sorted(meta.topics[self._topic].partitions)
            self._consumer.assign(
                [TopicPartition(self._topic, p, OFFSET_BEGINNING) for p in self._partitions]
            )
        partitions = self._partitions
        ends = self._high_watermarks(partitions, timeout)
        positions = {
            tp.partition: tp.offset
            for tp in self._consumer.position([TopicPartition(self._topic, p) for p in partitions])
        }
        todo = {p for p, end in ends.items() if end > 0 and positions.get(p, -1) < end}
        read = 0
        deadline = time.monotonic() + timeout
        while todo:
            if time.monotonic() > deadline:
                raise TimeoutError(f"dedup log not read to its end within {timeout:.0f}s")
            msg = self._consumer.poll(0.2)
            if msg is None:
                continue
            partition, offset = msg.partition(), msg.offset()
            if partition is None or offset is None:
                continue
            err = msg.error()
            if err is not None:
                # An end-of-partition event from an earlier read carries an older offset.
                if err.code() == KafkaError._PARTITION_EOF and offset >= ends.get(partition, 0):
                    todo.discard(partition)
                elif err.code() != KafkaError._PARTITION_EOF:
                    log.warning("dedup log read error", extra={"error": str(err)})
                continue
            key = msg.key()
            if key is not None:
                notification = key.decode("utf-8", "replace")
                if msg.value() is None:
                    self._ids.discard(notification)  # a tombstone forgets it
                else:
                    self._ids.add(notification)
                read += 1
            if offset + 1 >= ends.get(partition, 0):
                todo.discard(partition)
        return read

    def _high_watermarks(self, partitions: list[int], timeout: float) -> dict[int, int]:
        """One batched ListOffsets request (the consumer's watermark query is one per partition)."""
        futures = self._admin.list_offsets(
            {TopicPartition(self._topic, p): _LATEST for p in partitions},
            request_timeout=timeout,
        )
        return {tp.partition: future.result().offset for tp, future in futures.items()}
