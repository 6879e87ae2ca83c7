"""The seeds' policy file through the pure domain: clocks, warnings, chains, lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.domain.state import ComplaintState, Status
from complaints_escalation.domain.transitions import (
    Outcome,
    next_due,
    on_classified,
    on_due,
    on_lifecycle,
    record_fired,
)
from complaints_escalation.outbound.holidays import load_chinese_holidays
from complaints_escalation.outbound.policy_file import load_policy
from complaints_schemas.events import LifecycleAction, Scope, Severity

from .factories import classified, lifecycle

POLICY_FILE = Path(__file__).resolve().parents[3] / "config" / "escalation" / "policy.yaml"
SEEDS = load_policy(POLICY_FILE, holiday_data=load_chinese_holidays())
SH = ZoneInfo("Asia/Shanghai")
FRIDAY_EVENING = datetime(2025, 3, 7, 20, 0, tzinfo=SH).astimezone(UTC)
MIN, H = timedelta(minutes=1), timedelta(hours=1)
A = LifecycleAction


def fire(state: ComplaintState, now: datetime) -> tuple[ComplaintState, list[tuple[str, str, int]]]:
    escalations = on_due(state, token=state.version, now=now)
    fired = [(e.event.clock, e.event.kind.value, e.event.level) for e in escalations]
    return record_fired(state, tuple(e.step for e in escalations), at=now), fired


def deadlines(state: ComplaintState) -> dict[str, datetime]:
    return {k.name: k.deadline for k in state.clocks}


def test_seeds_policy_clocks_for_a_red_payment_complaint_on_a_friday_evening() -> None:
    state = on_classified(None, classified("E-1", accepted_at=FRIDAY_EVENING), policy=SEEDS).state
    assert state.policy_version == "seeds-2025.1"
    assert deadlines(state) == {
        "response": FRIDAY_EVENING + 10 * MIN,
        "resolution": FRIDAY_EVENING + 6 * H,
        "closure": datetime(2025, 3, 13, 0, 0, tzinfo=SH),  # T+3: end of Wednesday
    }
    (resolution,) = [k for k in state.clocks if k.name == "resolution"]
    assert resolution.warn_at == (FRIDAY_EVENING + 6 * H * 0.8,)
    (closure,) = [k for k in state.clocks if k.name == "closure"]
    assert closure.warn_at == (datetime(2025, 3, 12, 12, 0, tzinfo=SH),)  # 12 h ahead


def test_refund_category_gets_five_working_days() -> None:
    event = classified("E-2", accepted_at=FRIDAY_EVENING, category="refund")
    state = on_classified(None, event, policy=SEEDS).state
    assert deadlines(state)["refund"] == datetime(2025, 3, 15, 0, 0, tzinfo=SH)  # end of Fri 14th


def test_warning_breach_and_levels_arrive_in_order_with_targets() -> None:
    state = on_classified(None, classified("E-3"), policy=SEEDS).state
    t0 = state.clocks[0].started_at
    got = []
    for at in (t0 + 10 * MIN, t0 + 20 * MIN, t0 + 30 * MIN, t0 + 4.8 * H, t0 + 6 * H):
        state, fired = fire(state, at)
        got.append(fired)
    assert got == [
        [("response", "breach", 1)],
        [("response", "breach", 2)],
        [("response", "breach", 3)],
        [("resolution", "warning", 0)],
        [("resolution", "breach", 1)],
    ]
    again = on_classified(None, classified("E-3"), policy=SEEDS).state
    events = [e.event for e in on_due(again, token=again.version, now=t0 + 30 * MIN)]
    assert [e.targets for e in events] == [
        ("handler",),
        ("team_lead",),  # roles: the notifier's directory says who they are per department
        ("department_owner",),
    ]


def test_acknowledgement_stops_the_response_chain_only() -> None:
    state = on_classified(None, classified("E-4"), policy=SEEDS).state
    t0 = state.clocks[0].started_at
    state, fired = fire(state, t0 + 10 * MIN)
    assert fired == [("response", "breach", 1)]
    state = on_lifecycle(
        state, lifecycle("E-4", A.ACKNOWLEDGED, at=t0 + 12 * MIN), policy=SEEDS
    ).state
    assert fire(state, t0 + 40 * MIN)[1] == []
    assert next_due(state) == t0 + 4.8 * H  # the resolution warning is still ahead


def test_pause_moves_resolution_and_closure_but_not_response() -> None:
    start = datetime(2025, 3, 3, 9, 0, tzinfo=SH).astimezone(UTC)  # a Monday
    state = on_classified(None, classified("E-5", accepted_at=start), policy=SEEDS).state
    before = deadlines(state)
    state = on_lifecycle(state, lifecycle("E-5", A.PAUSED, at=start + H), policy=SEEDS).state
    assert next_due(state) == before["response"]  # the first answer is still owed
    state = on_lifecycle(
        state, lifecycle("E-5", A.ACKNOWLEDGED, at=start + 2 * MIN), policy=SEEDS
    ).state
    assert next_due(state) is None  # everything else is paused
    state = on_lifecycle(state, lifecycle("E-5", A.RESUMED, at=start + 3 * H), policy=SEEDS).state
    after = deadlines(state)
    assert after["resolution"] == before["resolution"] + 2 * H
    # Closure counts whole working days: 2 h of Monday were paused.
    assert after["closure"] == before["closure"] + 2 * H
    resolution = state.clock("resolution")
    assert resolution is not None
    assert resolution.pauses == ((start + H, start + 3 * H),)


def test_pause_and_resume_across_spring_festival_on_working_days() -> None:
    start = datetime(2025, 1, 24, 10, 0, tzinfo=SH).astimezone(UTC)  # Friday before the holiday
    event = classified("E-6", accepted_at=start, category="refund")
    state = on_classified(None, event, policy=SEEDS).state
    # 5 working days: Sun 26 (make-up), Mon 27, Wed 5, Thu 6, Fri 7 Feb.
    assert deadlines(state)["refund"] == datetime(2025, 2, 8, 0, 0, tzinfo=SH)
    paused = datetime(2025, 1, 27, 12, 0, tzinfo=SH).astimezone(UTC)  # used: Sun + half of Mon
    resumed = datetime(2025, 2, 3, 10, 0, tzinfo=SH).astimezone(UTC)  # still the holiday
    state = on_lifecycle(state, lifecycle("E-6", A.PAUSED, at=paused), policy=SEEDS).state
    state = on_lifecycle(state, lifecycle("E-6", A.RESUMED, at=resumed), policy=SEEDS).state
    # 3.5 working days left from Wed 5 Feb 00:00: 5, 6, 7 and noon on Sat 8 (a make-up day).
    assert deadlines(state)["refund"] == datetime(2025, 2, 8, 12, 0, tzinfo=SH)


def test_resolve_close_and_reopen_restarts_resolution_with_new_ids() -> None:
    state = on_classified(None, classified("E-7"), policy=SEEDS).state
    t0 = state.clocks[0].started_at
    state, _ = fire(state, t0 + 5 * H)  # response levels and the resolution warning
    state = on_lifecycle(state, lifecycle("E-7", A.RESOLVED, at=t0 + 5.5 * H), policy=SEEDS).state
    assert state.status is Status.RESOLVED
    assert {k.name for k in state.clocks if k.running} == {"closure"}
    state = on_lifecycle(state, lifecycle("E-7", A.CLOSED, at=t0 + 6 * H), policy=SEEDS).state
    assert state.status is Status.CLOSED
    assert next_due(state) is None
    reopened = on_lifecycle(state, lifecycle("E-7", A.REOPENED, at=t0 + 24 * H), policy=SEEDS)
    assert reopened.outcome is Outcome.REOPENED
    resolution = reopened.state.clock("resolution")
    assert resolution is not None
    assert resolution.cycle == 1
    assert resolution.deadline == t0 + 30 * H
    state, fired = fire(reopened.state, t0 + 30 * H)
    assert fired == [("resolution", "warning", 0), ("resolution", "breach", 1)]
    ids = {e for e in state.fired if e.startswith("resolution")}
    assert "resolution#1:breach:1:0" in ids


def test_transfer_takes_the_new_departments_calendar_and_owners() -> None:
    state = on_classified(None, classified("E-8", accepted_at=FRIDAY_EVENING), policy=SEEDS).state
    moved = on_lifecycle(
        state,
        lifecycle("E-8", A.TRANSFERRED, at=FRIDAY_EVENING + MIN, to_department="logistics"),
        policy=SEEDS,
    )
    assert moved.outcome is Outcome.TRANSFERRED
    assert moved.state.transfers == 1
    closure = moved.state.clock("closure")
    assert closure is not None
    assert closure.calendar == "cn-logistics"
    # Logistics works Saturdays 08:00-20:00: T+3 = Sat, Mon, Tue -> Tuesday 20:00, less the
    # minute already used on the old (whole-day) calendar.
    assert closure.deadline == datetime(2025, 3, 11, 19, 59, tzinfo=SH)
    (_, level2, _) = on_due(moved.state, token=moved.state.version, now=FRIDAY_EVENING + 30 * MIN)
    assert level2.event.department == "logistics"
    assert level2.event.targets == ("team_lead",)  # the notifier resolves it for logistics


def test_reclassification_recomputes_clocks() -> None:
    t0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
    state = on_classified(
        None, classified("E-9", accepted_at=t0, severity=Severity.GREEN), policy=SEEDS
    ).state
    assert deadlines(state)["response"] == t0 + 2 * H
    result = on_classified(
        state,
        classified("E-9", accepted_at=t0, severity=Severity.RED, classified_at=t0 + 5 * MIN),
        policy=SEEDS,
    )
    assert result.outcome is Outcome.RECLASSIFIED
    assert deadlines(result.state)["response"] == t0 + 10 * MIN
    assert result.state.reclassifications == 1


def test_risk_scope_goes_to_the_risk_chain_at_once() -> None:
    state = on_classified(None, classified("E-10", scope=Scope.RISK), policy=SEEDS).state
    t0 = state.clocks[0].started_at
    assert next_due(state) == t0
    events = [e.event for e in on_due(state, token=state.version, now=t0)]
    assert [(e.clock, e.level, e.targets) for e in events] == [("risk", 1, ("pr", "legal"))]


def test_common_cluster_is_escalated_once_with_the_count() -> None:
    ids, sizes = set(), []
    for n, size in enumerate((3, 4, 9)):
        event = classified(
            f"E-13-{n}", scope=Scope.COMMON, cluster_id="cluster.delivery.1", cluster_size=size
        )
        state = on_classified(None, event, policy=SEEDS).state
        t0 = state.clocks[0].started_at
        (step,) = [
            e.event
            for e in on_due(state, token=state.version, now=t0)
            if e.event.clock == "cluster"
        ]
        ids.add(step.escalation_id)
        sizes.append(step.cluster_size)
        assert step.targets == ("department_owner",)
    assert len(ids) == 1  # one id for the cluster: the notifier alerts once
    assert sizes == [3, 4, 9]  # each repeat carries the current count


def test_state_with_every_clock_round_trips_through_json() -> None:
    state = on_classified(None, classified("E-11", category="refund"), policy=SEEDS).state
    t0 = state.clocks[0].started_at
    state = on_lifecycle(state, lifecycle("E-11", A.PAUSED, at=t0 + H), policy=SEEDS).state
    state, _ = fire(state, t0 + 10 * MIN)
    assert ComplaintState.from_json(state.to_json()) == state


def test_env_override_keeps_other_clocks() -> None:
    fast = SEEDS.with_response_override(
        response_sla={s: timedelta(seconds=3) for s in Severity},
        level_interval=timedelta(seconds=2),
    )
    state = on_classified(None, classified("E-12"), policy=fast).state
    t0 = state.clocks[0].started_at
    assert deadlines(state)["response"] == t0 + timedelta(seconds=3)
    assert deadlines(state)["resolution"] == t0 + 6 * H
    assert isinstance(fast, EscalationPolicy)
    assert fast.version == "seeds-2025.1+env"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("version: 1\npolicies: []\n", "policy.yaml:1: policies must be a non-empty list"),
        (
            "version: 1\npolicies:\n  - name: a\n    clocks:\n      - name: r\n"
            "        target: 3 fortnights\n",
            "policy.yaml:5: policy a, clock r: target '3 fortnights'",
        ),
        (
            "version: 1\npolicies:\n  - name: a\n    clocks:\n      - name: r\n"
            "        target: 2 working days\n",
            "policy.yaml:5: policy a, clock r: business hours and working days need a calendar",
        ),
        (
            "version: 1\ncalendars:\n  x: {zone: Mars/Base}\npolicies: []\n",
            "policy.yaml:3: calendar 'x': unknown time zone",
        ),
        (
            "version: 1\npolicies:\n  - name: a\n    clocks:\n      - name: r\n"
            "        target: 1 hour\n        stop: [vanished]\n",
            "policy.yaml:5: policy a, clock r: 'vanished' is not a valid LifecycleAction",
        ),
        (
            "version: 1\npolicies:\n  - name: a\n    clocks:\n      - name: r\n"
            "        target: 1 hour\n        warnings: [{percent: 120}]\n",
            "policy.yaml:7: policy a, clock r: warning: a warning percent is between 0 and 100",
        ),
        ("policies: []\n", "policy.yaml:1: version is required"),
        (
            # an ack through the cluster's alert reaches one member: a level 2 would still fire
            "version: 1\npolicies:\n  - name: a\n    clocks:\n      - name: c\n"
            "        target: 0 minutes\n        per_cluster: true\n        chain:\n"
            "          levels: [{after: 0 minutes}, {after: 1 hour}]\n",
            "policy.yaml:5: policy a, clock c: a per_cluster clock has one level and no repeat",
        ),
        (
            "version: 1\npolicies:\n  - name: a\n    clocks:\n      - name: c\n"
            "        target: 0 minutes\n        per_cluster: true\n"
            "        chain: {repeat_every: 1 hour}\n",
            "policy.yaml:5: policy a, clock c: a per_cluster clock has one level and no repeat",
        ),
        ("version: 1\nwhatever: 2\npolicies: []\n", "policy.yaml:1: top level: unknown key"),
        (
            # a second directory of who is paged: the notifier's directory.roles is the one
            "version: 1\nowners:\n  payments: {team_lead: li.wei}\npolicies: []\n",
            "policy.yaml:3: owners: who is paged is no longer named here",
        ),
    ],
)
def test_invalid_policy_files_name_file_and_line(
    tmp_path: Path, yaml_text: str, message: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ValueError, match="^" + str(tmp_path).replace("/", "/")) as err:
        load_policy(path, holiday_data=None)
    assert message in str(err.value)


def test_a_new_policy_moves_open_deadlines_only_when_an_operator_reapplies_it(
    tmp_path: Path,
) -> None:
    text = POLICY_FILE.read_text(encoding="utf-8")
    assert 'version: "seeds-2025.1"' in text
    assert "red: 10 minutes," in text
    newer = tmp_path / "policy.yaml"
    newer.write_text(
        text.replace('version: "seeds-2025.1"', 'version: "seeds-2026.1"').replace(
            "red: 10 minutes,", "red: 20 minutes,"
        ),
        encoding="utf-8",
    )
    v2 = load_policy(newer, holiday_data=load_chinese_holidays())
    t0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
    state = on_classified(None, classified("E-20", accepted_at=t0), policy=SEEDS).state
    assert deadlines(state)["response"] == t0 + 10 * MIN
    # The service restarted with the new policy: events keep the frozen one.
    paused = on_lifecycle(state, lifecycle("E-20", A.PAUSED, at=t0 + 2 * MIN), policy=v2).state
    assert deadlines(paused)["response"] == t0 + 10 * MIN
    assert paused.policy_version == "seeds-2025.1"
    result = on_lifecycle(paused, lifecycle("E-20", A.POLICY_REAPPLIED, at=t0 + 4 * MIN), policy=v2)
    assert result.outcome is Outcome.POLICY_REAPPLIED
    assert deadlines(result.state)["response"] == t0 + 20 * MIN
    assert result.state.policy_version == "seeds-2026.1"
    assert [f.action for f in result.state.history][-1] is A.POLICY_REAPPLIED
    assert next_due(result.state) == t0 + 20 * MIN
    # A closed complaint keeps its record as it was.
    closed = on_lifecycle(state, lifecycle("E-20", A.CLOSED, at=t0 + MIN), policy=SEEDS).state
    again = on_lifecycle(closed, lifecycle("E-20", A.POLICY_REAPPLIED, at=t0 + 4 * MIN), policy=v2)
    assert again.outcome is Outcome.NO_EFFECT
    assert again.state.policy_version == "seeds-2025.1"


def test_personal_data_in_a_title_never_reaches_the_state_or_an_escalation() -> None:
    event = classified("E-21", accepted_at=FRIDAY_EVENING)
    event = event.model_copy(
        update={
            "complaint": event.complaint.model_copy(
                update={"title": "卡号 6222020200112233446 重复扣款，请回电 13912345678"}
            )
        }
    )
    state = on_classified(None, event, policy=SEEDS).state
    assert state.classification is not None
    assert state.classification.title == "卡号 6222********3446 重复扣款，请回电 139****5678"
    first = on_due(state, token=state.version, now=FRIDAY_EVENING + H)[0].event
    assert first.title == state.classification.title
