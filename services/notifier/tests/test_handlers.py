"""The handler with fake channel, publisher and clock: retries, dedup, dead letters."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from complaints_kit.clock import FakeClock
from complaints_notifier.domain.notification import Notification, Route
from complaints_notifier.domain.outcome import Delivered, Outcome, Permanent, Retryable
from complaints_notifier.domain.retry import RetryPolicy
from complaints_notifier.inbound.handlers import EscalationHandler, Record
from complaints_notifier.metrics import NotifierMetrics
from complaints_schemas import cloudevents
from complaints_schemas.events import (
    ComplaintEscalated,
    ComplaintRejected,
    NotificationDelivered,
    NotificationFailed,
)

from .factories import T0, escalated


class ScriptedChannel:
    name = "webhook"

    def __init__(self, outcomes: Sequence[Outcome], gate: asyncio.Event | None = None) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[tuple[str, datetime]] = []
        self.gate = gate

    async def send(self, notification: Notification, *, now: datetime) -> Outcome:
        self.sent.append((notification.id, now))
        if self.gate is not None:
            await self.gate.wait()
        return self.outcomes.pop(0) if self.outcomes else Delivered()

    async def aclose(self) -> None:
        pass


class RecordingPublisher:
    def __init__(self) -> None:
        self.delivered_events: list[NotificationDelivered] = []
        self.failed_events: list[NotificationFailed] = []
        self.rejected_events: list[ComplaintRejected] = []

    async def delivered(self, event: NotificationDelivered, *, now: datetime) -> None:
        self.delivered_events.append(event)

    async def failed(self, event: NotificationFailed, *, now: datetime) -> None:
        self.failed_events.append(event)

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None:
        self.rejected_events.append(event)


class AutoClock(FakeClock):
    """A fake clock whose sleeps move time forward at once (no real waiting)."""

    async def sleep_until(self, when: datetime) -> None:
        if when > self.now():
            self.set(when)
        await asyncio.sleep(0)


def record(event: ComplaintEscalated, offset: int = 0) -> Record:
    rec = cloudevents.encode(event, source="/tests", id=uuid.uuid4().hex, time=T0)
    return Record("complaints.escalated.v1", 0, offset, rec.value, rec.headers)


def build(
    channel: ScriptedChannel, *, delivered: set[str] | None = None, max_attempts: int = 4
) -> tuple[EscalationHandler, RecordingPublisher, CollectorRegistry, AutoClock]:
    publisher = RecordingPublisher()
    registry = CollectorRegistry()
    clock = AutoClock(T0 + timedelta(seconds=2))
    handler = EscalationHandler(
        channels={"webhook": channel},
        receivers=(Route("default", "webhook"),),
        dedup=delivered if delivered is not None else set(),
        publisher=publisher,
        policy=RetryPolicy(max_attempts=max_attempts, base=timedelta(seconds=1)),
        clock=clock,
        jitter=lambda: 0.0,
        metrics=NotifierMetrics(registry, channels=("webhook",)),
    )
    return handler, publisher, registry, clock


def count(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_retryable_failures_are_retried_with_backoff_then_delivered() -> None:
    channel = ScriptedChannel([Retryable("HTTP 500"), Retryable("HTTP 503"), Delivered()])
    handler, publisher, registry, _ = build(channel)
    await handler.handle(record(escalated("esc-r")))
    times = [at for _, at in channel.sent]
    assert [b - a for a, b in itertools.pairwise(times)] == [
        timedelta(seconds=0.5),
        timedelta(seconds=1),
    ]
    [event] = publisher.delivered_events
    assert event.attempts == 3
    assert event.delivered_at == times[-1]
    assert count(registry, "complaints_notifier_retries_total", channel="webhook") == 2
    assert (
        count(
            registry, "complaints_notifier_deliveries_total", channel="webhook", outcome="delivered"
        )
        == 1
    )
    assert (
        count(registry, "complaints_notifier_delivery_latency_seconds_count", channel="webhook")
        == 1
    )


@pytest.mark.parametrize(
    ("outcomes", "attempts", "retryable", "reason"),
    [
        ([Permanent("HTTP 400")], 1, False, "HTTP 400"),
        ([Retryable("HTTP 500"), Permanent("HTTP 410")], 2, False, "HTTP 410"),
        ([Retryable("timeout")] * 4, 4, True, "timeout (gave up after 4 attempts)"),
    ],
)
async def test_failures_are_recorded(
    outcomes: list[Outcome], attempts: int, retryable: bool, reason: str
) -> None:
    handler, publisher, registry, _ = build(ScriptedChannel(outcomes))
    await handler.handle(record(escalated()))
    assert publisher.delivered_events == []
    [failed] = publisher.failed_events
    assert (failed.attempts, failed.retryable, failed.reason) == (attempts, retryable, reason)
    assert (
        count(registry, "complaints_notifier_deliveries_total", channel="webhook", outcome="failed")
        == 1
    )


async def test_already_delivered_is_a_duplicate() -> None:
    channel = ScriptedChannel([])
    handler, publisher, registry, _ = build(channel)
    await handler.handle(record(escalated("esc-d")))
    await handler.handle(record(escalated("esc-d"), offset=1))
    assert len(channel.sent) == 1
    assert len(publisher.delivered_events) == 1
    assert (
        count(
            registry, "complaints_notifier_deliveries_total", channel="webhook", outcome="duplicate"
        )
        == 1
    )


async def test_a_copy_arriving_while_the_first_is_in_flight_waits_and_does_not_send() -> None:
    gate = asyncio.Event()
    channel = ScriptedChannel([], gate=gate)
    handler, publisher, _, _ = build(channel)
    first = asyncio.create_task(handler.handle(record(escalated("esc-c"))))
    await asyncio.sleep(0)
    second = asyncio.create_task(handler.handle(record(escalated("esc-c"), offset=1)))
    await asyncio.sleep(0)
    assert not second.done()
    gate.set()
    await asyncio.gather(first, second)
    assert len(channel.sent) == 1
    assert len(publisher.delivered_events) == 1


async def test_a_copy_of_an_abandoned_delivery_is_abandoned_too() -> None:
    channel = ScriptedChannel([], gate=asyncio.Event())
    handler, publisher, _, _ = build(channel)
    first = asyncio.create_task(handler.handle(record(escalated("esc-a"))))
    await asyncio.sleep(0)
    second = asyncio.create_task(handler.handle(record(escalated("esc-a"), offset=1)))
    await asyncio.sleep(0)
    first.cancel()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert publisher.delivered_events == []


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"not json", None, "invalid_envelope"),
        (
            b"{",
            [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"x"),
                ("ce_source", b"/t"),
                ("ce_type", ComplaintEscalated.ce_type.encode()),
            ],
            "undecodable",
        ),
        (
            b'{"escalation_id": "e"}',
            [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"x"),
                ("ce_source", b"/t"),
                ("ce_type", ComplaintEscalated.ce_type.encode()),
            ],
            "invalid_event",
        ),
    ],
)
async def test_undecodable_records_become_dead_letters(
    value: bytes, headers: list[tuple[str, bytes]] | None, reason: str
) -> None:
    channel = ScriptedChannel([])
    handler, publisher, registry, _ = build(channel)
    await handler.handle(Record("complaints.escalated.v1", 2, 41, value, headers))
    [rejected] = publisher.rejected_events
    assert (rejected.reason, rejected.partition, rejected.offset) == (reason, 2, 41)
    assert rejected.original == value
    assert rejected.source_topic == "complaints.escalated.v1"
    assert channel.sent == []
    assert count(registry, "complaints_notifier_rejected_total", reason=reason) == 1
