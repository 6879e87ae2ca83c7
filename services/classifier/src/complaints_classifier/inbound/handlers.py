"""The two stages, free of faust: decode -> domain -> publish; bad input becomes a dead letter."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import ValidationError

from complaints_classifier.domain.content import ContentClassifier
from complaints_classifier.domain.decision import decide
from complaints_classifier.domain.rules import CommonRule
from complaints_classifier.domain.window import add_to_window
from complaints_classifier.metrics import ClassifierMetrics
from complaints_classifier.outbound.publisher import Publisher
from complaints_classifier.outbound.window_store import WindowStore
from complaints_classifier.repartition import ToWindow
from complaints_kit.clock import Clock
from complaints_schemas.cloudevents import DecodeError, Headers, decode, field_errors
from complaints_schemas.dead_letters import dead_letter
from complaints_schemas.events import ComplaintAccepted

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Origin:
    topic: str
    partition: int
    offset: int


class Handlers:
    def __init__(
        self,
        *,
        classifier: ContentClassifier,
        common: CommonRule,
        store: WindowStore,
        publisher: Publisher,
        clock: Clock,
        metrics: ClassifierMetrics,
    ) -> None:
        self._classifier = classifier
        self._common = common
        self._store = store
        self._publisher = publisher
        self._clock = clock
        self._metrics = metrics

    async def accepted(self, value: bytes | None, headers: Headers, origin: Origin) -> None:
        """Stage 1: classify the content and forward it keyed by fingerprint."""
        received_at = self._clock.now()
        try:
            complaint = decode(ComplaintAccepted, value, headers).data
        except DecodeError as exc:
            await self._reject(value, origin, reason=exc.reason, detail=exc.detail, error=exc)
            return
        content = self._classifier.classify(complaint)
        await self._publisher.to_window(ToWindow(content=content, received_at=received_at))

    async def windowed(self, value: bytes | None, origin: Origin) -> None:
        """Stage 2 (owner of the fingerprint): count in the window, decide scope, publish."""
        try:
            message = ToWindow.model_validate_json(value or b"")
        except ValidationError as exc:
            error = DecodeError(
                "invalid_event", "not a classifier repartition record", field_errors(exc)
            )
            await self._reject(value, origin, reason=error.reason, detail=error.detail, error=error)
            return
        content = message.content
        outcome = add_to_window(
            self._store.get(content.fingerprint),
            fingerprint=content.fingerprint,
            complaint_id=content.complaint.complaint_id,
            at=content.complaint.accepted_at,
            rule=self._common,
        )
        if outcome.changed:
            self._store.put(content.fingerprint, outcome.state)
        event = decide(content, outcome, rule=self._common, classified_at=self._clock.now())
        started = message.received_at

        def delivered() -> None:
            elapsed = (self._clock.now() - started).total_seconds()
            self._metrics.duration.observe(max(elapsed, 0.0))

        await self._publisher.classified(event, on_delivered=delivered)
        self._metrics.classified.labels(event.severity, event.scope, event.category).inc()
        self._metrics.window_outcomes.labels(
            "duplicate" if outcome.duplicate else "late" if outcome.late else "counted"
        ).inc()
        if outcome.opened:
            self._metrics.clusters_opened.labels(event.category).inc()
        log.info(
            "complaint classified",
            extra={
                "complaint_id": event.complaint_id,
                "severity": event.severity.value,
                "scope": event.scope.value,
                "category": event.category,
                "department": event.department,
                "fingerprint": event.fingerprint,
                "cluster_id": event.cluster_id,
                "window_count": outcome.count,
                "reasons": [f"{r.rule}: {r.detail}" for r in event.reasons],
            },
        )

    async def _reject(
        self,
        value: bytes | None,
        origin: Origin,
        *,
        reason: str,
        detail: str,
        error: DecodeError,
    ) -> None:
        dead_letter_id, event = dead_letter(
            DecodeError(reason, detail, error.errors),
            value=value,
            topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
            at=self._clock.now(),
        )
        await self._publisher.rejected(event, id=dead_letter_id)
        self._metrics.rejected.labels(reason).inc()
        log.warning(
            "record rejected",
            extra={
                "reason": reason,
                "detail": detail,
                "topic": origin.topic,
                "partition": origin.partition,
                "offset": origin.offset,
            },
        )
