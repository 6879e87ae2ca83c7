"""Channel authentication and per-channel rate limits for the complaint routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from complaints_intake.domain.channels import Channel, Channels, TokenBucket
from complaints_intake.domain.problems import Problem, problem
from complaints_intake.inbound.http.problems import ProblemError
from complaints_intake.metrics import IntakeMetrics
from complaints_kit.clock import Clock


class ChannelGate:
    """Who is calling (by API key) and whether their channel is within its rate."""

    def __init__(self, channels: Channels | None, *, metrics: IntakeMetrics, clock: Clock) -> None:
        self.channels = channels
        self._metrics = metrics
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        metrics.auth_enabled.set(0 if channels is None else 1)

    def identify(self, request: Request) -> Channel | None:
        """The calling channel; None when authentication is off (no channels file)."""
        if self.channels is None:
            return None
        key = _presented_key(request)
        channel = self.channels.identify(key) if key else None
        if channel is None:
            reason = "missing_key" if not key else "unknown_key"
            self._metrics.auth_refused.labels(reason).inc()
            raise ProblemError(
                problem(
                    kind="unauthenticated",
                    title="A channel API key is required",
                    status=401,
                    detail="Send the channel's key as `Authorization: Bearer <key>` or "
                    "`X-Api-Key: <key>`."
                    if not key
                    else "The key is not one of a configured channel's keys.",
                ),
                headers={"WWW-Authenticate": 'Bearer realm="complaints-intake"'},
            )
        return channel

    def admit(self, channel: Channel, count: int = 1) -> None:
        """Take `count` from the channel's bucket, or answer 429 with Retry-After."""
        bucket = self._buckets.get(channel.name)
        if bucket is None:
            bucket = self._buckets[channel.name] = TokenBucket(channel.per_second, channel.burst)
        wait = bucket.take(self._clock.now().timestamp(), count)
        if wait > 0:
            self._metrics.auth_refused.labels("rate_limited").inc()
            raise ProblemError(
                problem(
                    kind="rate-limited",
                    title="Too many requests for this channel",
                    status=429,
                    detail=f"Channel {channel.name!r} may send {channel.per_second:g}/s "
                    f"(bursts of {channel.burst}).",
                ),
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )

    def forbid(self, detail: str, *, reason: str) -> ProblemError:
        return ProblemError(self._refusal(detail, reason=reason))

    def other_channel(self, channel: Channel | None, submitted: str) -> Problem | None:
        """The 403 for a key submitting another channel's complaint; None when it may."""
        if channel is None or submitted == channel.name:
            return None
        return self._refusal(
            f"This key is channel {channel.name!r}'s; it cannot submit for {submitted!r}.",
            reason="other_channel",
        )

    def _refusal(self, detail: str, *, reason: str) -> Problem:
        self._metrics.auth_refused.labels(reason).inc()
        return problem(
            kind="forbidden", title="Not allowed for this channel", status=403, detail=detail
        )


def _presented_key(request: Request) -> str:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key", "").strip()


def gate(request: Request) -> ChannelGate:
    value: ChannelGate = request.app.state.gate
    return value


def caller(request: Request) -> Channel | None:
    """The calling channel, admitted for one request."""
    channels = gate(request)
    channel = channels.identify(request)
    if channel is not None:
        channels.admit(channel)
    return channel


Caller = Annotated[Channel | None, Depends(caller)]
Gate = Annotated[ChannelGate, Depends(gate)]
