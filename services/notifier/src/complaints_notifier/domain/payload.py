"""The webhook body: a Standard Webhooks style envelope around the escalation."""

from __future__ import annotations

import json

from complaints_notifier.domain.notification import Context
from complaints_schemas.events import ComplaintEscalated

EVENT_TYPE = "complaint.escalated"


def webhook_payload(escalation: ComplaintEscalated, context: Context | None = None) -> bytes:
    """`{"type", "timestamp", "data"}`; timestamp = escalated_at, so every retry sends one body.

    With links configured, `links` holds `acknowledge` and `status`; grouped messages list
    the other escalations' ids under `grouped`.
    """
    body: dict[str, object] = {
        "type": EVENT_TYPE,
        "timestamp": escalation.escalated_at.isoformat(),
        "data": escalation.model_dump(mode="json"),
    }
    if context is not None:
        links = {"acknowledge": context.ack_url, "status": context.status_url}
        if any(links.values()):
            body["links"] = {k: v for k, v in links.items() if v}
        if len(context.folded) > 1:
            body["grouped"] = [e.escalation_id for e in context.folded[1:]]
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
