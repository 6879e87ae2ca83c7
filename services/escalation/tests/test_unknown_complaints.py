"""A lifecycle step for a complaint never classified is refused after a grace window."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from complaints_escalation.domain.state import ComplaintState, Status
from complaints_escalation.domain.transitions import (
    next_due,
    on_classified,
    on_lifecycle,
    unknown_expired,
)
from complaints_escalation.outbound.policy_file import PolicyError, load_policy
from complaints_escalation.scheduling.due_message import DueBatch, DueMessage
from complaints_schemas.events import LifecycleAction
from complaints_schemas.topics import CLASSIFIED, LIFECYCLE

from .factories import T0, classified, lifecycle
from .test_engine import SEEDS
from .test_handlers import World

MIN = timedelta(minutes=1)
A = LifecycleAction
GRACE = SEEDS.unknown_complaint_grace


@pytest.mark.parametrize(
    ("steps", "classified_at", "check_at", "expired"),
    [
        ([0], None, 14, False),  # within the grace window
        ([0], None, 15, True),  # 15 minutes after the first step: refused
        ([0, 10], None, 15, True),  # a later step does not extend the window
        ([0], 5, 30, False),  # classified in time: an ordinary complaint
        ([0, 3], 14, 60, False),
    ],
)
def test_grace_window_table(
    steps: list[int], classified_at: int | None, check_at: int, expired: bool
) -> None:
    assert GRACE == 15 * MIN  # the seeds' value
    state: ComplaintState | None = None
    for n, minute in enumerate(steps):
        event = lifecycle("U-1", A.ACKNOWLEDGED, at=T0 + minute * MIN, event_id=f"u-{n}")
        state = on_lifecycle(state, event, policy=SEEDS, now=T0 + minute * MIN).state
    assert state is not None
    assert next_due(state) == T0 + GRACE
    if classified_at is not None:
        event = classified("U-1", accepted_at=T0, classified_at=T0 + classified_at * MIN)
        state = on_classified(state, event, policy=SEEDS).state
        assert state.status is Status.OPEN
        assert state.expires_at is None
    now = T0 + check_at * MIN
    assert unknown_expired(state, token=state.version, now=now) is expired
    assert not unknown_expired(state, token=state.version - 1, now=now)  # a stale timer
    assert ComplaintState.from_json(state.to_json()) == state


def test_the_window_starts_when_the_step_is_processed_not_when_it_happened() -> None:
    old = lifecycle("U-2", A.RESOLVED, at=T0 - 10 * 24 * 60 * MIN)  # a replayed step
    state = on_lifecycle(None, old, policy=SEEDS, now=T0).state
    assert next_due(state) == T0 + GRACE


@pytest.mark.parametrize(
    ("value", "error"),
    [("5 minutes", None), ("0 minutes", "must be positive"), ("soon", "unknown_complaint_grace")],
)
def test_grace_is_configured_in_the_policy(tmp_path: Path, value: str, error: str | None) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        f"version: t\nunknown_complaint_grace: {value}\npolicies:\n  - name: a\n    clocks:\n"
        "      - name: r\n        target: 1 hour\n"
    )
    if error is None:
        assert load_policy(path, holiday_data=None).unknown_complaint_grace == 5 * MIN
    else:
        with pytest.raises(PolicyError, match=error):
            load_policy(path, holiday_data=None)


async def test_unknown_complaint_dead_lettered_on_a_fake_clock_and_no_state_kept() -> None:
    world = World()
    for n, action in enumerate((A.ACKNOWLEDGED, A.RESOLVED)):
        event = lifecycle("GHOST-1", action, at=T0 + n * MIN, event_id=f"g-{n}", clock="response")
        await world.send(LIFECYCLE.name, event)
    assert world.handlers.timer.index.next_due() == T0 + GRACE
    world.clock.set(T0 + GRACE - MIN)
    await world.fire_due()
    assert world.publisher.dead_letters == []
    world.clock.set(T0 + GRACE)
    await world.fire_due()
    rejected = world.publisher.dead_letters
    assert [r.reason for r in rejected] == ["unknown_complaint", "unknown_complaint"]
    assert [json.loads(r.original)["event_id"] for r in rejected] == ["g-0", "g-1"]
    assert rejected[0].source_topic == LIFECYCLE.name
    assert "GHOST-1" in rejected[0].detail
    assert world.store.get("GHOST-1") is None  # no ghost state
    assert world.handlers.timer.index.next_due() is None
    assert world.metric("complaints_escalation_rejected_total", reason="unknown_complaint") == 2
    assert world.publisher.sent == []


async def test_an_unknown_complaint_handed_over_early_is_refused_at_its_instant() -> None:
    world = World()
    await world.send(LIFECYCLE.name, lifecycle("GHOST-3", A.ACKNOWLEDGED, at=T0))
    entries = world.handlers.timer.index.pop_due(T0 + GRACE)
    assert len(entries) == 1
    early = DueBatch(tuple(DueMessage(e.complaint_id, e.token, e.due_at) for e in entries))
    world.clock.set(T0 + GRACE - timedelta(seconds=2))  # the look-ahead hands it over early
    await world.due(early.to_bytes())
    assert world.publisher.dead_letters == []  # not refused before the grace has ended
    assert world.store.get("GHOST-3") is not None
    world.clock.set(T0 + GRACE)
    await world.release()  # held until its instant, then handed back to its agent
    assert [r.reason for r in world.publisher.dead_letters] == ["unknown_complaint"]
    assert world.store.get("GHOST-3") is None


async def test_a_complaint_classified_within_the_window_is_never_refused() -> None:
    world = World()
    await world.send(LIFECYCLE.name, lifecycle("LATE-1", A.ACKNOWLEDGED, at=T0))
    world.clock.set(T0 + 5 * MIN)
    await world.send(CLASSIFIED.name, classified("LATE-1", accepted_at=T0))
    world.clock.set(T0 + 60 * MIN)
    await world.fire_due()
    assert world.publisher.dead_letters == []
    state = world.store.get("LATE-1")
    assert state is not None
    assert state.status is Status.OPEN
    assert world.publisher.sent == []  # the early acknowledgement stopped the response clock


async def test_a_failed_dead_letter_keeps_the_state_and_retries() -> None:
    world = World()
    await world.send(LIFECYCLE.name, lifecycle("GHOST-2", A.ACKNOWLEDGED, at=T0))

    async def down(event: object, *, id: str) -> None:
        raise ConnectionError("broker down")

    world.publisher.rejected = down  # type: ignore[method-assign]
    world.clock.set(T0 + GRACE)
    await world.fire_due()
    assert world.store.get("GHOST-2") is not None
    assert world.handlers.timer.index.next_due() is not None
