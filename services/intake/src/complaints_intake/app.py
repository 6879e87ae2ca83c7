"""Builds the intake service from settings; the lifespan connects, the shutdown drains."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from confluent_kafka import Consumer
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from complaints_intake.domain.dedup import DedupWindow
from complaints_intake.inbound.handlers import IntakeHandlers
from complaints_intake.inbound.http.api import create_http_app
from complaints_intake.inbound.kafka.consumer import SubmittedConsumer
from complaints_intake.inbound.kafka.submitted import SubmittedRecordHandler
from complaints_intake.metrics import IntakeMetrics
from complaints_intake.outbound.accepted_log import AcceptedLog
from complaints_intake.outbound.publisher import IntakePublisher
from complaints_intake.settings import IntakeSettings
from complaints_kit.clock import Clock, service_clock
from complaints_kit.kafka import (
    AsyncProducer,
    client_config,
    consumer_config,
    prepare_topics,
    producer_config,
)
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import ALL_TOPICS, SUBMITTED

log = logging.getLogger(__name__)
# librdkafka's own log lines, routed through logging (JSON, masked) instead of raw stderr.
_RDKAFKA = logging.getLogger("complaints_intake.rdkafka")

PROVISION_TIMEOUT = 5.0
PROVISION_RETRY = 1.0


class IntakeRuntime:
    """Owns the producer and the consumer: started by the app's lifespan, stopped by its end."""

    def __init__(
        self,
        *,
        settings: IntakeSettings,
        kafka: KafkaSettings,
        metrics: IntakeMetrics,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._kafka = kafka
        self._metrics = metrics
        self._clock = clock
        self._stop = asyncio.Event()
        self._started = False
        self._consumer: SubmittedConsumer | None = None
        self._consumer_task: asyncio.Task[None] | None = None
        self._accepted_log: AcceptedLog | None = None
        self._accepted_task: asyncio.Task[None] | None = None

    def ready(self) -> bool:
        """Topics exist, the producer is up and, if enabled, the consumer is polling."""
        if not self._started or self._stop.is_set():
            return False
        log_task = self._accepted_task
        if self._accepted_log is not None and (
            log_task is None or log_task.done() or not self._accepted_log.loaded
        ):
            return False
        if not self._settings.consume_submitted:
            return True
        task, consumer = self._consumer_task, self._consumer
        return task is not None and not task.done() and consumer is not None and consumer.polling

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        self._stop = asyncio.Event()
        delivery_ms = int(self._settings.delivery_timeout.total_seconds() * 1000)
        producer = AsyncProducer(
            producer_config(self._kafka, **{"message.timeout.ms": delivery_ms, "logger": _RDKAFKA})
        )
        dedup = DedupWindow(
            ttl=self._settings.dedup_ttl, max_entries=self._settings.dedup_max_entries
        )
        self._metrics.watch_dedup(lambda: len(dedup))
        self._accepted_log = None
        if self._settings.dedup_shared:
            self._accepted_log = AcceptedLog(
                client_config(self._kafka), window=dedup, ttl=self._settings.dedup_ttl
            )
        handlers = IntakeHandlers(
            publisher=IntakePublisher(producer),
            dedup=dedup,
            clock=self._clock,
            metrics=self._metrics,
            window=self._settings.occurred_window(),
            shared=self._accepted_log,
            sync_timeout=self._settings.dedup_sync_timeout.total_seconds(),
        )
        app.state.handlers = handlers
        starting = asyncio.create_task(self._start(handlers), name="intake-start")
        try:
            yield
        finally:
            self._stop.set()
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            await self._stop_consumer()
            await self._stop_accepted_log()
            app.state.handlers = None
            # Anything still queued (e.g. a request cut short) gets its chance to be delivered.
            await asyncio.to_thread(producer.close, self._settings.shutdown_timeout.total_seconds())
            self._started = False
            log.info("intake stopped")

    async def _start(self, handlers: IntakeHandlers) -> None:
        if self._settings.provision_topics:
            await self._provision()
        if self._accepted_log is not None:
            # Read what every intake process accepted within the window before being ready.
            accepted_log = self._accepted_log
            self._accepted_task = asyncio.create_task(
                accepted_log.run(self._stop, now=self._clock.now()), name="intake-accepted-log"
            )
            self._accepted_task.add_done_callback(_log_accepted_log_exit)
            while not accepted_log.loaded and not self._accepted_task.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._accepted_task), timeout=0.05)
        if self._settings.consume_submitted:
            consumer = SubmittedConsumer(
                consumer=Consumer(
                    consumer_config(self._kafka, self._settings.consumer_group, logger=_RDKAFKA)
                ),
                topic=SUBMITTED.name,
                handle=SubmittedRecordHandler(
                    handlers=handlers,
                    metrics=self._metrics,
                    max_bytes=self._settings.max_body_bytes,
                ),
                batch_size=self._settings.consumer_batch_size,
            )
            self._consumer = consumer
            self._consumer_task = asyncio.create_task(
                consumer.run(self._stop), name="intake-submitted-consumer"
            )
            self._consumer_task.add_done_callback(_log_consumer_exit)
        self._started = True
        log.info("intake started", extra={"consume_submitted": self._settings.consume_submitted})

    async def _provision(self) -> None:
        """Create missing topics (or, with KAFKA_TOPICS=verify, check them), retrying until the
        broker answers and they are laid out as configured (readiness waits for it)."""
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(
                    prepare_topics, self._kafka, ALL_TOPICS, timeout=PROVISION_TIMEOUT
                )
                return
            except Exception as exc:
                log.warning("topic provisioning failed; retrying", extra={"error": str(exc)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=PROVISION_RETRY)

    async def _stop_accepted_log(self) -> None:
        if self._accepted_task is not None:
            await _stopped(self._accepted_task, self._settings.shutdown_timeout, "accepted log")
        self._accepted_task = None
        self._accepted_log = None

    async def _stop_consumer(self) -> None:
        if self._consumer_task is not None:
            await _stopped(self._consumer_task, self._settings.shutdown_timeout, "consumer")
        self._consumer_task = None
        self._consumer = None


async def _stopped(task: asyncio.Task[None], grace: timedelta, name: str) -> None:
    """Wait for a task told to stop; cancel it when it does not in time. Its failure was
    logged by its done callback."""
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=grace.total_seconds())
    except TimeoutError:
        log.warning("task did not stop in time; cancelling", extra={"task": name})
        task.cancel()
    except Exception:
        pass


def _log_accepted_log_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("accepted log stopped", exc_info=task.exception())


def _log_consumer_exit(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("submitted consumer stopped", exc_info=task.exception())


def create_app(
    settings: IntakeSettings,
    kafka: KafkaSettings,
    *,
    registry: CollectorRegistry | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The intake ASGI app; nothing connects until its lifespan starts."""
    registry = registry if registry is not None else CollectorRegistry()
    clock = clock if clock is not None else service_clock()
    metrics = IntakeMetrics(registry)
    runtime = IntakeRuntime(settings=settings, kafka=kafka, metrics=metrics, clock=clock)
    return create_http_app(
        settings=settings,
        metrics=metrics,
        registry=registry,
        clock=clock,
        ready=runtime.ready,
        lifespan=runtime.lifespan,
    )
