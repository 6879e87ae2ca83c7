"""What a channel reports for one attempt: delivered, retryable (maybe later) or permanent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class Delivered:
    """The channel accepted the notification."""


@dataclass(frozen=True, slots=True)
class Retryable:
    """A temporary failure; `retry_after` is the peer's requested delay, if it named one."""

    reason: str
    retry_after: timedelta | None = None
    # The peer refused because of its rate limit (429, a robot's "send too fast" code).
    rate_limited: bool = False


@dataclass(frozen=True, slots=True)
class Permanent:
    """The channel refused it for good: retrying would fail the same way."""

    reason: str


Outcome = Delivered | Retryable | Permanent

# Request Timeout, Too Early, Too Many Requests: the same request may succeed later.
RETRYABLE_4XX = frozenset({408, 425, 429})


def classify_status(status: int, *, retry_after: str | None, now: datetime) -> Outcome:
    """2xx delivered; 408, 425, 429 and 5xx retryable; any other status permanent."""
    if 200 <= status < 300:
        return Delivered()
    if status in RETRYABLE_4XX or 500 <= status < 600:
        return Retryable(
            f"HTTP {status}", parse_retry_after(retry_after, now=now), rate_limited=status == 429
        )
    return Permanent(f"HTTP {status}")


def transport_failure(kind: str, detail: str) -> Retryable:
    """Timeouts and connection errors: the peer may be back soon."""
    return Retryable(f"{kind}: {detail}" if detail else kind)


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Retry-After as delay-seconds or an HTTP-date (RFC 9110 10.2.3); None when absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))
