"""The top level repeats every `repeat_every` until someone acts, or up to `max_repeats`."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from complaints_escalation.domain.clock_view import clocks_updated
from complaints_escalation.domain.policy import Chain, Level
from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.domain.transitions import (
    next_due,
    on_classified,
    on_due,
    on_lifecycle,
    record_fired,
)
from complaints_escalation.outbound.policy_file import load_policy
from complaints_schemas.events import LifecycleAction, Scope

from .factories import classified, lifecycle
from .test_engine import SEEDS

MIN, H = timedelta(minutes=1), timedelta(hours=1)


class FakeClock:
    """The timer's loop on a virtual clock: wake at each next due instant, fire, record."""

    def __init__(self, state: ComplaintState) -> None:
        self.state = state
        self.now = state.clocks[0].started_at
        self.fired: list[tuple[str, int, int, datetime]] = []

    def advance_to(self, until: datetime) -> None:
        while (at := next_due(self.state)) is not None and at <= until:
            self.now = at
            escalations = on_due(self.state, token=self.state.version, now=at)
            assert escalations, "a due instant without a step would spin the timer"
            self.fired += [(e.event.clock, e.event.level, e.step.repeat, at) for e in escalations]
            self.state = record_fired(self.state, tuple(e.step for e in escalations), at=at)
        self.now = until


def policy_with(tmp_path: Path, max_repeats: str | None) -> object:
    cap = "" if max_repeats is None else f"\n          max_repeats: {max_repeats}"
    path = tmp_path / "policy.yaml"
    path.write_text(
        "version: t\npolicies:\n  - name: risk\n    match: {scope: [risk]}\n    clocks:\n"
        "      - name: risk\n        target: 0 minutes\n        stop: [acknowledged, closed]\n"
        "        chain:\n          levels:\n            - {after: 0 minutes, targets: [pr]}\n"
        "            - {after: 10 minutes, targets: [executive]}\n"
        f"          repeat_every: 30 minutes{cap}\n"
    )
    return load_policy(path, holiday_data=None)


@pytest.mark.parametrize(
    ("max_repeats", "hours", "repeats"),
    [
        (None, 3, 5),  # absent: until someone acts (10 min + 30 min x 5 <= 3 h)
        ("none", 3, 5),
        ("none", 24, 47),
        ("null", 72, 143),
        ("4", 24, 4),  # a cap still caps
        ("0", 24, 0),
    ],
)
def test_repeats_on_a_fake_clock_across_hours(
    tmp_path: Path, max_repeats: str | None, hours: int, repeats: int
) -> None:
    policy = policy_with(tmp_path, max_repeats)
    state = on_classified(None, classified("R-1", scope=Scope.RISK), policy=policy).state  # type: ignore[arg-type]
    clock = FakeClock(state)
    t0 = clock.now
    clock.advance_to(t0 + hours * H)
    top = [(r, at) for name, level, r, at in clock.fired if level == 2 and r > 0]
    assert [r for r, _ in top] == list(range(1, repeats + 1))
    assert [at for _, at in top] == [t0 + 10 * MIN + r * 30 * MIN for r in range(1, repeats + 1)]
    uncapped = max_repeats in (None, "none", "null")
    assert (next_due(clock.state) is not None) is uncapped


def test_an_acknowledgement_ends_an_uncapped_repeat(tmp_path: Path) -> None:
    policy = policy_with(tmp_path, "none")
    state = on_classified(None, classified("R-2", scope=Scope.RISK), policy=policy).state  # type: ignore[arg-type]
    clock = FakeClock(state)
    t0 = clock.now
    clock.advance_to(t0 + 5 * H)
    ack = lifecycle("R-2", LifecycleAction.ACKNOWLEDGED, at=t0 + 5 * H + MIN, clock="risk")
    clock.state = on_lifecycle(clock.state, ack, policy=policy).state  # type: ignore[arg-type]
    before = len(clock.fired)
    clock.advance_to(t0 + 48 * H)
    assert len(clock.fired) == before
    assert next_due(clock.state) is None


def test_a_worker_back_after_a_day_down_sends_one_reminder_not_all_it_missed(
    tmp_path: Path,
) -> None:
    policy = policy_with(tmp_path, "none")
    state = on_classified(None, classified("R-5", scope=Scope.RISK), policy=policy).state  # type: ignore[arg-type]
    clock = FakeClock(state)
    t0 = clock.now
    clock.advance_to(t0 + 15 * MIN)  # levels 1 and 2 on time
    back = t0 + 25 * H  # down from then on; repeats 1..49 were due meanwhile
    due = on_due(clock.state, token=clock.state.version, now=back)
    assert [(e.step.level, e.step.repeat) for e in due] == [(2, 49)]
    clock.state = record_fired(clock.state, tuple(e.step for e in due), at=back)
    # Then on schedule again: the 50th at its own instant, not at once.
    assert next_due(clock.state) == t0 + 10 * MIN + 50 * 30 * MIN


def test_a_capped_repeat_caught_up_is_its_last_one(tmp_path: Path) -> None:
    policy = policy_with(tmp_path, "4")
    state = on_classified(None, classified("R-6", scope=Scope.RISK), policy=policy).state  # type: ignore[arg-type]
    t0 = state.clocks[0].started_at
    due = on_due(state, token=state.version, now=t0 + 24 * H)
    # Both levels (each reaches other people), then only the last of the four reminders.
    assert [(e.step.level, e.step.repeat) for e in due] == [(1, 0), (2, 0), (2, 4)]
    after = record_fired(state, tuple(e.step for e in due), at=t0 + 24 * H)
    assert next_due(after) is None


def test_the_seeds_risk_chain_repeats_to_the_executive_until_acknowledged() -> None:
    state = on_classified(None, classified("R-3", scope=Scope.RISK), policy=SEEDS).state
    risk = state.clock("risk")
    assert risk is not None
    assert risk.spec.chain.max_repeats is None
    clock = FakeClock(state)
    clock.advance_to(clock.now + 12 * H)
    assert sum(1 for name, _, r, _ in clock.fired if name == "risk" and r > 0) == 23


def test_a_week_of_repeats_stays_fast_and_lists_no_fired_step() -> None:
    chain = Chain(levels=(Level(level=1, after=timedelta(0)),), repeat_every=MIN, max_repeats=None)
    state = on_classified(None, classified("R-4", scope=Scope.RISK), policy=SEEDS).state
    risk = state.clock("risk")
    assert risk is not None
    risk = replace(risk, spec=replace(risk.spec, chain=chain))
    t0 = risk.deadline
    fired = tuple(f"risk:breach:1:{r}" for r in range(0, 10_000))  # a week of minutes
    started = time.perf_counter()
    assert risk.next_pending(fired) == t0 + 10_000 * MIN
    assert [s.repeat for s in risk.steps(until=t0 + 10_001 * MIN, fired=frozenset(fired))][-2:] == [
        10_000,
        10_001,
    ]
    assert time.perf_counter() - started < 0.5
    with pytest.raises(ValueError, match="uncapped"):
        list(risk.steps())


def test_max_repeats_must_be_a_number_or_none(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_repeats"):
        policy_with(tmp_path, "yes")


def test_the_clock_view_of_an_uncapped_repeat_names_its_next_step() -> None:
    """The console's clock view asks for the next step of a chain that never ends."""
    state = on_classified(None, classified("U-1", scope=Scope.RISK), policy=SEEDS).state
    risk = state.clock("risk")
    assert risk is not None
    assert risk.spec.chain.max_repeats is None
    view = clocks_updated(state, now=risk.started_at, calendars=SEEDS.calendars)
    [shown] = [c for c in view.clocks if c.name == "risk"]
    assert shown.next_step_at is not None
