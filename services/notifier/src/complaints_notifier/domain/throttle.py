"""Rate limits and grouping, pure: a token bucket per robot and the key that groups escalations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from complaints_notifier.domain.notification import Notification


@dataclass(slots=True)
class TokenBucket:
    """`capacity` tokens, refilled at `per_minute`; time is passed in."""

    capacity: float
    per_minute: float
    tokens: float = field(default=-1.0)
    updated: datetime | None = None

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.per_minute <= 0:
            raise ValueError("a bucket needs capacity >= 1 and a positive rate")
        if self.tokens < 0:
            self.tokens = self.capacity

    @classmethod
    def under_limit(cls, limit_per_minute: int) -> TokenBucket:
        """Never more than `limit` in any 60 s: burst + refill per minute = limit (1/4 burst)."""
        burst = max(1, limit_per_minute // 4)
        return cls(capacity=burst, per_minute=max(limit_per_minute - burst, 1))

    def _refill(self, now: datetime) -> None:
        if self.updated is not None and now > self.updated:
            gained = (now - self.updated).total_seconds() * self.per_minute / 60
            self.tokens = min(self.capacity, self.tokens + gained)
        if self.updated is None or now > self.updated:
            self.updated = now

    def take(self, now: datetime) -> bool:
        """Spend a token if there is one."""
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def next_token_at(self, now: datetime) -> datetime:
        """When `take` will next succeed."""
        self._refill(now)
        missing = max(0.0, 1 - self.tokens)
        return now + timedelta(seconds=missing * 60 / self.per_minute)

    def drain(self, now: datetime) -> None:
        """The peer said "too fast": trust it over our count."""
        self._refill(now)
        self.tokens = 0.0


def group_key(notification: Notification) -> tuple[str, str, str, str]:
    """One message per receiver, channel, department and cluster (or complaint) in a window."""
    escalation = notification.escalation
    return (
        notification.route.receiver,
        notification.route.channel,
        escalation.department,
        escalation.cluster_id or f"complaint:{escalation.complaint_id}",
    )
