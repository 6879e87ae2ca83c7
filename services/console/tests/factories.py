"""Wire events for the console's tests, and a read model on SQLite in a temp dir."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from complaints_console.projector.consumer import apply_record
from complaints_console.readmodel.database import engine_for, migrate
from complaints_schemas import topics
from complaints_schemas.cloudevents import encode
from complaints_schemas.events import (
    Channel,
    ClockPeriod,
    ClockState,
    ClockView,
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintClocksUpdated,
    ComplaintEscalated,
    ComplaintLifecycleEvent,
    Customer,
    EscalationKind,
    Event,
    LifecycleAction,
    NotificationDelivered,
    NotificationFailed,
    Reason,
    Scope,
    Severity,
)

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)

TOPIC_OF: dict[type[Event], str] = {
    ComplaintAccepted: topics.ACCEPTED.name,
    ComplaintClassified: topics.CLASSIFIED.name,
    ComplaintLifecycleEvent: topics.LIFECYCLE.name,
    ComplaintEscalated: topics.ESCALATED.name,
    NotificationDelivered: topics.DELIVERED.name,
    NotificationFailed: topics.FAILED.name,
    ComplaintClocksUpdated: topics.CLOCKS.name,
}


def sqlite_engine(tmp_path: Any) -> Engine:
    engine = engine_for(f"sqlite:///{tmp_path}/readmodel.db")
    migrate(engine)
    return engine


def project(engine: Engine, *events: Event) -> None:
    with engine.begin() as conn:
        for event in events:
            record = encode(event, source="/tests", id="t", time=T0)
            apply_record(conn, TOPIC_OF[type(event)], record.value, record.headers)


def accepted(cid: str, *, at: datetime = T0, channel: Channel = Channel.APP) -> ComplaintAccepted:
    return ComplaintAccepted(
        channel=channel,
        channel_event_id=f"ch-{cid}",
        customer=Customer(id=f"cust-{cid}", name="张三", phone="13812345678"),
        title="支付失败 payment failed",
        description="卡号 6222021234567890123 扣款两次, call 13812345678",
        occurred_at=at,
        complaint_id=cid,
        accepted_at=at,
        language="zh",
    )


def classified(
    cid: str,
    *,
    at: datetime = T0,
    severity: Severity = Severity.RED,
    scope: Scope = Scope.INDIVIDUAL,
    department: str = "payments",
    category: str = "payment_failure",
    cluster_id: str | None = None,
    cluster_size: int | None = None,
    channel: Channel = Channel.APP,
    classified_at: datetime | None = None,
) -> ComplaintClassified:
    return ComplaintClassified(
        complaint_id=cid,
        classified_at=classified_at or at,
        severity=severity,
        scope=scope,
        category=category,
        department=department,
        fingerprint=f"fp-{category}",
        cluster_id=cluster_id,
        cluster_size=cluster_size,
        reasons=(
            Reason(decision="severity", rule="money_at_stake", detail="扣款 charged twice"),
            Reason(decision="category", rule="payment_failure", detail="支付失败"),
        ),
        complaint=accepted(cid, at=at, channel=channel),
    )


def step(
    cid: str,
    action: LifecycleAction,
    *,
    at: datetime,
    actor: str | None = "agent-li",
    note: str | None = None,
    to_department: str | None = None,
    event_id: str | None = None,
    severity: Severity | None = None,
) -> ComplaintLifecycleEvent:
    return ComplaintLifecycleEvent(
        event_id=event_id or f"{cid}-{action.value}-{int(at.timestamp())}",
        complaint_id=cid,
        action=action,
        occurred_at=at,
        actor=actor,
        note=note,
        to_department=to_department,
        severity=severity,
    )


def response_clock(
    cid: str,
    *,
    started: datetime = T0,
    budget: timedelta = 10 * MIN,
    stopped: datetime | None = None,
    version: int = 1,
    as_of: datetime | None = None,
    name: str = "response",
    department: str = "payments",
    paused: bool = False,
) -> ComplaintClocksUpdated:
    deadline = started + budget
    state = ClockState.STOPPED if stopped else (ClockState.PAUSED if paused else ClockState.RUNNING)
    running = state is ClockState.RUNNING
    return ComplaintClocksUpdated(
        complaint_id=cid,
        version=version,
        updated_at=as_of or started,
        status="open",
        policy_version="policy-v1",
        department=department,
        next_step_at=deadline if running else None,
        clocks=(
            ClockView(
                name=name,
                state=state,
                calendar="24x7",
                target_amount=budget.total_seconds() / 60,
                target_unit="minutes",
                started_at=started,
                deadline=deadline,
                stopped_at=stopped,
                budget_s=budget.total_seconds(),
                used_s=((stopped or started) - started).total_seconds(),
                periods=(ClockPeriod(kind="running", start=started, end=stopped),),
                next_step_at=deadline if running else None,
                next_step="breach:1" if running else None,
            ),
        ),
    )


def breach(
    cid: str, *, at: datetime, level: int = 1, clock: str = "response", department: str = "payments"
) -> ComplaintEscalated:
    return ComplaintEscalated(
        escalation_id=f"ESC-{cid}-{clock}-{level}",
        complaint_id=cid,
        kind=EscalationKind.BREACH,
        clock=clock,
        level=level,
        deadline=at,
        escalated_at=at,
        severity=Severity.RED,
        scope=Scope.INDIVIDUAL,
        category="payment_failure",
        department=department,
        title="支付失败",
        targets=("payments-lead",),
    )


def delivered(cid: str, escalation_id: str, *, at: datetime) -> NotificationDelivered:
    return NotificationDelivered(
        notification_id=f"N-{escalation_id}",
        escalation_id=escalation_id,
        complaint_id=cid,
        channel="webhook",
        receiver="payments-owner",
        delivered_at=at,
        attempts=1,
    )
