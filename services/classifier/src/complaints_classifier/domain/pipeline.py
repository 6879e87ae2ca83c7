"""The three stages composed in memory: the classifier without a broker (evaluation, bench)."""

from __future__ import annotations

from datetime import datetime

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
from complaints_schemas.events import ComplaintAccepted, ComplaintClassified


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
        if outcome.changed:
            self.windows[content.fingerprint] = outcome.state
            self.writes += 1
        return event
