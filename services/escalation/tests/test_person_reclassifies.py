"""A person's reclassification (lifecycle `reclassified`) recomputes the clocks like the
classifier's own, and survives the state's JSON round trip."""

from __future__ import annotations

from datetime import timedelta

from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.domain.transitions import Outcome, on_classified, on_lifecycle
from complaints_schemas.events import ComplaintLifecycleEvent, LifecycleAction, Severity

from .factories import T0, classified

MIN = timedelta(minutes=1)


def reclassify(cid: str, severity: Severity, *, minute: int) -> ComplaintLifecycleEvent:
    return ComplaintLifecycleEvent(
        event_id=f"{cid}-re-{minute}",
        complaint_id=cid,
        action=LifecycleAction.RECLASSIFIED,
        occurred_at=T0 + minute * MIN,
        actor="console:wang",
        severity=severity,
    )


def test_a_person_lowers_the_severity_and_the_deadline_moves() -> None:
    policy = EscalationPolicy.response_only()
    state = on_classified(None, classified("RC-1"), policy=policy).state
    red_deadline = state.clocks[0].deadline
    result = on_lifecycle(state, reclassify("RC-1", Severity.GREEN, minute=2), policy=policy)
    assert result.outcome is Outcome.RECLASSIFIED
    after = result.state
    assert after.classification is not None
    assert after.classification.severity is Severity.GREEN
    assert after.reclassifications == 1
    assert after.clocks[0].deadline > red_deadline
    again = ComplaintState.from_json(after.to_json())
    assert again == after


def test_the_same_classification_changes_nothing() -> None:
    policy = EscalationPolicy.response_only()
    state = on_classified(None, classified("RC-2"), policy=policy).state
    result = on_lifecycle(state, reclassify("RC-2", Severity.RED, minute=1), policy=policy)
    assert result.outcome is Outcome.NO_EFFECT
    assert result.state.clocks == state.clocks
