"""The handler with a routing tree: receivers' channels, mentions, fallback, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from prometheus_client import CollectorRegistry

from complaints_notifier.domain.links import AlertLinks
from complaints_notifier.domain.outcome import Permanent, Retryable
from complaints_notifier.domain.retry import RetryPolicy
from complaints_notifier.domain.routing import (
    Directory,
    Owner,
    QuietHours,
    Receiver,
    RouteNode,
    Routing,
)
from complaints_notifier.inbound.handlers import EscalationHandler
from complaints_notifier.metrics import NotifierMetrics
from complaints_schemas.ack_links import verify_ack_token
from complaints_schemas.events import Severity

from .factories import T0, escalated
from .test_handlers import AutoClock, RecordingPublisher, ScriptedChannel, record

ROUTING = Routing(
    tree=RouteNode(receivers=("oncall",)),
    receivers={
        "oncall": Receiver(
            name="oncall",
            channel="robot",
            fallback="mail",
            quiet_hours=QuietHours(start=time(22), end=time(8)),
        )
    },
    channel_kinds={"robot": "dingtalk", "mail": "email"},
    directory=Directory(
        owners={"zw": Owner("zw", contacts={"dingtalk": "13800001234", "email": "zw@x.cn"})},
        by_department={"payments": {1: ("zw",)}},
    ),
)


def build(robot: ScriptedChannel, mail: ScriptedChannel, *, at: datetime = T0):  # type: ignore[no-untyped-def]
    robot.name, mail.name = "robot", "mail"
    publisher = RecordingPublisher()
    registry = CollectorRegistry()
    handler = EscalationHandler(
        channels={"robot": robot, "mail": mail},
        receivers=(),
        dedup=set(),
        publisher=publisher,
        policy=RetryPolicy(max_attempts=2, base=timedelta(seconds=1)),
        clock=AutoClock(at),
        jitter=lambda: 0.0,
        metrics=NotifierMetrics(registry, channels=("robot", "mail")),
        routing=ROUTING,
        links=AlertLinks(ack_base_url="http://intake/v1/ack", ack_secret="s"),
    )
    return handler, publisher, registry


class Capturing(ScriptedChannel):
    def __init__(self, outcomes=()) -> None:  # type: ignore[no-untyped-def]
        super().__init__(list(outcomes))
        self.notifications = []  # type: ignore[var-annotated]

    async def send(self, notification, *, now):  # type: ignore[no-untyped-def]
        self.notifications.append(notification)
        return await super().send(notification, now=now)


async def test_routed_with_mentions_and_signed_ack_link() -> None:
    robot, mail = Capturing(), Capturing()
    handler, publisher, _ = build(robot, mail)
    await handler.handle(record(escalated("esc-1")))
    (sent,) = robot.notifications
    assert sent.context.mentions == ("13800001234",)
    assert sent.context.owners == ("zw",)
    token = sent.context.ack_url.removeprefix("http://intake/v1/ack/")
    claims = verify_ack_token(token, secret="s", now=T0)
    assert (claims.escalation_id, claims.receiver) == ("esc-1", "oncall")
    assert claims.clock == "response"  # the ack stops this clock's chain
    assert [e.channel for e in publisher.delivered_events] == ["robot"]
    assert mail.notifications == []


async def test_permanent_failure_falls_back_to_the_receivers_other_channel() -> None:
    robot, mail = Capturing([Permanent("dingtalk 310000: sign not match")]), Capturing()
    handler, publisher, registry = build(robot, mail)
    await handler.handle(record(escalated("esc-2")))
    (failed,) = publisher.failed_events
    assert (failed.channel, failed.retryable) == ("robot", False)
    assert "310000" in failed.reason
    (delivered,) = publisher.delivered_events
    assert (delivered.channel, delivered.receiver) == ("mail", "oncall")
    assert mail.notifications[0].context.mentions == ("zw@x.cn",)
    fallbacks = registry.get_sample_value(
        "complaints_notifier_fallbacks_total", {"channel": "robot"}
    )
    assert fallbacks == 1


async def test_exhausted_retries_fall_back_too() -> None:
    robot, mail = Capturing([Retryable("HTTP 503"), Retryable("HTTP 503")]), Capturing()
    handler, publisher, _ = build(robot, mail)
    await handler.handle(record(escalated("esc-3")))
    assert publisher.failed_events[0].retryable is True
    assert [e.channel for e in publisher.delivered_events] == ["mail"]


async def test_quiet_hours_mute_yellow_but_not_red() -> None:
    night = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # 23:00 in UTC+8
    robot, mail = Capturing(), Capturing()
    handler, publisher, registry = build(robot, mail, at=night)
    yellow = escalated("esc-y").model_copy(update={"severity": Severity.YELLOW})
    await handler.handle(record(yellow))
    assert publisher.delivered_events == []
    assert registry.get_sample_value("complaints_notifier_muted_total", {"receiver": "oncall"}) == 1
    await handler.handle(record(escalated("esc-red")))
    assert [e.escalation_id for e in publisher.delivered_events] == ["esc-red"]
