"""Builds the classifier from settings: clients, stores, handlers, the stream loop, ops server.

Nothing connects here: `ClassifierService.run` starts the ops server and the stream loop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from complaints_classifier.domain.customer import CustomerState
from complaints_classifier.domain.rules import RuleSet
from complaints_classifier.domain.window import WindowState
from complaints_classifier.inbound.handlers import Handlers
from complaints_classifier.inbound.stream import ClassifierStream, Readiness, StreamTopics
from complaints_classifier.live_rules import LiveRules
from complaints_classifier.metrics import ClassifierMetrics
from complaints_classifier.outbound.publisher import BatchPublisher, Outbox
from complaints_classifier.outbound.state import ChangelogStore
from complaints_classifier.settings import ClassifierSettings
from complaints_kit.clock import Clock, service_clock
from complaints_kit.kafka import consumer_config, producer_config
from complaints_kit.ops_server import OpsServer
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import (
    ACCEPTED,
    CLASSIFIED,
    COMPLAINT_PARTITIONS,
    LIFECYCLE,
    REJECTED,
    Cleanup,
    Topic,
)

log = logging.getLogger(__name__)

WINDOW_TABLE = "windows"
CUSTOMER_TABLE = "customers"

__all__ = ["ClassifierService", "Readiness", "RuleReloads", "build_service", "internal_topics"]


def repartition_topic_name(app_id: str) -> str:
    return f"{app_id}-by-fingerprint"


def customer_topic_name(app_id: str) -> str:
    return f"{app_id}-by-customer"


def changelog_topic_name(app_id: str, table: str) -> str:
    return f"{app_id}-{table}-changelog"


def stream_topics(app_id: str) -> StreamTopics:
    return StreamTopics(
        accepted=ACCEPTED.name,
        by_customer=customer_topic_name(app_id),
        by_fingerprint=repartition_topic_name(app_id),
    )


def internal_topics(app_id: str) -> list[Topic]:
    """The repartition and changelog topics, created before the worker joins its group.

    The names are those of the faust era, so an upgraded worker keeps its group's offsets
    and restores the state its predecessor wrote.
    """
    week_ms = 7 * 24 * 3600 * 1000
    repartition = [
        Topic(name, COMPLAINT_PARTITIONS, key, "classifier internal", retention_ms=week_ms)
        for name, key in (
            (customer_topic_name(app_id), "customer id"),
            (repartition_topic_name(app_id), "fingerprint"),
        )
    ]
    changelogs = [
        Topic(
            changelog_topic_name(app_id, table),
            COMPLAINT_PARTITIONS,
            key,
            "classifier table changelog",
            cleanup=Cleanup.COMPACT,
        )
        for table, key in ((WINDOW_TABLE, "fingerprint"), (CUSTOMER_TABLE, "customer id"))
    ]
    return repartition + changelogs


class RuleReloads:
    """SIGHUP's reloads and the file poll, applied by the stream loop between batches."""

    def __init__(self, rules: LiveRules, *, poll_seconds: float) -> None:
        self._rules = rules
        self._poll_seconds = poll_seconds
        self._requested = threading.Event()
        self._last_poll = time.monotonic()

    def request(self) -> None:
        """From the signal handler (another thread): reload before the next batch."""
        self._requested.set()

    def __call__(self) -> None:
        if self._requested.is_set():
            self._requested.clear()
            self._rules.reload(trigger="SIGHUP")
        now = time.monotonic()
        if self._poll_seconds > 0 and now - self._last_poll >= self._poll_seconds:
            self._last_poll = now
            self._rules.poll()


@dataclass
class ClassifierService:
    stream: ClassifierStream
    handlers: Handlers
    readiness: Readiness
    registry: CollectorRegistry
    rules: LiveRules
    ops: OpsServer

    async def run(self, stop: asyncio.Event) -> None:
        """Serve ops and run the stream loop (in its own thread) until `stop` is set.

        SIGHUP asks for a rules reload; the loop applies it between batches, as it applies
        the file poll, so a batch never mixes two rule sets.
        """
        loop = asyncio.get_running_loop()
        halt, ended = threading.Event(), asyncio.Event()
        failures: list[BaseException] = []

        def work() -> None:
            try:
                self.stream.run(halt)
            except BaseException as exc:
                failures.append(exc)
            finally:  # however the loop ended, the service stops with it
                loop.call_soon_threadsafe(ended.set)

        loop.add_signal_handler(signal.SIGHUP, self.reloads.request)
        await self.ops.start()
        log.info("ops server listening", extra={"port": self.ops.port})
        worker = threading.Thread(target=work, name="classifier-stream", daemon=True)
        worker.start()
        waits = {asyncio.create_task(stop.wait()), asyncio.create_task(ended.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            halt.set()
            await ended.wait()
        finally:
            for task in waits:
                task.cancel()
            await self.ops.stop()
        if failures:
            raise RuntimeError("the stream loop failed") from failures[0]
        if not stop.is_set():
            raise RuntimeError("the stream loop ended unasked")

    reloads: RuleReloads


def stream_consumer_config(settings: ClassifierSettings, kafka: KafkaSettings) -> dict[str, Any]:
    """The group consumer's settings: large fetches, static membership when named."""
    static = {"group.instance.id": settings.group_instance_id} if settings.group_instance_id else {}
    return consumer_config(
        kafka,
        settings.app_id,
        # Fetch in large batches: the loop takes what has arrived, up to max_batch.
        **{"fetch.wait.max.ms": 50, "queued.min.messages": 4 * settings.max_batch},
        **static,
    )


def build_service(
    settings: ClassifierSettings,
    kafka: KafkaSettings,
    *,
    rules: RuleSet,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
) -> ClassifierService:
    """Wire everything; the clients connect once the service runs."""
    clock = clock or service_clock()
    registry = registry or CollectorRegistry()
    metrics = ClassifierMetrics(registry, categories=tuple(c.id for c in rules.categories))
    topics = stream_topics(settings.app_id)
    customers = ChangelogStore(
        changelog=changelog_topic_name(settings.app_id, CUSTOMER_TABLE), model=CustomerState
    )
    windows = ChangelogStore(
        changelog=changelog_topic_name(settings.app_id, WINDOW_TABLE), model=WindowState
    )
    outbox = Outbox(producer_config(kafka, **{"linger.ms": 2}))
    live = LiveRules(settings.rules_path(), rules, metrics=metrics)
    handlers = Handlers(
        rules=live,
        customers=customers,
        store=windows,
        publisher=BatchPublisher(
            outbox,
            to_customer=topics.by_customer,
            to_window=topics.by_fingerprint,
            classified=CLASSIFIED.name,
            rejected=REJECTED.name,
            lifecycle=LIFECYCLE.name,
        ),
        clock=clock,
        metrics=metrics,
        identity_key=settings.identity_key.get_secret_value().encode()
        if settings.identity_key is not None
        else None,
    )
    readiness = Readiness()
    consumer = stream_consumer_config(settings, kafka)
    # Reads changelog partitions by assignment; never subscribes, never commits.
    restorer = consumer_config(kafka, f"{settings.app_id}-restore")
    ops = OpsServer(
        registry=registry, ready=readiness, host=settings.ops_host, port=settings.ops_port
    )
    reloads = RuleReloads(live, poll_seconds=settings.rules_poll_seconds)
    stream = ClassifierStream(
        consumer=consumer,
        restorer=restorer,
        outbox=outbox,
        handlers=handlers,
        customers=customers,
        windows=windows,
        topics=topics,
        readiness=readiness,
        metrics=metrics,
        max_batch=settings.max_batch,
        between_batches=reloads,
    )
    service = ClassifierService(
        stream=stream,
        handlers=handlers,
        readiness=readiness,
        registry=registry,
        rules=live,
        ops=ops,
        reloads=reloads,
    )
    return service
