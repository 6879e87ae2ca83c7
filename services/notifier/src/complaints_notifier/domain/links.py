"""The links in an alert: the complaint's status page and a signed, expiring acknowledge link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from complaints_schemas.ack_links import AckClaims, sign_ack_token
from complaints_schemas.events import ComplaintEscalated


@dataclass(frozen=True, slots=True)
class AlertLinks:
    """`ack_base_url` like `https://intake.example.com/v1/ack/`; `status_template` names
    `{complaint_id}`; either may be empty (no such link)."""

    ack_base_url: str = ""
    ack_secret: str = ""
    ack_ttl: timedelta = timedelta(hours=24)
    status_template: str = ""

    def status_url(self, escalation: ComplaintEscalated) -> str | None:
        if not self.status_template:
            return None
        return self.status_template.format(complaint_id=escalation.complaint_id)

    def ack_url(
        self, escalation: ComplaintEscalated, *, receiver: str, now: datetime
    ) -> str | None:
        if not (self.ack_base_url and self.ack_secret):
            return None
        # Expiry counts from the escalation, so every retry of one notification carries one link.
        del now
        claims = AckClaims(
            complaint_id=escalation.complaint_id,
            escalation_id=escalation.escalation_id,
            receiver=receiver,
            expires_at=escalation.escalated_at + self.ack_ttl,
            clock=escalation.clock,
        )
        base = self.ack_base_url if self.ack_base_url.endswith("/") else self.ack_base_url + "/"
        return base + sign_ack_token(claims, secret=self.ack_secret)
