"""Builders of wire events for the tests."""

from __future__ import annotations

from datetime import UTC, datetime

from complaints_schemas.events import (
    Channel,
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintLifecycleEvent,
    Customer,
    LifecycleAction,
    Reason,
    Scope,
    Severity,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def classified(
    complaint_id: str,
    *,
    severity: Severity = Severity.RED,
    accepted_at: datetime = T0,
    department: str = "payments",
    category: str = "payment_failure",
    scope: Scope = Scope.INDIVIDUAL,
    classified_at: datetime | None = None,
    cluster_id: str | None = None,
    cluster_size: int | None = None,
    customer: Customer | None = None,
) -> ComplaintClassified:
    accepted = ComplaintAccepted(
        channel=Channel.APP,
        channel_event_id=f"ch-{complaint_id}",
        customer=customer or Customer(id="cust-1"),
        title="Payment failed twice",
        description="My card was charged but the order failed.",
        occurred_at=accepted_at,
        complaint_id=complaint_id,
        accepted_at=accepted_at,
        language="en",
    )
    return ComplaintClassified(
        complaint_id=complaint_id,
        classified_at=classified_at or accepted_at,
        severity=severity,
        scope=scope,
        category=category,
        department=department,
        cluster_id=cluster_id,
        cluster_size=cluster_size,
        fingerprint="fp-payment",
        reasons=(Reason(decision="severity", rule="payment", detail="charged"),),
        complaint=accepted,
    )


def lifecycle(
    complaint_id: str,
    action: LifecycleAction,
    *,
    at: datetime,
    event_id: str | None = None,
    to_department: str | None = None,
    actor: str | None = None,
    note: str | None = None,
    clock: str | None = None,
) -> ComplaintLifecycleEvent:
    return ComplaintLifecycleEvent(
        event_id=event_id or f"{complaint_id}-{action.value}-{at.timestamp()}",
        complaint_id=complaint_id,
        action=action,
        occurred_at=at,
        to_department=to_department,
        actor=actor,
        note=note,
        clock=clock,
    )
