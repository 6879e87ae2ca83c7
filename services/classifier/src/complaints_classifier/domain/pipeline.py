"""The three stages composed in memory: the classifier without a broker (evaluation, bench)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from complaints_classifier.domain.content import ContentClassifier, ContentDecision
from complaints_classifier.domain.customer import (
    CustomerState,
    HistoryOutcome,
    add_to_history,
    apply_history,
)
from complaints_classifier.domain.decision import decide
from complaints_classifier.domain.identity import customer_identity
from complaints_classifier.domain.rules import RuleSet
from complaints_classifier.domain.window import WindowOutcome, WindowState, add_to_window
from complaints_schemas.events import Channel, ComplaintAccepted, ComplaintClassified


def customer_stage(
    content: ContentDecision, state: CustomerState | None, *, rules: RuleSet
) -> tuple[ContentDecision, HistoryOutcome]:
    """Stage 2 (owner of the customer): repeat raise and omni-channel duplicate."""
    history = add_to_history(state, content=content, rules=rules)
    return apply_history(content, history, rules=rules), history


def window_stage(
    content: ContentDecision,
    state: WindowState | None,
    *,
    rules: RuleSet,
    classified_at: datetime,
    similarity: float = 0.1,
) -> tuple[ComplaintClassified, WindowOutcome]:
    """Stage 3 (owner of the fingerprint): window, cluster, surge and the scope decision."""
    outcome = add_to_window(
        state,
        fingerprint=content.fingerprint,
        complaint_id=content.complaint.complaint_id,
        at=content.complaint.accepted_at,
        rule=rules.scope.common,
        surge=rules.scope.surge,
        count=content.duplicate_of is None,
        signature=content.signature,
        customer=content.complaint.customer.id,
        similarity=similarity,
    )
    event = decide(
        content,
        outcome,
        rule=rules.scope.common,
        scope=rules.scope,
        classified_at=classified_at,
    )
    return event, outcome


CHANNEL_RESOLUTION = timedelta(hours=1)


def with_channels(
    event: ComplaintClassified,
    seen: Mapping[str, datetime],
    *,
    window: timedelta,
) -> tuple[ComplaintClassified, dict[str, datetime]]:
    """The channels of the fingerprint's complaints within the common window, this one's
    included (each with when it was last seen); a clustered event carries them, in the order
    they were last seen, as `cluster_channels` (the cluster's reach: "23 complaints, 4
    channels"). The fingerprint's, not the similarity group's: an approximation when one
    fingerprint holds two groups."""
    at = event.complaint.accepted_at
    channel = event.complaint.channel.value
    last = seen.get(channel)
    # A channel seen again within the hour keeps its time: one table write per channel and
    # hour at most, for a window that ends up to an hour early for that channel.
    fresh = last is not None and timedelta(0) <= at - last < CHANNEL_RESOLUTION
    updated = dict(seen) if fresh or (last is not None and last > at) else {**seen, channel: at}
    kept = {c: t for c, t in updated.items() if at - t <= window}
    if event.cluster_id is None:
        return event, kept
    ordered = sorted(kept, key=lambda c: (kept[c], c))
    return event.model_copy(update={"cluster_channels": tuple(Channel(c) for c in ordered)}), kept


class InMemoryPipeline:
    """Classifies a stream in arrival order with the state in dicts, like the faust tables."""

    def __init__(
        self,
        rules: RuleSet,
        classifier: ContentClassifier | None = None,
        *,
        identity_key: bytes | None = None,
    ) -> None:
        self.identity_key = identity_key
        self.rules = rules
        self.classifier = classifier or ContentClassifier(rules)
        self.customers: dict[str, CustomerState] = {}
        self.windows: dict[str, WindowState] = {}
        self.writes = 0

    def classify(
        self, complaint: ComplaintAccepted, *, classified_at: datetime | None = None
    ) -> ComplaintClassified:
        content = self.classifier.classify(complaint)
        customer_id = customer_identity(complaint.customer, key=self.identity_key)
        content, history = customer_stage(
            content, self.customers.get(customer_id), rules=self.rules
        )
        if history.changed:
            self.customers[customer_id] = history.state
            self.writes += 1
        event, outcome = window_stage(
            content,
            self.windows.get(content.fingerprint),
            rules=self.rules,
            classified_at=classified_at or complaint.accepted_at,
            similarity=self.classifier.similarity_threshold,
        )
        seen = outcome.state.channels
        event, channels = with_channels(event, seen, window=self.rules.scope.common.window)
        if outcome.changed or channels != seen:
            self.windows[content.fingerprint] = outcome.state.model_copy(
                update={"channels": channels}
            )
            self.writes += 1
        return event
