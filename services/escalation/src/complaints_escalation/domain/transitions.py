"""State transitions of one complaint: classification, lifecycle steps and due escalations."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from complaints_escalation.domain.calendar import CALENDAR_24X7, WorkingCalendar
from complaints_escalation.domain.clocks import (
    pause_clock,
    recompute,
    resume_clock,
    start_clock,
    stop_clock,
)
from complaints_escalation.domain.policy import (
    CLASSIFIED_EVENT,
    ClockSpec,
    EscalationPolicy,
    Subject,
)
from complaints_escalation.domain.state import (
    Classification,
    ComplaintState,
    LifecycleFact,
    SlaClock,
    Status,
    Step,
    inhibited,
)
from complaints_schemas.events import (
    Channel,
    ComplaintClassified,
    ComplaintEscalated,
    ComplaintLifecycleEvent,
    Customer,
    EscalationKind,
    LifecycleAction,
    Scope,
)
from complaints_schemas.pii import mask

# Lifecycle event ids remembered per complaint for deduplication (a complaint has few steps).
MAX_SEEN_EVENT_IDS = 256
# Lifecycle events without a policy at hand (tests, tools) use the foundation's response clock.
FOUNDATION_POLICY = EscalationPolicy.response_only()


class Outcome(StrEnum):
    CLASSIFIED = "classified"
    DUPLICATE = "duplicate"
    RECLASSIFIED = "reclassified"
    RECLASSIFICATION_IGNORED = "reclassification_ignored"
    STORED_EARLY = "stored_early"
    CLOCK_STOPPED = "clock_stopped"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    PAUSED = "paused"
    RESUMED = "resumed"
    TRANSFERRED = "transferred"
    POLICY_REAPPLIED = "policy_reapplied"
    CALENDAR_RECOMPUTED = "calendar_recomputed"
    NO_EFFECT = "no_effect"
    # Omni-channel: a duplicate joined its original (no clocks), and the original learned of it.
    JOINED = "joined"
    LINKED = "linked"
    # A cluster opened after the complaint was classified individual: it became a member.
    CLUSTERED = "clustered"


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


def masked_contact(customer: Customer) -> str | None:
    """How owners can reach the customer, masked before it leaves this service."""
    contact = customer.phone or customer.email
    return mask(contact) if contact else None


def on_classified(
    state: ComplaintState | None, event: ComplaintClassified, *, policy: EscalationPolicy
) -> Transition:
    """Open the complaint and start its clocks; new severity, scope or category recomputes them."""
    before = state or ComplaintState(complaint_id=event.complaint_id)
    classification = Classification(
        severity=event.severity,
        scope=event.scope,
        category=event.category,
        department=event.department,
        title=mask(event.complaint.title),  # customers write numbers in titles too
        accepted_at=event.complaint.accepted_at.astimezone(UTC),
        cluster_id=event.cluster_id,
        tier=event.complaint.customer.tier,
        cluster_size=event.cluster_size,
        customer_contact=masked_contact(event.complaint.customer),
        channel=event.complaint.channel.value,
        cluster_channels=tuple(ch.value for ch in event.cluster_channels),
    )
    if before.status is not Status.AWAITING_CLASSIFICATION:
        if before.duplicate_of is not None:  # it joined its original: no clocks to recompute
            return Transition(before, Outcome.RECLASSIFICATION_IGNORED, changed=False)
        return _reclassified(
            before, classification, at=event.classified_at.astimezone(UTC), policy=policy
        )
    original = event.duplicate_of if event.duplicate_of != event.complaint_id else None
    if original is not None:
        # The same problem reported again through another channel: it joins the original,
        # whose chains page for both (a `linked` step tells it); no second chain here.
        joined = replace(
            before,
            status=Status.OPEN,
            classification=classification,
            clocks=(),
            early_events=(),
            policy_version=policy.version,
            expires_at=None,
            duplicate_of=original,
        )
        for fact in sorted(before.early_events, key=lambda f: f.occurred_at):
            joined, _ = _apply(joined, fact, policy)
        return Transition(_bumped(before, joined), Outcome.JOINED, changed=True)
    clocks = tuple(
        start_clock(
            spec, _calendar(policy, spec, classification.department), at=classification.accepted_at
        )
        for spec in _specs(policy, classification)
        if spec.start == CLASSIFIED_EVENT
    )
    after = replace(
        before,
        status=Status.OPEN,
        classification=classification,
        clocks=clocks,
        early_events=(),
        policy_version=policy.version,
        expires_at=None,
    )
    # Lifecycle steps that overtook the classifier apply now, in the order they happened.
    for fact in sorted(before.early_events, key=lambda f: f.occurred_at):
        after, _ = _apply(after, fact, policy)
    return Transition(_bumped(before, after), Outcome.CLASSIFIED, changed=True)


def on_lifecycle(
    state: ComplaintState | None,
    event: ComplaintLifecycleEvent,
    *,
    policy: EscalationPolicy = FOUNDATION_POLICY,
    now: datetime | None = None,
) -> Transition:
    """Apply a lifecycle step; before the classification it is kept and applied later, for
    the policy's grace window from `now` (default: when it happened), then refused."""
    before = state or ComplaintState(complaint_id=event.complaint_id)
    if event.event_id in before.seen_event_ids:
        return Transition(before, Outcome.DUPLICATE, changed=False)
    fact = LifecycleFact(
        event_id=event.event_id,
        action=event.action,
        occurred_at=event.occurred_at.astimezone(UTC),  # one tzinfo: fast comparisons
        to_department=event.to_department,
        actor=event.actor,
        note=event.note,
        severity=event.severity,
        scope=event.scope,
        category=event.category,
        clock=event.clock,
        linked_complaint_id=event.linked_complaint_id,
        linked_channel=event.linked_channel.value if event.linked_channel else None,
        cluster_id=event.cluster_id,
        cluster_size=event.cluster_size,
    )
    seen = (*before.seen_event_ids, fact.event_id)[-MAX_SEEN_EVENT_IDS:]
    if before.status is Status.AWAITING_CLASSIFICATION:
        expires = before.expires_at or (now or fact.occurred_at) + policy.unknown_complaint_grace
        after = replace(
            before,
            early_events=(*before.early_events, fact),
            seen_event_ids=seen,
            expires_at=expires,
        )
        return Transition(_bumped(before, after), Outcome.STORED_EARLY, changed=True)
    # Even a step without effect changes the state: its id is remembered for deduplication.
    after, outcome = _apply(before, fact, policy, seen_event_ids=seen, version=before.version + 1)
    return Transition(after, outcome, changed=True)


def on_due(state: ComplaintState, *, token: int, now: datetime) -> tuple[Escalation, ...]:
    """Escalations due at `now` and not yet fired, in time order; none when the token is stale."""
    return tuple(
        Escalation(step=step, event=_escalated(state, clock, step, now))
        for step, clock in due_steps(state, token=token, now=now)
    )


def due_steps(state: ComplaintState, *, token: int, now: datetime) -> list[tuple[Step, SlaClock]]:
    """The steps `on_due` would fire, with their clocks, in time order (no events built)."""
    if state.version != token or state.status is Status.CLOSED:
        return []
    fired = frozenset(state.fired)
    return sorted(
        (
            (step, clock)
            for clock in state.clocks
            if clock.alerting and not inhibited(clock, state.clocks)
            for step in clock.steps(until=now, fired=fired, catch_up=True)
            if step.due_at <= now and step.key not in fired
        ),
        key=lambda pair: (pair[0].due_at, pair[0].kind is EscalationKind.BREACH, pair[0].level),
    )


def unknown_expired(state: ComplaintState, *, token: int, now: datetime) -> bool:
    """Lifecycle steps for a complaint never classified within the grace window: to be
    dead-lettered as unknown_complaint and the state dropped (no ghost stays behind)."""
    return (
        state.status is Status.AWAITING_CLASSIFICATION
        and state.version == token
        and state.expires_at is not None
        and state.expires_at <= now
    )


def record_fired(
    state: ComplaintState, steps: tuple[Step, ...], *, at: datetime | None = None
) -> ComplaintState:
    """Mark steps as fired (idempotent); done only after their escalations were published."""
    new = tuple(dict.fromkeys(s.key for s in steps if s.key not in state.fired))
    if not new:
        return state
    stamp = at or max(s.due_at for s in steps)
    return replace(
        state,
        fired=(*state.fired, *new),
        fired_at=(*state.fired_at, *(stamp for _ in new)),
        version=state.version + 1,
    )


def next_due(state: ComplaintState) -> datetime | None:
    """The instant of the earliest step not yet fired, or None when nothing is pending."""
    if state.status is Status.CLOSED:
        return None
    if state.status is Status.AWAITING_CLASSIFICATION:
        return state.expires_at
    pending = [
        at
        for clock in state.clocks
        if clock.alerting
        and not inhibited(clock, state.clocks)
        and (at := clock.next_pending(state.fired)) is not None
    ]
    return min(pending, default=None)


def _apply(
    state: ComplaintState,
    fact: LifecycleFact,
    policy: EscalationPolicy,
    **extra: object,
) -> tuple[ComplaintState, Outcome]:
    """One lifecycle step; every change (and `extra`) goes into a single new state."""
    action, at = fact.action, fact.occurred_at
    c = state.classification
    assert c is not None  # applied only to classified complaints
    changes: dict[str, object] = {
        "history": (*state.history, fact)[-MAX_SEEN_EVENT_IDS:],
        **extra,
    }
    outcome = Outcome.NO_EFFECT
    if action is LifecycleAction.LINKED:
        # Whatever the status: the original's page and its next alert show the other channel.
        linked = fact.linked_complaint_id
        if linked is not None and linked not in {cid for cid, _ in state.linked}:
            changes["linked"] = (*state.linked, (linked, fact.linked_channel))
            outcome = Outcome.LINKED
    elif state.status is Status.CLOSED and action is not LifecycleAction.REOPENED:
        pass
    elif action is LifecycleAction.CLOSED:
        changes["clocks"] = tuple(
            stop_clock(k, _clock_calendar(policy, k), at=at) for k in state.clocks
        )
        changes.update(status=Status.CLOSED, paused_since=None)
        outcome = Outcome.CLOSED
    elif action is LifecycleAction.TRANSFERRED:
        if fact.to_department and fact.to_department != c.department:
            moved = replace(c, department=fact.to_department)
            after = _recomputed(state, moved, at=at, policy=policy)
            changes.update(
                classification=after.classification,
                clocks=after.clocks,
                policy_version=after.policy_version,
                transfers=state.transfers + 1,
            )
            outcome = Outcome.TRANSFERRED
    elif action is LifecycleAction.CLUSTERED:
        # An individual complaint becomes a member: the policy's common clocks start (the
        # cluster's thread, which may inhibit this complaint's own chains); a risk complaint
        # stays one, a member already knows its cluster.
        if c.scope is Scope.INDIVIDUAL and c.cluster_id is None and state.duplicate_of is None:
            member = replace(
                c, scope=Scope.COMMON, cluster_id=fact.cluster_id, cluster_size=fact.cluster_size
            )
            after = _recomputed(state, member, at=at, policy=policy)
            # The cluster's alert so far is the opener's (the same escalation id): not sent
            # again from here; its later steps fire from every member (the notifier sends one).
            names = {k.name for k in state.clocks}
            sent = tuple(
                step.key
                for k in after.clocks
                if k.name not in names and k.spec.per_cluster
                for step in k.steps(until=at, fired=state.fired)
                if step.due_at <= at
            )
            changes.update(
                classification=after.classification,
                clocks=after.clocks,
                policy_version=after.policy_version,
                fired=(*state.fired, *sent),
                fired_at=(*state.fired_at, *(at for _ in sent)),
            )
            outcome = Outcome.CLUSTERED
    elif action is LifecycleAction.RECLASSIFIED:
        # A person's decision: clocks recomputed as for the classifier's reclassification.
        moved = replace(
            c,
            severity=fact.severity or c.severity,
            scope=fact.scope or c.scope,
            category=fact.category or c.category,
        )
        if moved != c:
            after = _recomputed(state, moved, at=at, policy=policy)
            changes.update(
                classification=after.classification,
                clocks=after.clocks,
                policy_version=after.policy_version,
                reclassifications=state.reclassifications + 1,
            )
            outcome = Outcome.RECLASSIFIED
    elif action is LifecycleAction.POLICY_REAPPLIED:
        # Time already used carries over; allowances, calendars and chains are the new ones.
        after = _recomputed(state, c, at=at, policy=policy)
        changes.update(clocks=after.clocks, policy_version=after.policy_version)
        outcome = Outcome.POLICY_REAPPLIED
    elif action is LifecycleAction.CALENDAR_RECOMPUTED:
        # Same policy, same calendars as frozen: only the holiday data is newer.
        changes["clocks"] = tuple(
            recompute(k, k.spec, cal, old_calendar=cal, now=at)
            if (cal := _clock_calendar(policy, k)).holiday_data is not None
            else k
            for k in state.clocks
        )
        outcome = Outcome.CALENDAR_RECOMPUTED
    elif action is LifecycleAction.REOPENED and state.status is Status.OPEN:
        pass
    else:
        clocks, touched = _clocks_after(state, fact, policy, c)
        if touched:
            changes["clocks"] = clocks
            outcome = Outcome.CLOCK_STOPPED
        if action is LifecycleAction.RESOLVED:
            changes["status"], outcome = Status.RESOLVED, Outcome.RESOLVED
        elif action is LifecycleAction.REOPENED:
            changes["status"], outcome = Status.OPEN, Outcome.REOPENED
        elif action is LifecycleAction.PAUSED:
            changes["paused_since"], outcome = state.paused_since or at, Outcome.PAUSED
        elif action is LifecycleAction.RESUMED:
            changes["paused_since"], outcome = None, Outcome.RESUMED
    return replace(state, **changes), outcome  # type: ignore[arg-type]


def _clocks_after(
    state: ComplaintState, fact: LifecycleFact, policy: EscalationPolicy, c: Classification
) -> tuple[tuple[SlaClock, ...], bool]:
    action, at = fact.action, fact.occurred_at
    clocks = []
    touched = False
    for k in state.clocks:
        spec = k.spec
        new = k
        if action in spec.stop:
            new = stop_clock(k, _clock_calendar(policy, k), at=at)
        elif acknowledges(fact, k):
            new = replace(k, acknowledged_at=at)
        elif action in spec.restart and (
            k.stopped_at is not None or action is LifecycleAction.REOPENED
        ):
            new = start_clock(spec, _clock_calendar(policy, k), at=at, cycle=k.cycle + 1)
        elif action in spec.pause:
            new = pause_clock(k, _clock_calendar(policy, k), at=at)
        elif action in spec.resume:
            new = resume_clock(k, _clock_calendar(policy, k), at=at)
        touched = touched or new is not k
        clocks.append(new)
    if policy.starts_on_events and state.duplicate_of is None:
        names = {k.name for k in state.clocks}
        for spec in _specs(policy, c):
            if spec.start == action.value and spec.name not in names:
                clocks.append(start_clock(spec, _calendar(policy, spec, c.department), at=at))
                touched = True
    return tuple(clocks), touched


def acknowledges(fact: LifecycleFact, clock: SlaClock) -> bool:
    """An acknowledgement naming this clock (from its alert's link) silences its chain."""
    return (
        fact.action is LifecycleAction.ACKNOWLEDGED
        and fact.clock == clock.name
        and clock.stopped_at is None
        and clock.acknowledged_at is None
    )


def _reclassified(
    state: ComplaintState, new: Classification, *, at: datetime, policy: EscalationPolicy
) -> Transition:
    old = state.classification
    assert old is not None
    if old.scope is Scope.COMMON and new.scope is Scope.INDIVIDUAL and new.cluster_id is None:
        # Its decision from before the cluster opened, read again: it stays a member.
        new = replace(
            new, scope=old.scope, cluster_id=old.cluster_id, cluster_size=old.cluster_size
        )
    if (old.severity, old.scope, old.category) == (new.severity, new.scope, new.category):
        same = old.accepted_at == new.accepted_at
        return Transition(
            state, Outcome.DUPLICATE if same else Outcome.RECLASSIFICATION_IGNORED, changed=False
        )
    if old.accepted_at != new.accepted_at:
        return Transition(state, Outcome.RECLASSIFICATION_IGNORED, changed=False)
    # The department may have been transferred since: keep the current one.
    moved = replace(
        old,
        severity=new.severity,
        scope=new.scope,
        category=new.category,
        cluster_id=new.cluster_id or old.cluster_id,
        cluster_size=new.cluster_size,
    )
    after = _recomputed(state, moved, at=max(at, old.accepted_at), policy=policy)
    after = replace(after, reclassifications=state.reclassifications + 1)
    return Transition(_bumped(state, after), Outcome.RECLASSIFIED, changed=True)


def _recomputed(
    state: ComplaintState, classification: Classification, *, at: datetime, policy: EscalationPolicy
) -> ComplaintState:
    """Clocks under the policy for a new classification; a clock it lacks keeps running."""
    specs = {s.name: s for s in _specs(policy, classification)}
    clocks = []
    for k in state.clocks:
        spec = specs.get(k.name, k.spec)
        cal = _calendar(policy, spec, classification.department)
        clocks.append(recompute(k, spec, cal, old_calendar=_clock_calendar(policy, k), now=at))
    names = {k.name for k in state.clocks}
    for name, spec in specs.items():
        if (
            name not in names
            and spec.start == CLASSIFIED_EVENT
            and state.status is not Status.CLOSED
            and state.duplicate_of is None  # a joined duplicate runs no clocks of its own
        ):
            clocks.append(
                start_clock(spec, _calendar(policy, spec, classification.department), at=at)
            )
    return replace(
        state, classification=classification, clocks=tuple(clocks), policy_version=policy.version
    )


def _specs(policy: EscalationPolicy, c: Classification) -> tuple[ClockSpec, ...]:
    """The policy's clocks for this complaint, with chain roles resolved to named owners."""
    return policy.specs_for(
        Subject(
            severity=c.severity,
            scope=c.scope,
            category=c.category,
            department=c.department,
            tier=c.tier,
        )
    )


def _calendar(policy: EscalationPolicy, spec: ClockSpec, department: str) -> WorkingCalendar:
    return policy.calendar(spec, department=department)


def _clock_calendar(policy: EscalationPolicy, clock: SlaClock) -> WorkingCalendar:
    """The calendar a clock was started on, as it was then (states from before: by name)."""
    if clock.spec.target.elapsed or clock.calendar == CALENDAR_24X7.name:
        return CALENDAR_24X7
    if clock.calendar_spec is not None:
        return policy.calendars.build(clock.calendar_spec)
    return policy.calendars.get(clock.calendar)


def _bumped(before: ComplaintState, after: ComplaintState) -> ComplaintState:
    """A new version (the timer token) whenever anything changed."""
    return after if after == before else replace(after, version=before.version + 1)


def size_passed(thresholds: tuple[int, ...], size: int | None) -> int:
    """The highest update threshold a cluster of `size` has reached (0: none): each one gives
    the cluster's alert a new id, so owners get an update instead of a dropped duplicate."""
    return max((n for n in thresholds if size is not None and size >= n), default=0)


def _escalated(
    state: ComplaintState, clock: SlaClock, step: Step, now: datetime
) -> ComplaintEscalated:
    c = state.classification
    assert c is not None  # an open complaint is classified
    per_cluster = clock.spec.per_cluster and c.cluster_id is not None
    passed = size_passed(clock.spec.update_at, c.cluster_size) if per_cluster else 0
    return ComplaintEscalated(
        escalation_id=escalation_id(
            complaint_id=c.cluster_id if per_cluster and c.cluster_id else state.complaint_id,
            clock=step.clock_id if not passed else f"{step.clock_id}@{passed}",
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
        title=mask(c.title),  # states stored before titles were masked at classification
        targets=step.targets,
        cluster_size=c.cluster_size if per_cluster else None,
        customer_contact=c.customer_contact,
        provisional_years=clock.provisional_years,
        # A cluster's alert speaks for the cluster: its channels; else this complaint's own
        # and those of the duplicates that joined it.
        channels=tuple(
            Channel(ch)
            for ch in (c.cluster_channels if per_cluster and c.cluster_channels else state.channels)
            if ch in _CHANNELS
        ),
        linked_complaints=tuple(cid for cid, _ in state.linked),
    )


_CHANNELS = frozenset(ch.value for ch in Channel)


def link_event(state: ComplaintState) -> ComplaintLifecycleEvent | None:
    """For a duplicate that joined its original: the `linked` step telling the original (keyed
    by it; a deterministic id, so sending it again is harmless)."""
    c = state.classification
    if state.duplicate_of is None or c is None:
        return None
    return ComplaintLifecycleEvent(
        event_id=f"linked:{state.complaint_id}",
        complaint_id=state.duplicate_of,
        action=LifecycleAction.LINKED,
        occurred_at=c.accepted_at,
        actor="escalation",
        note=f"{state.complaint_id} ({c.channel or 'unknown channel'}) joined as a duplicate",
        linked_complaint_id=state.complaint_id,
        linked_channel=Channel(c.channel) if c.channel in _CHANNELS else None,
    )
