"""One risk thread: the response clock stays silent while the risk chain alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from complaints_escalation.domain.policy import ClockSpec, EscalationPolicy, Target
from complaints_escalation.domain.state import SlaClock, inhibited
from complaints_escalation.domain.transitions import (
    Outcome,
    on_classified,
    on_due,
    on_lifecycle,
    size_passed,
)
from complaints_schemas.events import ComplaintLifecycleEvent, LifecycleAction, Scope

from .factories import T0, classified, lifecycle
from .test_acknowledgements import run
from .test_engine import SEEDS

MIN, H, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def clock(
    name: str,
    *,
    inhibited_by: frozenset[str] = frozenset(),
    inhibits: frozenset[str] = frozenset(),
    **kwargs: object,
) -> SlaClock:
    spec = ClockSpec(
        name=name, target=Target.of(10 * MIN), inhibited_by=inhibited_by, inhibits=inhibits
    )
    base = SlaClock(
        name=name,
        spec=spec,
        calendar="24x7",
        started_at=T0,
        budget=10 * MIN,
        deadline=T0 + 10 * MIN,
        run_since=T0,
    )
    return replace(base, **kwargs)  # type: ignore[arg-type]


RISK = frozenset({"risk"})


@pytest.mark.parametrize(
    ("response", "others", "silent"),
    [
        (clock("response", inhibited_by=RISK), [clock("risk")], True),
        (clock("response", inhibited_by=RISK), [clock("risk", stopped_at=T0)], False),
        (clock("response", inhibited_by=RISK), [clock("risk", acknowledged_at=T0)], False),
        (clock("response", inhibited_by=RISK), [clock("risk", run_since=None)], False),  # paused
        (clock("response", inhibited_by=RISK), [clock("resolution")], False),
        (clock("response", inhibited_by=RISK), [], False),
        (clock("response"), [clock("risk")], False),  # not configured: no inhibition
        (clock("risk", inhibited_by=RISK), [], False),  # never by itself
        # From the source's side: a cluster's alert silences its members' own clocks.
        (clock("response"), [clock("cluster", inhibits=frozenset({"response"}))], True),
        (clock("closure"), [clock("cluster", inhibits=frozenset({"response"}))], False),
        (
            clock("response"),
            [clock("cluster", inhibits=frozenset({"response"}), acknowledged_at=T0)],
            False,
        ),
    ],
)
def test_inhibition_rule(response: SlaClock, others: list[SlaClock], silent: bool) -> None:
    assert inhibited(response, (response, *others)) is silent


def test_a_risk_complaint_is_one_risk_thread_until_acknowledged() -> None:
    state = on_classified(None, classified("I-1", scope=Scope.RISK), policy=SEEDS).state
    t0 = state.clocks[0].started_at
    state, fired = run(state, t0 + 2 * H)
    assert {name for name, _ in fired} == {"risk"}  # no response level 1 beside risk level 1
    assert fired[:2] == [("risk", 1), ("risk", 2)]
    ack = lifecycle("I-1", LifecycleAction.ACKNOWLEDGED, at=t0 + 2 * H + MIN, clock="risk")
    state = on_lifecycle(state, ack, policy=SEEDS).state
    _, later = run(state, t0 + 10 * H)
    assert {name for name, _ in later} <= {"resolution"}  # acknowledged: risk and response end


def test_an_inhibited_clock_alerts_once_the_inhibiting_one_stops_without_it() -> None:
    state = on_classified(None, classified("I-2", scope=Scope.RISK), policy=SEEDS).state
    t0 = state.clocks[0].started_at
    state, _ = run(state, t0 + 30 * MIN)
    # An operator stops only the risk clock (a reclassification away from risk would too).
    risk = state.clock("risk")
    assert risk is not None
    state = replace(
        state,
        clocks=tuple(
            replace(k, stopped_at=t0 + 30 * MIN) if k is risk else k for k in state.clocks
        ),
    )
    _, fired = run(state, t0 + 31 * MIN)
    assert fired == [("response", 1), ("response", 2)]  # overdue, in order, now visible


def test_a_cluster_members_own_alerts_wait_while_the_cluster_alert_is_open() -> None:
    policy = with_cluster(SEEDS, inhibits=frozenset({"response", "resolution"}))
    event = classified("I-3", scope=Scope.COMMON, cluster_id="cl-9", cluster_size=6)
    state = on_classified(None, event, policy=policy).state
    t0 = state.clocks[0].started_at
    state, fired = run(state, t0 + 7 * H)
    assert fired == [("cluster", 1)]  # no response or resolution alert of its own
    ack = lifecycle("I-3", LifecycleAction.ACKNOWLEDGED, at=t0 + 7 * H, clock="cluster")
    state = on_lifecycle(state, ack, policy=policy).state
    _, later = run(state, t0 + 7 * H + MIN)
    # Acknowledging the cluster stops response too (its stop lists acknowledged); the member's
    # overdue resolution levels are visible again.
    assert {name for name, _ in later} == {"resolution"}


@pytest.mark.parametrize(
    ("size", "passed"), [(None, 0), (5, 0), (9, 0), (10, 10), (23, 20), (50, 50), (400, 100)]
)
def test_size_thresholds_table(size: int | None, passed: int) -> None:
    assert size_passed((10, 20, 50, 100), size) == passed


def with_cluster(policy: EscalationPolicy, **changes: object) -> EscalationPolicy:
    """The seeds with `changes` on the cluster clock."""
    rules = tuple(
        replace(
            rule,
            clocks=tuple(
                replace(c, spec=replace(c.spec, **changes)) if c.spec.name == "cluster" else c
                for c in rule.clocks
            ),
        )
        for rule in policy.rules
    )
    return replace(policy, rules=rules)


def test_a_growing_cluster_alerts_again_past_each_threshold_with_the_count() -> None:
    policy = with_cluster(SEEDS, update_at=(10, 20, 50, 100))
    ids: dict[str, int] = {}
    for size in (5, 6, 9, 10, 11, 23, 24):
        event = classified(f"G-{size}", scope=Scope.COMMON, cluster_id="cl-7", cluster_size=size)
        state = on_classified(None, event, policy=policy).state
        t0 = state.clocks[0].started_at
        (step,) = [
            e.event
            for e in on_due(state, token=state.version, now=t0)
            if e.event.clock == "cluster"
        ]
        assert step.cluster_size == size
        ids.setdefault(step.escalation_id, size)
    # One alert at 5 (later ones dedup), an update at 10 and at 23 ("now 23 complaints").
    assert sorted(ids.values()) == [5, 10, 23]


def test_the_seeds_keep_a_cluster_members_own_alerts_behind_the_cluster_alert() -> None:
    event = classified("I-4", scope=Scope.COMMON, cluster_id="cl-9", cluster_size=6)
    state = on_classified(None, event, policy=SEEDS).state
    t0 = state.clocks[0].started_at
    state, fired = run(state, t0 + 10 * DAY)
    assert fired == [("cluster", 1)]  # no response, resolution or closure alert of its own
    ack = lifecycle("I-4", LifecycleAction.ACKNOWLEDGED, at=t0 + 10 * DAY, clock="cluster")
    _, later = run(on_lifecycle(state, ack, policy=SEEDS).state, t0 + 10 * DAY + MIN)
    assert {name for name, _ in later} == {"resolution", "closure"}  # overdue: visible again


def test_the_seeds_send_a_cluster_alert_once_then_an_update_past_each_size() -> None:
    ids: dict[str, int] = {}
    for size in (5, 9, 10, 19, 23):
        event = classified(f"S-{size}", scope=Scope.COMMON, cluster_id="cl-8", cluster_size=size)
        state = on_classified(None, event, policy=SEEDS).state
        t0 = state.clocks[0].started_at
        for e in on_due(state, token=state.version, now=t0):
            if e.event.clock == "cluster":
                ids.setdefault(e.event.escalation_id, size)
    assert sorted(ids.values()) == [5, 10, 23]


def joins(
    complaint_id: str, *, at: datetime, cluster_id: str = "cl-5", size: int = 6
) -> ComplaintLifecycleEvent:
    """The classifier's `clustered` step: a cluster opened after this complaint was classified."""
    return ComplaintLifecycleEvent(
        event_id=f"clustered:{complaint_id}",
        complaint_id=complaint_id,
        action=LifecycleAction.CLUSTERED,
        occurred_at=at,
        actor="classifier",
        cluster_id=cluster_id,
        cluster_size=size,
    )


def test_a_member_classified_before_its_cluster_opened_yields_to_the_cluster_thread() -> None:
    policy = with_cluster(SEEDS, inhibits=frozenset({"response", "resolution"}))
    state = on_classified(None, classified("J-1"), policy=policy).state
    t0 = state.clocks[0].started_at
    state, fired = run(state, t0 + MIN)
    assert fired == []  # within its response target
    result = on_lifecycle(state, joins("J-1", at=t0 + MIN), policy=policy)
    assert result.outcome is Outcome.CLUSTERED
    state = result.state
    c = state.classification
    assert c is not None
    assert (c.scope, c.cluster_id, c.cluster_size) == (Scope.COMMON, "cl-5", 6)
    state, fired = run(state, t0 + 7 * H)
    # Neither the cluster's alert (the opener sent it) nor any of its own.
    assert fired == []
    # Told again (a resend): nothing changes; its own classification read again: still a member.
    assert (
        on_lifecycle(state, joins("J-1", at=t0 + MIN), policy=policy).outcome is Outcome.DUPLICATE
    )
    again = on_classified(state, classified("J-1"), policy=policy)
    assert again.outcome is Outcome.DUPLICATE


@pytest.mark.parametrize(("scope", "cluster_id"), [(Scope.RISK, None), (Scope.COMMON, "cl-other")])
def test_joining_leaves_a_risk_complaint_and_a_member_of_another_cluster_as_they_are(
    scope: Scope, cluster_id: str | None
) -> None:
    event = classified(
        "J-3", scope=scope, cluster_id=cluster_id, cluster_size=5 if cluster_id else None
    )
    state = on_classified(None, event, policy=SEEDS).state
    t0 = state.clocks[0].started_at
    result = on_lifecycle(state, joins("J-3", at=t0 + MIN), policy=SEEDS)
    assert result.outcome is Outcome.NO_EFFECT
    assert result.state.classification == state.classification
    assert [k.name for k in result.state.clocks] == [k.name for k in state.clocks]


def test_a_join_that_overtakes_the_members_classification_applies_after_it() -> None:
    policy = with_cluster(SEEDS, inhibits=frozenset({"response", "resolution"}))
    early = on_lifecycle(None, joins("J-4", at=T0 + MIN), policy=policy)
    assert early.outcome is Outcome.STORED_EARLY
    state = on_classified(early.state, classified("J-4"), policy=policy).state
    c = state.classification
    assert c is not None
    assert (c.scope, c.cluster_id) == (Scope.COMMON, "cl-5")
    _, fired = run(state, state.clocks[0].started_at + 7 * H)
    assert fired == []
