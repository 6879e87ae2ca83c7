"""An acknowledgement from an alert's link silences the chain of the clock that alert is about."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.domain.transitions import (
    next_due,
    on_classified,
    on_due,
    on_lifecycle,
    record_fired,
)
from complaints_schemas.events import LifecycleAction, Scope

from .factories import classified, lifecycle
from .test_engine import SEEDS

MIN, H, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
A = LifecycleAction


def run(state: ComplaintState, until: datetime) -> tuple[ComplaintState, list[tuple[str, int]]]:
    """Fire every step due up to `until`, in time order, as the timer would."""
    got: list[tuple[str, int]] = []
    while (at := next_due(state)) is not None and at <= until:
        escalations = on_due(state, token=state.version, now=at)
        got += [(e.event.clock, e.event.level) for e in escalations]
        state = record_fired(state, tuple(e.step for e in escalations), at=at)
    return state, got


# (complaint, the alert's clock, when its level 1 is out, clocks the ack also stops)
CASES = [
    ("response", {}, 10 * MIN, {"response"}),
    ("resolution", {}, 6 * H, {"response"}),
    ("closure", {}, 8 * DAY, {"response"}),
    ("refund", {"category": "refund"}, 12 * DAY, {"response"}),
    ("risk", {"scope": Scope.RISK}, timedelta(0), {"risk", "response"}),
    (
        "cluster",
        {"scope": Scope.COMMON, "cluster_id": "cl-1", "cluster_size": 5},
        MIN,
        {"response"},
    ),
]


@pytest.mark.parametrize(
    ("clock", "kwargs", "breached", "stopped"), CASES, ids=[c[0] for c in CASES]
)
def test_an_ack_naming_a_clock_silences_that_clocks_chain_and_only_it(
    clock: str, kwargs: dict[str, object], breached: timedelta, stopped: set[str]
) -> None:
    state = on_classified(None, classified("K-1", **kwargs), policy=SEEDS).state  # type: ignore[arg-type]
    t0 = state.clocks[0].started_at
    state, before = run(state, t0 + breached)
    assert (clock, 1) in before
    ack = lifecycle("K-1", A.ACKNOWLEDGED, at=t0 + breached + MIN, clock=clock)
    state = on_lifecycle(state, ack, policy=SEEDS).state
    # Nothing more of the acknowledged clock, ever; every other open clock still alerts.
    _, after = run(state, t0 + 60 * DAY)
    assert clock not in {name for name, _ in after}
    others = [k for k in state.clocks if k.name != clock and k.name not in stopped]
    assert all(k.alerting for k in others)
    # The acknowledged clock keeps counting toward its SLA unless its policy stops it on ack.
    acked = state.clock(clock)
    assert acked is not None
    if clock in stopped:
        assert acked.stopped_at == t0 + breached + MIN
    else:
        assert acked.stopped_at is None
        assert acked.acknowledged_at == t0 + breached + MIN
    assert {k.name for k in state.clocks if k.stopped_at is not None} == stopped
    assert ComplaintState.from_json(state.to_json()) == state


def test_after_an_ack_on_a_resolution_breach_level_2_no_longer_fires() -> None:
    state = on_classified(None, classified("K-2"), policy=SEEDS).state
    t0 = state.clocks[0].started_at
    state, _ = run(state, t0 + 6 * H)
    ack = lifecycle("K-2", A.ACKNOWLEDGED, at=t0 + 6 * H + MIN, clock="resolution")
    state = on_lifecycle(state, ack, policy=SEEDS).state
    _, later = run(state, t0 + 20 * H)
    assert ("resolution", 2) not in later
    assert ("resolution", 3) not in later
    # The T+3 closure clock still alerts; resolving still stops resolution for the SLA.
    assert next_due(state) is not None
    resolved = on_lifecycle(state, lifecycle("K-2", A.RESOLVED, at=t0 + 7 * H), policy=SEEDS)
    (resolution,) = [k for k in resolved.state.clocks if k.name == "resolution"]
    assert resolution.stopped_at == t0 + 7 * H


def test_an_ack_without_a_clock_stops_only_the_clocks_the_policy_stops_on_ack() -> None:
    state = on_classified(None, classified("K-3"), policy=SEEDS).state
    t0 = state.clocks[0].started_at
    state, _ = run(state, t0 + 6 * H)
    state = on_lifecycle(
        state, lifecycle("K-3", A.ACKNOWLEDGED, at=t0 + 6 * H + MIN), policy=SEEDS
    ).state
    _, later = run(state, t0 + 9 * H)
    assert ("resolution", 2) in later  # today's behaviour for links minted before clocks


def test_a_reopened_cycle_alerts_again_after_an_ack_of_the_previous_one() -> None:
    state = on_classified(None, classified("K-4"), policy=SEEDS).state
    t0 = state.clocks[0].started_at
    state, _ = run(state, t0 + 6 * H)
    for action, at, clock in (
        (A.ACKNOWLEDGED, t0 + 6 * H + MIN, "resolution"),
        (A.RESOLVED, t0 + 7 * H, None),
        (A.REOPENED, t0 + 8 * H, None),
    ):
        state = on_lifecycle(
            state, lifecycle("K-4", action, at=at, clock=clock), policy=SEEDS
        ).state
    _, later = run(state, t0 + 14 * H + MIN)
    assert ("resolution", 1) in later  # the new cycle's breach
