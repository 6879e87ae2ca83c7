"""Recording outcomes on Kafka: NotificationDelivered, NotificationFailed, ComplaintRejected."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Protocol

from confluent_kafka import KafkaException

from complaints_kit.kafka import AsyncProducer
from complaints_schemas.cloudevents import KafkaRecord, encode
from complaints_schemas.events import ComplaintRejected, NotificationDelivered, NotificationFailed
from complaints_schemas.topics import DELIVERED, FAILED, REJECTED

SOURCE = "/services/notifier"

log = logging.getLogger(__name__)


class Publisher(Protocol):
    async def delivered(self, event: NotificationDelivered, *, now: datetime) -> None:
        """Publish and return once the broker has acknowledged it."""
        ...

    async def failed(self, event: NotificationFailed, *, now: datetime) -> None: ...

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None: ...


class KafkaPublisher:
    """Waits for the broker's acknowledgement, retrying until it comes (the offset waits too)."""

    def __init__(self, producer: AsyncProducer, *, retry_interval: float = 1.0) -> None:
        self._producer = producer
        self._retry_interval = retry_interval

    async def delivered(self, event: NotificationDelivered, *, now: datetime) -> None:
        # Keyed and identified by notification id: the compacted topic keeps one per notification.
        await self._send(
            DELIVERED.name, encode(event, source=SOURCE, id=event.notification_id, time=now)
        )

    async def failed(self, event: NotificationFailed, *, now: datetime) -> None:
        await self._send(
            FAILED.name, encode(event, source=SOURCE, id=event.notification_id, time=now)
        )

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None:
        await self._send(REJECTED.name, encode(event, source=SOURCE, id=id, time=event.rejected_at))

    async def _send(self, topic: str, record: KafkaRecord) -> None:
        while True:
            try:
                await self._producer.send(topic, record)
                return
            except BufferError:
                await asyncio.sleep(0.05)  # local queue full: let it drain
            except KafkaException as exc:
                log.warning("publish failed, retrying", extra={"topic": topic, "error": str(exc)})
                await asyncio.sleep(self._retry_interval)
