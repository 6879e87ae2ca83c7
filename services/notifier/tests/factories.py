"""Builders of wire events for the tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from complaints_schemas.events import ComplaintEscalated, EscalationKind, Scope, Severity

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def escalated(
    escalation_id: str = "esc-1",
    *,
    complaint_id: str = "c-1",
    escalated_at: datetime = T0,
    level: int = 1,
) -> ComplaintEscalated:
    return ComplaintEscalated(
        escalation_id=escalation_id,
        complaint_id=complaint_id,
        kind=EscalationKind.BREACH,
        clock="response",
        level=level,
        deadline=escalated_at - timedelta(seconds=1),
        escalated_at=escalated_at,
        severity=Severity.RED,
        scope=Scope.INDIVIDUAL,
        category="payment",
        department="payments",
        title="Payment failed twice",
    )
