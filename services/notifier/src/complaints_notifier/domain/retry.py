"""When to try again: exponential backoff with jitter, bounded attempts, Retry-After honoured."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from complaints_notifier.domain.outcome import Delivered, Outcome, Retryable


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(seconds=60)
    # A peer asking for more than this is not waited on longer (the slot is needed elsewhere).
    max_retry_after: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("backoff needs 0 < base <= cap")

    def backoff(self, *, attempt: int, unit: float) -> timedelta:
        """Delay after failed attempt `attempt` (1-based); `unit` in [0, 1) is the random draw.

        "Equal jitter": half the exponential step is fixed, half is random, so retries spread
        out without ever collapsing to zero.
        """
        if not 0.0 <= unit < 1.0:
            raise ValueError("unit must be in [0, 1)")
        step: timedelta = min(self.cap, self.base * (2 ** min(attempt - 1, 32)))
        return step / 2 + step / 2 * unit

    def delay(self, *, attempt: int, unit: float, retry_after: timedelta | None) -> timedelta:
        """The backoff, or the peer's Retry-After when that is longer (up to max_retry_after)."""
        backoff = self.backoff(attempt=attempt, unit=unit)
        if retry_after is None:
            return backoff
        return max(backoff, min(retry_after, self.max_retry_after))


@dataclass(frozen=True, slots=True)
class Done:
    """The channel accepted it: record NotificationDelivered."""


@dataclass(frozen=True, slots=True)
class RetryIn:
    delay: timedelta


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Record NotificationFailed; `retryable` is False when the channel refused it for good."""

    retryable: bool
    reason: str


Decision = Done | RetryIn | GiveUp


def decide(policy: RetryPolicy, *, attempt: int, outcome: Outcome, unit: float) -> Decision:
    """What to do after attempt number `attempt` (1-based) ended with `outcome`."""
    if isinstance(outcome, Delivered):
        return Done()
    if isinstance(outcome, Retryable):
        if attempt >= policy.max_attempts:
            return GiveUp(
                retryable=True, reason=f"{outcome.reason} (gave up after {attempt} attempts)"
            )
        return RetryIn(policy.delay(attempt=attempt, unit=unit, retry_after=outcome.retry_after))
    return GiveUp(retryable=False, reason=outcome.reason)
