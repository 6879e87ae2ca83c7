"""The three stages, free of the broker client: decode -> domain -> publish; bad input becomes a
dead letter. Synchronous: the stream loop calls them record by record within a batch, and
the publisher only queues; the loop waits for the broker once per batch."""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import ValidationError

from complaints_classifier.domain.decision import cluster_joins
from complaints_classifier.domain.identity import customer_identity
from complaints_classifier.domain.pipeline import customer_stage, window_stage, with_channels
from complaints_classifier.live_rules import CurrentRules
from complaints_classifier.metrics import ClassifierMetrics
from complaints_classifier.outbound.customer_store import CustomerStore
from complaints_classifier.outbound.publisher import Publisher
from complaints_classifier.outbound.window_store import WindowStore
from complaints_classifier.repartition import ToWindow
from complaints_kit.clock import Clock
from complaints_kit.records import Origin
from complaints_schemas.cloudevents import DecodeError, Headers, decode, field_errors
from complaints_schemas.dead_letters import dead_letter
from complaints_schemas.events import ComplaintAccepted, ComplaintClassified, Scope

log = logging.getLogger(__name__)

_RAISE_CAUSES = {
    "severity.raise_for": "raise_for",
    "severity.raise_for.at_stake": "raise_for",
    "severity.repeat": "repeat",
    "severity.emotion": "emotion",
}


class Handlers:
    def __init__(
        self,
        *,
        rules: CurrentRules,
        customers: CustomerStore,
        store: WindowStore,
        publisher: Publisher,
        clock: Clock,
        metrics: ClassifierMetrics,
        identity_key: bytes | None = None,
    ) -> None:
        # Customers match on keyed hashes of phone or email with it (never logged).
        self._identity_key = identity_key
        self._rules = rules
        self._customers = customers
        self._store = store
        self._publisher = publisher
        self._clock = clock
        self._metrics = metrics
        self._received: list[datetime] = []  # this batch's classified complaints, for `settled`

    def accepted(self, value: bytes | None, headers: Headers, origin: Origin) -> None:
        """Stage 1: classify the content and forward it keyed by customer id."""
        received_at = self._clock.now()
        try:
            complaint = decode(ComplaintAccepted, value, headers).data
        except DecodeError as exc:
            self._reject(value, origin, reason=exc.reason, detail=exc.detail, error=exc)
            return
        content = self._rules.classifier.classify(complaint)
        identity = customer_identity(complaint.customer, key=self._identity_key)
        self._publisher.to_customer(
            ToWindow(content=content, received_at=received_at, identity=identity)
        )

    def customer(self, value: bytes | None, origin: Origin) -> None:
        """Stage 2 (owner of the customer): repeats and omni-channel duplicates; by fingerprint."""
        message = self._internal(value, origin)
        if message is None:
            return
        customer_id = message.customer_key
        content, history = customer_stage(
            message.content,
            self._customers.get(customer_id, partition=origin.partition),
            rules=self._rules.rules,
        )
        if history.changed:
            self._customers.put(customer_id, history.state, partition=origin.partition)
        self._publisher.to_window(message.model_copy(update={"content": content}))

    def windowed(self, value: bytes | None, origin: Origin) -> None:
        """Stage 3 (owner of the fingerprint): count in the window, decide scope, publish."""
        message = self._internal(value, origin)
        if message is None:
            return
        content = message.content
        event, outcome = window_stage(
            content,
            self._store.get(content.fingerprint, partition=origin.partition),
            rules=self._rules.rules,
            classified_at=self._clock.now(),
            similarity=self._rules.classifier.similarity_threshold,
        )
        # The channels the fingerprint's complaints came through live in its window state.
        seen = outcome.state.channels
        event, channels = with_channels(event, seen, window=self._rules.rules.scope.common.window)
        if channels != seen or outcome.changed:
            state = outcome.state.model_copy(update={"channels": channels})
            self._store.put(content.fingerprint, state, partition=origin.partition)
        self._publisher.classified(event)
        for step in cluster_joins(event, outcome.joined):
            self._publisher.lifecycle(step)
        self._received.append(message.received_at)
        self._count(event, duplicate=outcome.duplicate, late=outcome.late, opened=outcome.opened)
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
                "cluster_size": event.cluster_size,
                "cluster_opened": event.cluster_opened,
                "duplicate_of": event.duplicate_of,
                "window_count": outcome.count,
                "reasons": [f"{r.rule}: {r.detail}" for r in event.reasons],
            },
        )

    def settled(self) -> None:
        """The batch's records are acknowledged by the broker: received -> decision delivered."""
        now = self._clock.now()
        for received_at in self._received:
            self._metrics.duration.observe(max((now - received_at).total_seconds(), 0.0))
        self._received.clear()

    def discarded(self) -> None:
        """The batch failed and is handled again: nothing of it was delivered for sure."""
        self._received.clear()

    def _count(
        self, event: ComplaintClassified, *, duplicate: bool, late: bool, opened: bool
    ) -> None:
        m = self._metrics
        m.classified.labels(event.severity, event.scope, event.category).inc()
        if event.needs_triage:
            m.needs_triage.labels(event.category).inc()
        m.window_outcomes.labels("duplicate" if duplicate else "late" if late else "counted").inc()
        if opened and event.cluster_opened:
            m.clusters_opened.labels(event.category).inc()
        if event.duplicate_of is not None:
            m.duplicates.inc()
        for reason in event.reasons:
            if reason.rule in _RAISE_CAUSES and "raises" in reason.detail:
                m.severity_raises.labels(_RAISE_CAUSES[reason.rule]).inc()
            if event.scope is Scope.RISK and reason.rule.startswith("scope.risk."):
                m.risk_causes.labels(reason.rule.removeprefix("scope.risk.")).inc()
            elif (
                event.scope is Scope.RISK
                and reason.decision == "scope"
                and (reason.rule.startswith("model."))
            ):
                m.risk_causes.labels("model").inc()  # one label whatever the model's version

    def failed(self, value: bytes | None, origin: Origin, error: Exception) -> None:
        """A record whose handling raised (a bug on its path): dead-lettered with the error."""
        exc = DecodeError("processing_failed", repr(error))
        self._reject(value, origin, reason=exc.reason, detail=exc.detail, error=exc)

    def _internal(self, value: bytes | None, origin: Origin) -> ToWindow | None:
        try:
            return ToWindow.model_validate_json(value or b"")
        except ValidationError as exc:
            error = DecodeError(
                "invalid_event", "not a classifier repartition record", field_errors(exc)
            )
            self._reject(value, origin, reason=error.reason, detail=error.detail, error=error)
            return None

    def _reject(
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
        self._publisher.rejected(event, id=dead_letter_id)
        self._metrics.rejected.labels(reason).inc()
        log.warning(
            "record rejected",
            extra={"reason": reason, "detail": detail, **origin.log_fields()},
        )
