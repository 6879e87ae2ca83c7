"""Table-driven tests of the escalation domain: no network, no event loop, time passed in."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.domain.state import ComplaintState, Status
from complaints_escalation.domain.transitions import (
    Outcome,
    escalation_id,
    next_due,
    on_classified,
    on_due,
    on_lifecycle,
    record_fired,
)
from complaints_schemas.events import Customer, EscalationKind, LifecycleAction, Severity

from .factories import T0, classified, lifecycle

POLICY = (
    EscalationPolicy.response_only()
)  # red 10 min, yellow 30 min, green 2 h, level every 10 min, max 3
MIN = timedelta(minutes=1)


def fire_all(state: ComplaintState, now: datetime) -> tuple[ComplaintState, list[int]]:
    """Fire what is due at `now` and record it, as the due agent does; return fired levels."""
    escalations = on_due(state, token=state.version, now=now)
    return record_fired(state, tuple(e.step for e in escalations)), [
        e.event.level for e in escalations
    ]


@pytest.mark.parametrize(
    ("severity", "sla"),
    [
        (Severity.RED, timedelta(minutes=10)),
        (Severity.YELLOW, timedelta(minutes=30)),
        (Severity.GREEN, timedelta(hours=2)),
    ],
)
def test_response_deadline_per_severity(severity: Severity, sla: timedelta) -> None:
    result = on_classified(None, classified("C-1", severity=severity), policy=POLICY)
    assert result.outcome is Outcome.CLASSIFIED
    assert result.state.status is Status.OPEN
    assert next_due(result.state) == T0 + sla
    assert on_due(result.state, token=result.state.version, now=T0 + sla - MIN / 60) == ()
    (breach,) = on_due(result.state, token=result.state.version, now=T0 + sla)
    assert (breach.event.kind, breach.event.clock, breach.event.level) == (
        EscalationKind.BREACH,
        "response",
        1,
    )
    assert breach.event.deadline == T0 + sla


@pytest.mark.parametrize(
    ("actions", "expected_due", "expected_status"),
    [
        ([], T0 + 10 * MIN, Status.OPEN),
        ([(LifecycleAction.ACKNOWLEDGED, 5)], None, Status.OPEN),
        ([(LifecycleAction.RESPONDED, 9)], None, Status.OPEN),
        ([(LifecycleAction.RESOLVED, 3)], None, Status.RESOLVED),
        ([(LifecycleAction.CLOSED, 3)], None, Status.CLOSED),
        ([(LifecycleAction.PAUSED, 2)], T0 + 10 * MIN, Status.OPEN),  # stored, not applied yet
        # Reopening restarts resolution (later), not the response clock that closing stopped.
        ([(LifecycleAction.CLOSED, 2), (LifecycleAction.REOPENED, 4)], None, Status.OPEN),
        (
            [(LifecycleAction.ACKNOWLEDGED, 2), (LifecycleAction.RESOLVED, 3)],
            None,
            Status.RESOLVED,
        ),
    ],
)
def test_lifecycle_after_classification(
    actions: list[tuple[LifecycleAction, int]],
    expected_due: datetime | None,
    expected_status: Status,
) -> None:
    state = on_classified(None, classified("C-2"), policy=POLICY).state
    for action, minute in actions:
        state = on_lifecycle(state, lifecycle("C-2", action, at=T0 + minute * MIN)).state
    assert next_due(state) == expected_due
    assert state.status is expected_status
    if expected_due is None:
        assert on_due(state, token=state.version, now=T0 + timedelta(hours=5)) == ()


@pytest.mark.parametrize(
    ("action", "expected_due", "expected_status"),
    [
        (LifecycleAction.ACKNOWLEDGED, None, Status.OPEN),
        (LifecycleAction.RESOLVED, None, Status.RESOLVED),
        (LifecycleAction.PAUSED, T0 + 10 * MIN, Status.OPEN),
    ],
)
def test_lifecycle_before_classification_applies_on_arrival(
    action: LifecycleAction, expected_due: datetime | None, expected_status: Status
) -> None:
    early = on_lifecycle(None, lifecycle("C-3", action, at=T0 + MIN))
    assert early.outcome is Outcome.STORED_EARLY
    assert early.state.status is Status.AWAITING_CLASSIFICATION
    assert len(early.state.early_events) == 1
    assert next_due(early.state) == T0 + 16 * MIN  # refused as unknown after the grace window
    state = on_classified(early.state, classified("C-3"), policy=POLICY).state
    assert state.early_events == ()
    assert next_due(state) == expected_due
    assert state.status is expected_status


def test_early_events_apply_in_the_order_they_happened() -> None:
    state = on_lifecycle(None, lifecycle("C-4", LifecycleAction.REOPENED, at=T0 + 3 * MIN)).state
    state = on_lifecycle(state, lifecycle("C-4", LifecycleAction.CLOSED, at=T0 + 2 * MIN)).state
    state = on_classified(state, classified("C-4"), policy=POLICY).state
    assert state.status is Status.OPEN  # closed at minute 2, reopened at minute 3


@pytest.mark.parametrize(
    ("second", "outcome"),
    [
        (classified("C-5"), Outcome.DUPLICATE),
        (
            classified("C-5", accepted_at=T0 + 5 * MIN, severity=Severity.GREEN),
            Outcome.RECLASSIFICATION_IGNORED,
        ),
        (classified("C-5", accepted_at=T0 + 5 * MIN), Outcome.RECLASSIFICATION_IGNORED),
    ],
)
def test_second_classification_resets_nothing(second: object, outcome: Outcome) -> None:
    first = on_classified(None, classified("C-5"), policy=POLICY).state
    fired, levels = fire_all(first, T0 + 10 * MIN)
    assert levels == [1]
    again = on_classified(fired, second, policy=POLICY)  # type: ignore[arg-type]
    assert again.outcome is outcome
    assert not again.changed
    assert again.state == fired


def test_duplicate_lifecycle_event_ignored() -> None:
    state = on_classified(None, classified("C-6"), policy=POLICY).state
    closed = on_lifecycle(state, lifecycle("C-6", LifecycleAction.CLOSED, at=T0, event_id="e1"))
    reopened = on_lifecycle(
        closed.state, lifecycle("C-6", LifecycleAction.REOPENED, at=T0 + MIN, event_id="e2")
    )
    again = on_lifecycle(
        reopened.state, lifecycle("C-6", LifecycleAction.CLOSED, at=T0, event_id="e1")
    )
    assert again.outcome is Outcome.DUPLICATE
    assert not again.changed
    assert again.state.status is Status.OPEN


def test_duplicate_lifecycle_event_before_classification_kept_once() -> None:
    event = lifecycle("C-7", LifecycleAction.ACKNOWLEDGED, at=T0, event_id="e1")
    state = on_lifecycle(on_lifecycle(None, event).state, event).state
    assert len(state.early_events) == 1


@pytest.mark.parametrize(
    ("policy", "fire_at_minutes", "expected_levels"),
    [
        (POLICY, [10], [[1]]),
        (POLICY, [10, 19], [[1], []]),
        (POLICY, [10, 20], [[1], [2]]),
        (POLICY, [10, 20, 30, 40, 90], [[1], [2], [3], [], []]),  # max level 3
        (POLICY, [35], [[1, 2, 3]]),  # overdue after a long outage: every missed step, in order
        (EscalationPolicy.response_only(max_level=1), [10, 20], [[1], []]),
        (
            EscalationPolicy.response_only(level_interval=timedelta(minutes=5), max_level=2),
            [15],
            [[1, 2]],
        ),
    ],
)
def test_breach_then_levels_up_to_max(
    policy: EscalationPolicy, fire_at_minutes: list[int], expected_levels: list[list[int]]
) -> None:
    state = on_classified(None, classified("C-8"), policy=policy).state
    got = []
    for minute in fire_at_minutes:
        state, levels = fire_all(state, T0 + minute * MIN)
        got.append(levels)
    assert got == expected_levels


def test_ack_after_breach_stops_further_levels() -> None:
    state = on_classified(None, classified("C-9"), policy=POLICY).state
    state, levels = fire_all(state, T0 + 10 * MIN)
    assert levels == [1]
    state = on_lifecycle(
        state, lifecycle("C-9", LifecycleAction.ACKNOWLEDGED, at=T0 + 12 * MIN)
    ).state
    assert next_due(state) is None
    assert fire_all(state, T0 + 60 * MIN)[1] == []


@pytest.mark.parametrize(
    ("token_offset", "expected"),
    [(0, 1), (-1, 0), (1, 0)],
)
def test_stale_token_fires_nothing(token_offset: int, expected: int) -> None:
    state = on_classified(None, classified("C-10"), policy=POLICY).state
    assert len(on_due(state, token=state.version + token_offset, now=T0 + 10 * MIN)) == expected


def test_fired_step_is_not_fired_again_and_recording_is_idempotent() -> None:
    state = on_classified(None, classified("C-11"), policy=POLICY).state
    escalations = on_due(state, token=state.version, now=T0 + 10 * MIN)
    once = record_fired(state, tuple(e.step for e in escalations))
    twice = record_fired(once, tuple(e.step for e in escalations))
    assert twice == once
    assert on_due(once, token=once.version, now=T0 + 10 * MIN) == ()
    assert next_due(once) == T0 + 20 * MIN


def test_escalation_ids_are_deterministic_and_distinct() -> None:
    a = on_due(
        on_classified(None, classified("C-12"), policy=POLICY).state, token=1, now=T0 + 35 * MIN
    )
    b = on_due(
        on_classified(None, classified("C-12"), policy=POLICY).state, token=1, now=T0 + 36 * MIN
    )
    assert [e.event.escalation_id for e in a] == [e.event.escalation_id for e in b]
    assert len({e.event.escalation_id for e in a}) == 3
    assert a[0].event.escalation_id == escalation_id(
        complaint_id="C-12", clock="response", kind="breach", level=1, repeat=0
    )
    assert a[0].event.escalation_id.startswith("ESC-")
    other = escalation_id(complaint_id="C-13", clock="response", kind="breach", level=1, repeat=0)
    assert other != a[0].event.escalation_id


def test_transfer_changes_department_of_later_escalations() -> None:
    state = on_classified(None, classified("C-14"), policy=POLICY).state
    state = on_lifecycle(
        state,
        lifecycle("C-14", LifecycleAction.TRANSFERRED, at=T0 + MIN, to_department="logistics"),
    ).state
    (breach,) = on_due(state, token=state.version, now=T0 + 10 * MIN)
    assert breach.event.department == "logistics"


@pytest.mark.parametrize(
    "steps",
    [
        [],
        [("lifecycle", LifecycleAction.PAUSED)],
        [("classified", None), ("lifecycle", LifecycleAction.ACKNOWLEDGED)],
        [("lifecycle", LifecycleAction.ACKNOWLEDGED), ("classified", None), ("fire", None)],
        [("classified", None), ("fire", None), ("lifecycle", LifecycleAction.CLOSED)],
    ],
)
def test_state_round_trips_through_json(steps: list[tuple[str, LifecycleAction | None]]) -> None:
    state = ComplaintState(complaint_id="C-15")
    for i, (kind, action) in enumerate(steps):
        if kind == "classified":
            state = on_classified(state, classified("C-15"), policy=POLICY).state
        elif kind == "fire":
            state = fire_all(state, T0 + 10 * MIN)[0]
        else:
            assert action is not None
            state = on_lifecycle(state, lifecycle("C-15", action, at=T0 + i * MIN)).state
    assert ComplaintState.from_json(state.to_json()) == state


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_level": 0},
        {"level_interval": timedelta(0)},
        {"response_sla": {Severity.RED: timedelta(minutes=10)}},
    ],
)
def test_invalid_policy_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        EscalationPolicy.response_only(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        (Customer(id="c", phone="13812341234", email="li@example.com"), "138****1234"),
        (Customer(id="c", email="li.na@example.com"), "l***@example.com"),
        (Customer(id="c"), None),
    ],
)
def test_escalation_carries_the_customer_contact_masked(
    customer: Customer, expected: str | None
) -> None:
    result = on_classified(None, classified("C-9", customer=customer), policy=POLICY)
    (breach,) = on_due(result.state, token=result.state.version, now=T0 + 10 * MIN)
    assert breach.event.customer_contact == expected
    restored = ComplaintState.from_json(result.state.to_json())
    assert restored.classification == result.state.classification
