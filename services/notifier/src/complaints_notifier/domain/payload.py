"""The webhook body: a Standard Webhooks style envelope around the escalation."""

from __future__ import annotations

import json

from complaints_schemas.events import ComplaintEscalated

EVENT_TYPE = "complaint.escalated"


def webhook_payload(escalation: ComplaintEscalated) -> bytes:
    """`{"type", "timestamp", "data"}`; timestamp = escalated_at, so every retry sends one body."""
    body = {
        "type": EVENT_TYPE,
        "timestamp": escalation.escalated_at.isoformat(),
        "data": escalation.model_dump(mode="json"),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
