"""The accept path shared by the HTTP API and the Kafka consumer: dedup -> normalise -> publish."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from complaints_intake.domain.bounds import OccurredWindow, check_event
from complaints_intake.domain.dedup import DedupWindow
from complaints_intake.domain.identity import complaint_id
from complaints_intake.domain.normalise import accept
from complaints_intake.metrics import IntakeMetrics
from complaints_intake.outbound.publisher import IntakePublisher
from complaints_kit.clock import Clock
from complaints_schemas.cloudevents import DecodeError
from complaints_schemas.dead_letters import dead_letter
from complaints_schemas.events import (
    ComplaintLifecycleEvent,
    ComplaintSubmitted,
    FieldError,
)

Source = Literal["http", "kafka"]


@dataclass(frozen=True, slots=True)
class Acceptance:
    complaint_id: str
    duplicate: bool


@dataclass(frozen=True, slots=True)
class RecordOrigin:
    """Where a rejected Kafka record sat."""

    topic: str
    partition: int
    offset: int


class IntakeHandlers:
    def __init__(
        self,
        *,
        publisher: IntakePublisher,
        dedup: DedupWindow,
        clock: Clock,
        metrics: IntakeMetrics,
        window: OccurredWindow | None = None,
    ) -> None:
        self._window = window or OccurredWindow()
        self._publisher = publisher
        self._dedup = dedup
        self._clock = clock
        self._metrics = metrics
        # Complaints whose record is queued but not yet acknowledged: a concurrent resend
        # waits for the first send instead of publishing again.
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def accept(self, submitted: ComplaintSubmitted, *, source: Source) -> Acceptance:
        """Publish the complaint unless it was already accepted; return once the broker has it.

        Raises Unacceptable for unreadable text or an occurred_at outside the window, BufferError
        when the producer queue is full, KafkaException when delivery failed.
        """
        cid = complaint_id(submitted.channel, submitted.channel_event_id)
        now = self._clock.now()
        check_event(submitted, now=now, window=self._window)
        if self._dedup.was_accepted(cid, now=now):
            self._metrics.duplicates.labels(source=source).inc()
            return Acceptance(cid, duplicate=True)
        pending = self._inflight.get(cid)
        if pending is not None:
            await asyncio.shield(pending)
            self._metrics.duplicates.labels(source=source).inc()
            return Acceptance(cid, duplicate=True)
        accepted = accept(submitted, complaint_id=cid, accepted_at=now)
        ack = self._publisher.accepted(accepted)
        self._inflight[cid] = ack

        settled = False

        def settle(future: asyncio.Future[Any]) -> None:
            # Called on return, and as a done-callback in case the caller went away
            # (client disconnect) so the window stays right either way; runs once.
            nonlocal settled
            if settled:
                return
            settled = True
            self._inflight.pop(cid, None)
            if not future.cancelled() and future.exception() is None:
                self._dedup.record(cid, now=self._clock.now())
                self._metrics.accepted.labels(channel=str(submitted.channel), source=source).inc()

        ack.add_done_callback(settle)
        await asyncio.shield(ack)
        settle(ack)
        return Acceptance(cid, duplicate=False)

    async def record_lifecycle(self, event: ComplaintLifecycleEvent) -> None:
        """Publish a lifecycle event and return once the broker has it (Unacceptable if its
        text or occurred_at breaks the rules)."""
        check_event(event, now=self._clock.now(), window=self._window)
        await asyncio.shield(self._publisher.lifecycle(event))
        self._metrics.lifecycle.labels(action=str(event.action)).inc()

    async def reject(
        self,
        *,
        reason: str,
        detail: str,
        errors: tuple[FieldError, ...],
        original: bytes,
        origin: RecordOrigin,
    ) -> None:
        """Dead-letter a Kafka record on complaints.rejected.v1, keeping its bytes and position."""
        rid, event = dead_letter(
            DecodeError(reason, detail, errors),
            value=original,
            topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
            at=self._clock.now(),
        )
        await asyncio.shield(self._publisher.rejected(event, rejection_id=rid))
        self._metrics.rejected.labels(reason=reason, source="kafka").inc()

    def count_http_rejection(self, reason: str) -> None:
        self._metrics.rejected.labels(reason=reason, source="http").inc()
