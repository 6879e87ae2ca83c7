"""Escalations out through a confluent-kafka producer: a batch queued in C, awaited once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from mode import Service

from complaints_kit.kafka import AsyncProducer, Producible


class BatchProducer(Service):
    """Sends batches of records and waits once per batch for the broker's acks.

    The producer is made on the first send (nothing connects at build time) and flushed
    and closed when the worker stops. faust's producer sends each record through Python
    (~0.5-1 ms each in a burst); this one queues a batch in librdkafka and wakes the event
    loop once, when the last record is acknowledged.
    """

    def __init__(
        self,
        *,
        config: dict[str, Any],
        factory: Callable[[dict[str, Any]], AsyncProducer] = AsyncProducer,
    ) -> None:
        super().__init__()
        self._config = config
        self._factory = factory
        self._producer: AsyncProducer | None = None

    async def send_all(self, topic: str, records: Sequence[Producible]) -> None:
        if self._producer is None:
            self._producer = self._factory(self._config)
        await self._producer.send_all(topic, records)

    async def on_stop(self) -> None:
        if self._producer is not None:
            await asyncio.to_thread(self._producer.close)
            self._producer = None
