"""Builds the escalation service from settings: faust app, table, topics, agents, timer, ops."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import faust
from mode import Service
from prometheus_client import CollectorRegistry

from complaints_escalation.domain.calendar import Calendars
from complaints_escalation.domain.retention import RetentionPolicy
from complaints_escalation.inbound.agents import register_agents
from complaints_escalation.inbound.handlers import Handlers
from complaints_escalation.inbound.status_http import StatusServer
from complaints_escalation.metrics import EscalationMetrics, RemainingTime
from complaints_escalation.outbound.broker_producer import BatchProducer
from complaints_escalation.outbound.holidays import load_chinese_holidays
from complaints_escalation.outbound.kpi import KpiMetrics, KpiStore
from complaints_escalation.outbound.publisher import FaustPublisher
from complaints_escalation.outbound.retention import (
    ConsoleGate,
    DeletableStore,
    NoGate,
    RetainingStore,
    RetentionMetrics,
    RetentionSweeper,
)
from complaints_escalation.outbound.state_store import StateStore, TableStateStore
from complaints_escalation.scheduling.due_message import DueBatch, DueMessage
from complaints_escalation.scheduling.index import DueEntry, DueIndex
from complaints_escalation.scheduling.timer import Lookahead, Timer
from complaints_escalation.settings import EscalationSettings
from complaints_kit.clock import Clock, service_clock
from complaints_kit.kafka import producer_config
from complaints_kit.lag import GroupOffsets
from complaints_kit.settings import KafkaSettings
from complaints_kit.streams import RAW, faust_app
from complaints_schemas.topics import (
    CLASSIFIED,
    CLOCKS,
    COMPLAINT_PARTITIONS,
    ESCALATED,
    LIFECYCLE,
    REJECTED,
    Cleanup,
    Topic,
)

log = logging.getLogger(__name__)

STATE_TABLE = "complaint-state"


@dataclass
class Readiness:
    """Ready once partitions are assigned, the table recovered and the due index rebuilt."""

    ready: bool = False
    started_at: float = field(default_factory=time.monotonic)
    first_ready_after_s: float | None = None
    revoked_at: float | None = None

    def __call__(self) -> bool:
        return self.ready


class OpsService(Service):
    """Serves /metrics, /healthz, /readyz from worker start (before partitions are assigned)."""

    def __init__(self, ops: StatusServer) -> None:
        super().__init__()
        self.ops = ops

    async def on_start(self) -> None:
        await self.ops.start()
        log.info("ops server listening", extra={"port": self.ops.port})

    async def on_stop(self) -> None:
        await self.ops.stop()


@dataclass
class EscalationService:
    app: faust.App
    ops: OpsService
    producer: BatchProducer
    handlers: Handlers
    timer: Timer
    readiness: Readiness
    registry: CollectorRegistry


def internal_topics(settings: EscalationSettings) -> list[Topic]:
    """Created before the worker joins: faust's assignor skips a topic that does not exist
    yet (due records are then never consumed) and a table refuses a changelog without
    partitions."""
    return [
        Topic(
            due_topic_name(settings.app_id),
            COMPLAINT_PARTITIONS,
            key="complaint_id",
            description="Due timers, sent by the timer task to the state's owner.",
            retention_ms=24 * 3600 * 1000,
        ),
        Topic(
            state_changelog(settings.app_id),
            COMPLAINT_PARTITIONS,
            key="complaint_id",
            description="Changelog of the complaint state table.",
            cleanup=Cleanup.COMPACT,
            retention_ms=-1,
        ),
    ]


def state_changelog(app_id: str) -> str:
    """The compacted topic faust keeps the state table in: every complaint's latest state."""
    return f"{app_id}-{STATE_TABLE}-changelog"


def retention(
    settings: EscalationSettings,
    kafka: KafkaSettings,
    table_store: DeletableStore,
    publisher: FaustPublisher,
    timer: Timer,
    clock: Clock,
    registry: CollectorRegistry,
) -> tuple[StateStore, RetentionSweeper | None]:
    """The state store, wrapped to delete closed complaints after ESCALATION_CLOSED_RETENTION
    (outbound/retention.py); as it is, with no sweeper, when retention is off."""
    policy = RetentionPolicy(after=settings.closed_retention)
    metrics = RetentionMetrics(registry)
    if not policy.enabled:
        return table_store, None
    due = due_topic_name(settings.app_id)

    def purging_now() -> bool:
        event = faust.current_event()
        return event is not None and event.message.topic == due

    store = RetainingStore(
        table_store, policy=policy, clock=clock, metrics=metrics, purging_now=purging_now
    )
    group = settings.retention_after_group
    gate = (
        NoGate()
        if group is None
        else ConsoleGate(GroupOffsets(kafka, group=group, topics=[LIFECYCLE.name]))
    )

    async def publish_due(batch: DueBatch, partition: int) -> None:
        await publisher.due(batch, partition=partition)

    sweeper = RetentionSweeper(
        store=store,
        gate=gate,
        publish_due=publish_due,
        owned=lambda: timer.index.partitions,
        clock=clock,
        policy=policy,
        interval=settings.retention_sweep_interval,
    )
    log.info(
        "closed complaints retained",
        extra={
            "retention_s": policy.after.total_seconds() if policy.after else None,
            "after_group": group,
        },
    )
    return store, sweeper


def due_topic_name(app_id: str) -> str:
    return f"{app_id}-due"


def record_coverage(metrics: EscalationMetrics, calendars: Calendars) -> None:
    """How far official holiday data reaches, for the alert that says when to add a year."""
    for name, calendar in calendars.by_name.items():
        until = None if calendar.holiday_data is None else calendar.holiday_data.covered_until
        if until is None:
            continue
        end = datetime.combine(until + timedelta(days=1), datetime.min.time(), calendar.zone)
        metrics.calendar_covered_until.labels(name).set(end.timestamp())
        # The first year it would count (at 0 until then): the alert's series exists.
        metrics.provisional_clocks.labels(name, str(until.year + 1))
        metrics.holiday_last_year.set(until.year)


def build_service(
    settings: EscalationSettings,
    kafka: KafkaSettings,
    *,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
) -> EscalationService:
    """Wire everything; nothing connects until the faust worker starts the app."""
    clock = clock or service_clock()
    registry = registry or CollectorRegistry()
    metrics = EscalationMetrics(registry)
    holiday_data = load_chinese_holidays(settings.holiday_dir)  # invalid: fails, naming the line
    policy = settings.policy(holiday_data=holiday_data)  # invalid: fails here, naming the line
    record_coverage(metrics, policy.calendars)
    log.info(
        "policy loaded",
        extra={"policy_version": policy.version, "policy_file": str(settings.policy_path())},
    )
    # The store is set on the app: a table's own `store="rocksdb://"` is a falsy URL to
    # faust, which then silently falls back to the app's.
    app = faust_app(
        settings.app_id,
        kafka,
        data_dir=settings.data_dir,
        store=settings.state_store,
        group_instance_id=settings.group_instance_id or None,
    )
    raw = RAW
    classified = app.topic(CLASSIFIED.name, **raw)
    lifecycle = app.topic(LIFECYCLE.name, **raw)
    # Internal, co-partitioned with the inputs: partition p's due records reach p's owner.
    due = app.topic(
        due_topic_name(settings.app_id),
        partitions=kafka.topic_partitions,
        internal=True,
        retention=24 * 3600,
        **raw,
    )
    escalated = app.topic(ESCALATED.name, **raw)
    rejected = app.topic(REJECTED.name, **raw)
    table = app.Table(
        STATE_TABLE,
        default=None,
        partitions=kafka.topic_partitions,
        # Values are state_codec bytes (value_type=bytes makes recovery read them raw too);
        # records written as JSON before it are still read.
        value_type=bytes,
        schema=faust.Schema(key_serializer="json", value_serializer="raw"),
        options={
            "driver": "rocksdict",
            "block_cache_size": settings.store_cache_bytes,
            "write_buffer_size": settings.store_write_buffer_bytes,
            "max_write_buffer_number": 2,
        }
        if settings.state_store == "rocksdb://"
        else None,
        help="Escalation state per complaint id.",
    )
    # Escalations leave through a confluent producer: a batch queued at once, acked once.
    batches = BatchProducer(config=producer_config(kafka, **{"linger.ms": 2}))
    publisher = FaustPublisher(
        escalated=escalated,
        rejected=rejected,
        due=due,
        clocks=app.topic(CLOCKS.name, **raw),
        lifecycle=lifecycle,
        batches=batches,
    )

    async def fire(entries: Sequence[DueEntry]) -> None:
        batch = DueBatch(tuple(DueMessage(e.complaint_id, e.token, e.due_at) for e in entries))
        await publisher.due(batch, partition=entries[0].partition)

    # Handed over ahead of the instant by the expected work: only the sends remain at it.
    timer = Timer(index=DueIndex(), clock=clock, fire=fire, lookahead=Lookahead())
    recorded = KpiStore(TableStateStore(table), KpiMetrics(registry))  # KPI metrics per write
    store, sweeper = retention(settings, kafka, recorded, publisher, timer, clock, registry)
    registry.register(RemainingTime(due_instants=timer.index.due_instants, now=clock.now))
    handlers = Handlers(
        store=store,
        timer=timer,
        publisher=publisher,
        policy=policy,
        clock=clock,
        metrics=metrics,
        clock_views=publisher.clocks if settings.publish_clocks else None,
        links=publisher.linked,
        clock_view_batches=publisher.clock_batches if settings.publish_clocks else None,
    )
    register_agents(app, handlers=handlers, classified=classified, lifecycle=lifecycle, due=due)
    readiness = Readiness()
    ops = StatusServer(
        registry=registry,
        ready=readiness,
        host=settings.ops_host,
        port=settings.ops_port,
        store=handlers.store,
        owned=lambda: timer.index.partitions,
        calendars=policy.calendars,
        clock=clock,
        token=settings.status_token.get_secret_value(),
        partitions=kafka.topic_partitions,
    )

    async def run_timer() -> None:
        await timer.run()

    async def run_release() -> None:
        await handlers.release.run()

    async def on_revoked(sender: Any, revoked: set[Any], **_: Any) -> None:
        readiness.ready = False
        readiness.revoked_at = time.monotonic()
        handlers.revoke({tp.partition for tp in revoked if tp.topic == CLASSIFIED.name})

    app.task(run_timer)
    app.task(run_release)
    if sweeper is not None:
        app.task(sweeper.run)
    app.on_partitions_revoked.connect(on_revoked)  # type: ignore[arg-type]

    @table.on_recover
    async def on_recovered() -> None:
        started = time.monotonic()
        assigned = {
            tp.partition for tp in app.assignor.assigned_actives() if tp.topic == CLASSIFIED.name
        }
        handlers.rebuild(assigned)
        metrics.index_rebuild_seconds.set(time.monotonic() - started)
        # Recovery: from process start (first time) or from the revocation to ready again.
        metrics.recovery_seconds.set(
            time.monotonic() - (readiness.revoked_at or readiness.started_at)
        )
        readiness.ready = True
        if readiness.first_ready_after_s is None:
            readiness.first_ready_after_s = time.monotonic() - readiness.started_at
        log.info(
            "due index rebuilt; ready",
            extra={
                "partitions": sorted(assigned),
                "pending": len(timer.index),
                "rebuild_s": round(time.monotonic() - started, 4),
                "since_start_s": round(time.monotonic() - readiness.started_at, 3),
            },
        )

    return EscalationService(
        app=app,
        ops=OpsService(ops),
        producer=batches,
        handlers=handlers,
        timer=timer,
        readiness=readiness,
        registry=registry,
    )
