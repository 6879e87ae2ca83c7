"""One escalation record: decode, route, deliver each notification once, record its outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from complaints_kit.clock import Clock
from complaints_notifier.domain.display_names import DEFAULT_NAMES
from complaints_notifier.domain.notification import Context, Notification, Route, routes_for
from complaints_notifier.domain.retry import Done, GiveUp, RetryPolicy, decide
from complaints_notifier.domain.routing import Routing, mentions, owner_names, route
from complaints_notifier.metrics import NotifierMetrics
from complaints_notifier.outbound.channel import Channel
from complaints_notifier.outbound.publisher import Publisher
from complaints_schemas import cloudevents
from complaints_schemas.cloudevents import DecodeError, Headers
from complaints_schemas.dead_letters import dead_letter
from complaints_schemas.events import ComplaintEscalated

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Record:
    """What the handler needs of a Kafka message (plain data, so tests need no broker)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    headers: Headers | None


class DeliveredIds(Protocol):
    """The dedup log as the handler sees it (DedupLog in production, a set in tests)."""

    def __contains__(self, notification_id: object) -> bool: ...

    def add(self, notification_id: str) -> None: ...


class Links(Protocol):
    """The links an alert carries (status page, signed acknowledge link)."""

    def status_url(self, escalation: ComplaintEscalated) -> str | None: ...

    def ack_url(
        self, escalation: ComplaintEscalated, *, receiver: str, now: datetime
    ) -> str | None: ...


class NoLinks:
    def status_url(self, escalation: ComplaintEscalated) -> str | None:
        return None

    def ack_url(
        self, escalation: ComplaintEscalated, *, receiver: str, now: datetime
    ) -> str | None:
        return None


class EscalationHandler:
    """Returns once every notification's outcome is acknowledged by the broker (or raises)."""

    def __init__(
        self,
        *,
        channels: Mapping[str, Channel],
        receivers: tuple[Route, ...],
        dedup: DeliveredIds,
        publisher: Publisher,
        policy: RetryPolicy,
        clock: Clock,
        jitter: Callable[[], float],
        metrics: NotifierMetrics,
        routing: Routing | None = None,
        links: Links | None = None,
    ) -> None:
        self._channels = channels
        self._routing = routing
        self._links = links or NoLinks()
        self._receivers = receivers
        self._dedup = dedup
        self._publisher = publisher
        self._policy = policy
        self._clock = clock
        self._jitter = jitter
        self._metrics = metrics
        # Notifications being delivered now: a redelivered copy waits for them instead of sending.
        self._in_flight: dict[str, asyncio.Future[None]] = {}

    async def handle(self, record: Record) -> None:
        try:
            envelope = cloudevents.decode(ComplaintEscalated, record.value, record.headers)
        except DecodeError as exc:
            await self._reject(record, exc)
            return
        await asyncio.gather(*(self._notify_once(n) for n in self.notifications(envelope.data)))

    def notifications(self, escalation: ComplaintEscalated) -> tuple[Notification, ...]:
        """The routing tree's receivers (minus muted ones), or the configured default receivers."""
        if self._routing is None:
            routes = routes_for(escalation, receivers=self._receivers)
            return tuple(self._notification(escalation, r) for r in routes)
        decision = route(self._routing, escalation, now=self._clock.now())
        for receiver in decision.muted:
            self._metrics.muted.labels(receiver).inc()
            log.info(
                "notification muted (quiet hours)",
                extra={"escalation_id": escalation.escalation_id, "receiver": receiver},
            )
        return tuple(self._notification(escalation, r) for r in decision.routes)

    def _notification(self, escalation: ComplaintEscalated, to: Route) -> Notification:
        routing = self._routing
        language = "zh"
        contacts: tuple[str, ...] = ()
        owners: tuple[str, ...] = ()
        if routing is not None:
            receiver = routing.receivers.get(to.receiver)
            language = receiver.language if receiver else "zh"
            contacts = mentions(routing, escalation, channel=to.channel)
            owners = owner_names(routing, escalation)
        context = Context(
            language=language,
            mentions=contacts,
            owners=owners,
            ack_url=self._links.ack_url(escalation, receiver=to.receiver, now=self._clock.now()),
            status_url=self._links.status_url(escalation),
            names=self._routing.names if self._routing is not None else DEFAULT_NAMES,
        )
        return Notification(escalation, to, context)

    def _fallback(self, notification: Notification) -> Notification | None:
        """The receiver's fallback channel, if it names one and this is not it already."""
        if self._routing is None:
            return None
        receiver = self._routing.receivers.get(notification.route.receiver)
        if receiver is None or receiver.fallback is None:
            return None
        if notification.route.channel == receiver.fallback:
            return None
        to = Route(receiver=receiver.name, channel=receiver.fallback)
        return self._notification(notification.escalation, to)

    async def _notify_once(self, notification: Notification) -> None:
        channel = notification.route.channel
        nid = notification.id
        if nid in self._dedup:
            self._metrics.deliveries.labels(channel, "duplicate").inc()
            self._metrics.dedup_hits.labels(channel).inc()
            return
        running = self._in_flight.get(nid)
        if running is not None:
            # Raises if that delivery was abandoned, so this copy is not committed either.
            await asyncio.shield(running)
            self._metrics.deliveries.labels(channel, "duplicate").inc()
            self._metrics.dedup_hits.labels(channel).inc()
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._in_flight[nid] = done
        try:
            await self._deliver(notification)
        except BaseException:
            done.cancel()
            raise
        else:
            done.set_result(None)
        finally:
            del self._in_flight[nid]

    async def _deliver(self, notification: Notification) -> None:
        channel = self._channels[notification.route.channel]
        attempt = 0
        while True:
            attempt += 1
            outcome = await channel.send(notification, now=self._clock.now())
            self._metrics.attempts.labels(channel.name, type(outcome).__name__.lower()).inc()
            decision = decide(self._policy, attempt=attempt, outcome=outcome, unit=self._jitter())
            if isinstance(decision, Done):
                now = self._clock.now()
                self._dedup.add(notification.id)
                self._metrics.latency.labels(channel.name).observe(
                    max((now - notification.escalation.escalated_at).total_seconds(), 0.0)
                )
                await self._publisher.delivered(
                    notification.delivered(at=now, attempts=attempt), now=now
                )
                self._metrics.deliveries.labels(channel.name, "delivered").inc()
                log.info(
                    "notification delivered",
                    extra={"notification_id": notification.id, "attempts": attempt},
                )
                return
            if isinstance(decision, GiveUp):
                now = self._clock.now()
                await self._publisher.failed(
                    notification.failed(
                        at=now,
                        attempts=attempt,
                        retryable=decision.retryable,
                        reason=decision.reason,
                    ),
                    now=now,
                )
                self._metrics.deliveries.labels(channel.name, "failed").inc()
                log.warning(
                    "notification failed",
                    extra={"notification_id": notification.id, "reason": decision.reason},
                )
                fallback = self._fallback(notification)
                if fallback is not None:
                    self._metrics.fallbacks.labels(channel.name).inc()
                    await self._notify_once(fallback)
                return
            self._metrics.retries.labels(channel.name).inc()
            await self._clock.sleep_until(self._clock.now() + decision.delay)

    async def _reject(self, record: Record, exc: DecodeError) -> None:
        dead_letter_id, rejected = dead_letter(
            exc,
            value=record.value,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            at=self._clock.now(),
        )
        await self._publisher.rejected(rejected, id=dead_letter_id)
        self._metrics.rejected.labels(exc.reason).inc()
        log.warning(
            "escalation rejected",
            extra={"reason": exc.reason, "partition": record.partition, "offset": record.offset},
        )
