"""State transitions of one complaint: classification, lifecycle steps and due escalations."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from complaints_escalation.domain.policy import RESPONSE_CLOCK, EscalationPolicy
from complaints_escalation.domain.state import (
    Classification,
    ComplaintState,
    LifecycleFact,
    SlaClock,
    Status,
    Step,
)
from complaints_schemas.events import (
    ComplaintClassified,
    ComplaintEscalated,
    ComplaintLifecycleEvent,
    EscalationKind,
    LifecycleAction,
)

# Lifecycle event ids remembered per complaint for deduplication (a complaint has few steps).
MAX_SEEN_EVENT_IDS = 256


class Outcome(StrEnum):
    CLASSIFIED = "classified"
    DUPLICATE = "duplicate"
    RECLASSIFICATION_IGNORED = "reclassification_ignored"
    STORED_EARLY = "stored_early"
    CLOCK_STOPPED = "clock_stopped"
    CLOSED = "closed"
    REOPENED = "reopened"
    PAUSED = "paused"
    RESUMED = "resumed"
    TRANSFERRED = "transferred"
    NO_EFFECT = "no_effect"


@dataclass(frozen=True, slots=True)
class Transition:
    state: ComplaintState
    outcome: Outcome
    changed: bool


@dataclass(frozen=True, slots=True)
class Escalation:
    step: Step
    event: ComplaintEscalated


def escalation_id(*, complaint_id: str, clock: str, kind: str, level: int, repeat: int) -> str:
    """Deterministic id of one escalation step: a replay or restart yields the same id."""
    material = "\x1f".join((complaint_id, clock, kind, str(level), str(repeat)))
    return "ESC-" + hashlib.sha256(material.encode()).hexdigest()[:32]


def on_classified(
    state: ComplaintState | None, event: ComplaintClassified, *, policy: EscalationPolicy
) -> Transition:
    """Open the complaint and start its response clock; a second classification changes nothing."""
    before = state or ComplaintState(complaint_id=event.complaint_id)
    classification = Classification(
        severity=event.severity,
        scope=event.scope,
        category=event.category,
        department=event.department,
        title=event.complaint.title,
        accepted_at=event.complaint.accepted_at,
        cluster_id=event.cluster_id,
    )
    if before.status is not Status.AWAITING_CLASSIFICATION:
        same = before.classification is not None and (
            before.classification.severity,
            before.classification.accepted_at,
        ) == (classification.severity, classification.accepted_at)
        outcome = Outcome.DUPLICATE if same else Outcome.RECLASSIFICATION_IGNORED
        return Transition(before, outcome, changed=False)
    clock = policy.start_response_clock(
        severity=event.severity, accepted_at=classification.accepted_at
    )
    after = replace(
        before,
        status=Status.OPEN,
        classification=classification,
        clocks=(clock,),
        early_events=(),
    )
    # Lifecycle steps that overtook the classifier apply now, in the order they happened.
    for fact in sorted(before.early_events, key=lambda f: f.occurred_at):
        after, _ = _apply(after, fact)
    return Transition(_bumped(before, after), Outcome.CLASSIFIED, changed=True)


def on_lifecycle(state: ComplaintState | None, event: ComplaintLifecycleEvent) -> Transition:
    """Apply a lifecycle step; before the classification it is kept and applied later."""
    before = state or ComplaintState(complaint_id=event.complaint_id)
    if event.event_id in before.seen_event_ids:
        return Transition(before, Outcome.DUPLICATE, changed=False)
    fact = LifecycleFact(
        event_id=event.event_id,
        action=event.action,
        occurred_at=event.occurred_at,
        to_department=event.to_department,
    )
    seen = (*before.seen_event_ids, fact.event_id)[-MAX_SEEN_EVENT_IDS:]
    if before.status is Status.AWAITING_CLASSIFICATION:
        after = replace(before, early_events=(*before.early_events, fact), seen_event_ids=seen)
        return Transition(_bumped(before, after), Outcome.STORED_EARLY, changed=True)
    after, outcome = _apply(replace(before, seen_event_ids=seen), fact)
    # Even a step without effect changes the state: its id is remembered for deduplication.
    return Transition(_bumped(before, after), outcome, changed=True)


def on_due(state: ComplaintState, *, token: int, now: datetime) -> tuple[Escalation, ...]:
    """Escalations due at `now` and not yet fired; none when the token is stale."""
    if state.version != token or state.status is not Status.OPEN:
        return ()
    return tuple(
        Escalation(step=step, event=_escalated(state, clock, step, now))
        for clock in state.clocks
        if clock.running
        for step in clock.steps()
        if step.key not in state.fired and step.due_at <= now
    )


def record_fired(state: ComplaintState, steps: tuple[Step, ...]) -> ComplaintState:
    """Mark steps as fired (idempotent); done only after their escalations were published."""
    new = tuple(s.key for s in steps if s.key not in state.fired)
    if not new:
        return state
    return replace(state, fired=(*state.fired, *new), version=state.version + 1)


def next_due(state: ComplaintState) -> datetime | None:
    """The instant of the earliest step not yet fired, or None when nothing is pending."""
    if state.status is not Status.OPEN:
        return None
    pending = [
        step.due_at
        for clock in state.clocks
        if clock.running
        for step in clock.steps()
        if step.key not in state.fired
    ]
    return min(pending, default=None)


def _apply(state: ComplaintState, fact: LifecycleFact) -> tuple[ComplaintState, Outcome]:
    action = fact.action
    if action in (LifecycleAction.ACKNOWLEDGED, LifecycleAction.RESPONDED):
        clock = state.clock(RESPONSE_CLOCK)
        if clock is None or not clock.running:
            return state, Outcome.NO_EFFECT
        return _with_clock(
            state, replace(clock, stopped_at=fact.occurred_at)
        ), Outcome.CLOCK_STOPPED
    if action in (LifecycleAction.RESOLVED, LifecycleAction.CLOSED):
        if state.status is Status.CLOSED:
            return state, Outcome.NO_EFFECT
        clocks = tuple(
            replace(c, stopped_at=fact.occurred_at) if c.running else c for c in state.clocks
        )
        return replace(state, status=Status.CLOSED, clocks=clocks), Outcome.CLOSED
    if action is LifecycleAction.REOPENED:
        if state.status is not Status.CLOSED:
            return state, Outcome.NO_EFFECT
        # The response clock stays stopped; the resolution clock (later) restarts here.
        return replace(state, status=Status.OPEN), Outcome.REOPENED
    if action is LifecycleAction.PAUSED:
        # Stored only: the foundation's response clock is not paused (see README).
        return replace(state, paused_since=state.paused_since or fact.occurred_at), Outcome.PAUSED
    if action is LifecycleAction.RESUMED:
        return replace(state, paused_since=None), Outcome.RESUMED
    if action is LifecycleAction.TRANSFERRED and state.classification and fact.to_department:
        moved = replace(state.classification, department=fact.to_department)
        return replace(state, classification=moved), Outcome.TRANSFERRED
    return state, Outcome.NO_EFFECT


def _with_clock(state: ComplaintState, clock: SlaClock) -> ComplaintState:
    return replace(state, clocks=tuple(clock if c.name == clock.name else c for c in state.clocks))


def _bumped(before: ComplaintState, after: ComplaintState) -> ComplaintState:
    """A new version (the timer token) whenever anything changed."""
    return after if after == before else replace(after, version=before.version + 1)


def _escalated(
    state: ComplaintState, clock: SlaClock, step: Step, now: datetime
) -> ComplaintEscalated:
    c = state.classification
    assert c is not None  # an open complaint is classified
    return ComplaintEscalated(
        escalation_id=escalation_id(
            complaint_id=state.complaint_id,
            clock=step.clock,
            kind=step.kind.value,
            level=step.level,
            repeat=step.repeat,
        ),
        complaint_id=state.complaint_id,
        cluster_id=c.cluster_id,
        kind=EscalationKind(step.kind),
        clock=step.clock,
        level=step.level,
        deadline=clock.deadline,
        escalated_at=now,
        severity=c.severity,
        scope=c.scope,
        category=c.category,
        department=c.department,
        title=c.title,
    )
