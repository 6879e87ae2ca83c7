"""One notification: an escalation step for one receiver on one channel, and its outcome."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from complaints_notifier.domain.display_names import DEFAULT_NAMES, DisplayNames
from complaints_schemas.events import ComplaintEscalated, NotificationDelivered, NotificationFailed

_SEPARATOR = "\x1f"  # cannot appear in an id, so ("a.b", "c") and ("a", "b.c") differ


def notification_id(*, escalation_id: str, receiver: str, channel: str) -> str:
    """Deterministic: a redelivered or replayed escalation maps to the same notification."""
    material = _SEPARATOR.join((escalation_id, receiver, channel)).encode()
    return "ntf_" + hashlib.sha256(material).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Route:
    """Where one escalation goes: a receiver on a channel."""

    receiver: str
    channel: str


def routes_for(
    escalation: ComplaintEscalated, *, receivers: tuple[Route, ...]
) -> tuple[Route, ...]:
    """Every escalation goes to the configured receivers (a routing tree replaces this later)."""
    del escalation  # the routing tree will match on department, severity, scope and level
    return receivers


@dataclass(frozen=True, slots=True)
class Context:
    """What the message shows besides the escalation; not part of the notification id."""

    language: str = "zh"
    mentions: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    ack_url: str | None = None
    status_url: str | None = None
    # Escalations folded into this message (grouping, digests); the first is `escalation`.
    folded: tuple[ComplaintEscalated, ...] = ()
    names: DisplayNames = DEFAULT_NAMES


@dataclass(frozen=True, slots=True)
class Notification:
    escalation: ComplaintEscalated
    route: Route
    context: Context = Context()

    @property
    def id(self) -> str:
        return notification_id(
            escalation_id=self.escalation.escalation_id,
            receiver=self.route.receiver,
            channel=self.route.channel,
        )

    def delivered(self, *, at: datetime, attempts: int) -> NotificationDelivered:
        return NotificationDelivered(
            notification_id=self.id,
            escalation_id=self.escalation.escalation_id,
            complaint_id=self.escalation.complaint_id,
            channel=self.route.channel,
            receiver=self.route.receiver,
            delivered_at=at,
            attempts=attempts,
        )

    def failed(
        self, *, at: datetime, attempts: int, retryable: bool, reason: str
    ) -> NotificationFailed:
        return NotificationFailed(
            notification_id=self.id,
            escalation_id=self.escalation.escalation_id,
            complaint_id=self.escalation.complaint_id,
            channel=self.route.channel,
            receiver=self.route.receiver,
            failed_at=at,
            attempts=attempts,
            retryable=retryable,
            reason=reason,
        )
