"""Builds the projector from settings: database, consumer, dead-letter producer, ops server."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from confluent_kafka import Consumer, Producer
from prometheus_client import CollectorRegistry

from complaints_console.metrics import ProjectorMetrics
from complaints_console.projector.consumer import Projector
from complaints_console.readmodel.database import engine_for, migrate
from complaints_console.settings import ProjectorSettings
from complaints_kit.clock import Clock, SystemClock
from complaints_kit.kafka import consumer_config, producer_config
from complaints_kit.ops_server import OpsServer
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import encode
from complaints_schemas.events import ComplaintRejected
from complaints_schemas.topics import REJECTED

log = logging.getLogger(__name__)
SOURCE = "/services/projector"


@dataclass
class ProjectorService:
    projector: Projector
    producer: Producer
    ops: OpsServer
    settings: ProjectorSettings

    async def run(self, stop: asyncio.Event) -> None:
        await self.ops.start()
        log.info("ops server listening", extra={"port": self.ops.port})
        try:
            await asyncio.to_thread(self.projector.subscribe)
            while not stop.is_set():
                await asyncio.to_thread(self.projector.poll_once, 0.5)
        finally:
            await asyncio.to_thread(self.projector.close)
            await asyncio.to_thread(self.producer.flush, 10)
            await self.ops.stop()
            log.info("projector stopped")


def build_service(
    settings: ProjectorSettings,
    kafka: KafkaSettings,
    *,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
) -> ProjectorService:
    """Migrate the database, then wire the consumer (it connects when run)."""
    clock = clock or SystemClock()
    registry = registry if registry is not None else CollectorRegistry()
    engine = engine_for(settings.database_url)
    migrate(engine)
    metrics = ProjectorMetrics(registry)
    producer = Producer(producer_config(kafka))

    def reject(dead_letter_id: str, event: ComplaintRejected) -> None:
        record = encode(event, source=SOURCE, id=dead_letter_id, time=event.rejected_at)
        producer.produce(REJECTED.name, key=record.key, value=record.value, headers=record.headers)
        producer.flush(30)

    projector = Projector(
        # Eager assignment: the start offsets come from the database in on_assign.
        consumer=Consumer(
            consumer_config(
                kafka, settings.consumer_group, **{"partition.assignment.strategy": "range"}
            )
        ),
        engine=engine,
        metrics=metrics,
        now=clock.now,
        reject=reject,
        batch_size=settings.batch_size,
        retention=settings.retention,
        purge_every=settings.purge_every,
    )
    ops = OpsServer(
        registry=registry,
        ready=lambda: projector.assigned,
        host=settings.ops_host,
        port=settings.ops_port,
    )
    return ProjectorService(projector=projector, producer=producer, ops=ops, settings=settings)
