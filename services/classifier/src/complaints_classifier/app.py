"""Builds the classifier from settings: faust app, topics, window table, agents, ops server."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import faust
from prometheus_client import CollectorRegistry

from complaints_classifier.domain.rules import RuleSet
from complaints_classifier.inbound.agents import register_agents
from complaints_classifier.inbound.handlers import Handlers
from complaints_classifier.live_rules import LiveRules
from complaints_classifier.metrics import ClassifierMetrics
from complaints_classifier.outbound.customer_store import TableCustomerStore
from complaints_classifier.outbound.publisher import FaustPublisher
from complaints_classifier.outbound.window_store import TableWindowStore
from complaints_classifier.settings import ClassifierSettings
from complaints_kit.clock import Clock, service_clock
from complaints_kit.ops_server import OpsServer
from complaints_kit.settings import KafkaSettings
from complaints_kit.streams import RAW, faust_app
from complaints_schemas.topics import (
    ACCEPTED,
    CLASSIFIED,
    COMPLAINT_PARTITIONS,
    REJECTED,
    Cleanup,
    Topic,
)

log = logging.getLogger(__name__)

WINDOW_TABLE = "windows"
CUSTOMER_TABLE = "customers"


@dataclass
class Readiness:
    """Ready once partitions are assigned and the window table recovered; not while rebalancing."""

    ready: bool = False
    started_at: float = field(default_factory=time.monotonic)
    first_ready_after_s: float | None = None

    def __call__(self) -> bool:
        return self.ready


@dataclass
class ClassifierService:
    app: faust.App
    handlers: Handlers
    readiness: Readiness
    registry: CollectorRegistry
    rules: LiveRules


def repartition_topic_name(app_id: str) -> str:
    return f"{app_id}-by-fingerprint"


def customer_topic_name(app_id: str) -> str:
    return f"{app_id}-by-customer"


def internal_topics(app_id: str) -> list[Topic]:
    """The repartition and changelog topics, created before the worker joins its group.

    If faust creates them itself, the group's first assignment can run before the broker's
    metadata shows the newest one; that topic is then ignored and its stage never runs.
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
            f"{app_id}-{table}-changelog",
            COMPLAINT_PARTITIONS,
            key,
            "classifier table changelog",
            cleanup=Cleanup.COMPACT,
        )
        for table, key in ((WINDOW_TABLE, "fingerprint"), (CUSTOMER_TABLE, "customer id"))
    ]
    return repartition + changelogs


def build_service(
    settings: ClassifierSettings,
    kafka: KafkaSettings,
    *,
    rules: RuleSet,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
) -> ClassifierService:
    """Wire everything; nothing connects until the faust worker starts the app."""
    clock = clock or service_clock()
    registry = registry or CollectorRegistry()
    metrics = ClassifierMetrics(registry, categories=tuple(c.id for c in rules.categories))
    app = faust_app(settings.app_id, kafka, data_dir=settings.data_dir)
    raw = RAW
    accepted = app.topic(ACCEPTED.name, **raw)
    # Internal: records keyed by customer id, so one worker owns each customer's history.
    by_customer = app.topic(
        customer_topic_name(settings.app_id),
        partitions=kafka.topic_partitions,
        internal=True,
        retention=7 * 24 * 3600,
        **raw,
    )
    # Internal: records keyed by fingerprint, so one worker owns each fingerprint's window.
    by_fingerprint = app.topic(
        repartition_topic_name(settings.app_id),
        partitions=kafka.topic_partitions,
        internal=True,
        retention=7 * 24 * 3600,
        **raw,
    )
    classified = app.topic(CLASSIFIED.name, **raw)
    rejected = app.topic(REJECTED.name, **raw)
    table = app.Table(
        WINDOW_TABLE,
        default=None,
        partitions=kafka.topic_partitions,
        # JSON keys (fingerprint) and values (WindowState dumps), whatever the app defaults.
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
        help="Sliding window and open cluster per fingerprint.",
    )
    customers = app.Table(
        CUSTOMER_TABLE,
        default=None,
        partitions=kafka.topic_partitions,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
        help="Each customer's recent complaints: repeats and omni-channel duplicates.",
    )
    live = LiveRules(settings.rules_path(), rules, metrics=metrics)
    handlers = Handlers(
        rules=live,
        customers=TableCustomerStore(customers),
        store=TableWindowStore(table),
        publisher=FaustPublisher(
            to_customer=by_customer,
            to_window=by_fingerprint,
            classified=classified,
            rejected=rejected,
        ),
        clock=clock,
        metrics=metrics,
    )
    register_agents(
        app,
        handlers=handlers,
        accepted=accepted,
        by_customer=by_customer,
        by_fingerprint=by_fingerprint,
    )
    readiness = Readiness()
    ops = OpsServer(
        registry=registry, ready=readiness, host=settings.ops_host, port=settings.ops_port
    )

    async def serve_ops() -> None:
        await ops.start()
        log.info("ops server listening", extra={"port": ops.port})
        try:
            await asyncio.Event().wait()
        finally:
            await ops.stop()

    async def on_revoked(sender: Any, revoked: set[Any], **_: Any) -> None:
        readiness.ready = False

    async def reload_on_sighup() -> None:
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, lambda: live.reload(trigger="SIGHUP")
        )

    app.task(serve_ops)
    app.task(reload_on_sighup)
    if settings.rules_poll_seconds > 0:

        async def poll_rules_file() -> None:
            live.poll()

        app.timer(settings.rules_poll_seconds, name="classifier.rules_poll")(poll_rules_file)
    app.on_partitions_revoked.connect(on_revoked)  # type: ignore[arg-type]

    # Both tables share the topics' partitions; faust recovers them together.
    @table.on_recover
    async def on_recovered() -> None:
        readiness.ready = True
        if readiness.first_ready_after_s is None:
            readiness.first_ready_after_s = time.monotonic() - readiness.started_at
        log.info(
            "window table recovered; ready",
            extra={
                "windows": len(table),
                "since_start_s": round(time.monotonic() - readiness.started_at, 3),
            },
        )

    return ClassifierService(
        app=app, handlers=handlers, readiness=readiness, registry=registry, rules=live
    )
