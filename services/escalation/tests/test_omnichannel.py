"""Omni-channel: a complaint the classifier links as `duplicate_of` joins its original: no
chain of its own, the link in both ledgers, the original's next alert names both channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from complaints_escalation.domain.clock_view import clocks_updated
from complaints_escalation.domain.ledger import ledger
from complaints_escalation.domain.state import ComplaintState, Status
from complaints_escalation.domain.transitions import (
    Outcome,
    link_event,
    next_due,
    on_classified,
    on_due,
    on_lifecycle,
    record_fired,
)
from complaints_schemas.events import Channel, LifecycleAction

from .factories import classified, lifecycle
from .test_engine import SEEDS

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def duplicate(cid: str, of: str, *, channel: Channel = Channel.HOTLINE, at: datetime = T0):  # type: ignore[no-untyped-def]
    event = classified(cid, accepted_at=at)
    return event.model_copy(
        update={
            "duplicate_of": of,
            "complaint": event.complaint.model_copy(update={"channel": channel}),
        }
    )


def joined(original: ComplaintState, dup: ComplaintState) -> ComplaintState:
    link = link_event(dup)
    assert link is not None
    return on_lifecycle(original, link, policy=SEEDS, now=T0 + 2 * MIN).state


def test_a_duplicate_joins_its_original_and_runs_no_chain() -> None:
    result = on_classified(None, duplicate("D-1", "O-1", at=T0 + MIN), policy=SEEDS)
    assert result.outcome is Outcome.JOINED
    state = result.state
    assert (state.status, state.duplicate_of, state.clocks) == (Status.OPEN, "O-1", ())
    assert next_due(state) is None
    assert on_due(state, token=state.version, now=T0 + 30 * 24 * 60 * MIN) == ()
    # A redelivery or a reclassification starts nothing either.
    again = on_classified(state, duplicate("D-1", "O-1", at=T0 + MIN), policy=SEEDS)
    assert again.state.clocks == ()
    moved = on_lifecycle(
        state,
        lifecycle("D-1", LifecycleAction.TRANSFERRED, at=T0 + 5 * MIN, to_department="logistics"),
        policy=SEEDS,
    )
    assert moved.state.clocks == ()


def test_the_link_step_goes_to_the_original_with_the_channel() -> None:
    dup = on_classified(None, duplicate("D-2", "O-2", at=T0 + MIN), policy=SEEDS).state
    link = link_event(dup)
    assert link is not None
    assert (link.complaint_id, link.action, link.linked_complaint_id, link.linked_channel) == (
        "O-2",
        LifecycleAction.LINKED,
        "D-2",
        Channel.HOTLINE,
    )
    assert link.event_id == "linked:D-2"  # the same on every resend
    assert link_event(on_classified(None, classified("O-9"), policy=SEEDS).state) is None


def test_the_originals_next_alert_mentions_the_extra_channel_once() -> None:
    original = on_classified(None, classified("O-3", accepted_at=T0), policy=SEEDS).state
    dup = on_classified(None, duplicate("D-3", "O-3", at=T0 + MIN), policy=SEEDS).state
    linked = joined(original, dup)
    linked = joined(linked, dup)  # the step again (a redelivery): once
    assert linked.linked == (("D-3", "hotline"),)
    (first, *_) = on_due(linked, token=linked.version, now=T0 + 10 * MIN)
    assert first.event.channels == (Channel.APP, Channel.HOTLINE)
    assert first.event.linked_complaints == ("D-3",)
    # The clocks are the original's, unchanged by the link.
    assert [k.deadline for k in linked.clocks] == [k.deadline for k in original.clocks]


def test_a_link_that_arrives_before_the_original_is_classified_applies_then() -> None:
    dup = on_classified(None, duplicate("D-4", "O-4", at=T0 + MIN), policy=SEEDS).state
    early = joined(ComplaintState(complaint_id="O-4"), dup)
    assert early.status is Status.AWAITING_CLASSIFICATION
    state = on_classified(early, classified("O-4", accepted_at=T0), policy=SEEDS).state
    assert state.linked == (("D-4", "hotline"),)
    state = record_fired(state, ())
    (first, *_) = on_due(state, token=state.version, now=T0 + 10 * MIN)
    assert first.event.channels == (Channel.APP, Channel.HOTLINE)


def test_the_link_shows_in_both_ledgers_and_clock_views() -> None:
    original = on_classified(None, classified("O-5", accepted_at=T0), policy=SEEDS).state
    dup = on_classified(None, duplicate("D-5", "O-5", at=T0 + MIN), policy=SEEDS).state
    original = joined(original, dup)
    now = T0 + 3 * MIN
    mine, theirs = (ledger(s, now=now, calendars=SEEDS.calendars) for s in (original, dup))
    assert mine["linked"] == [{"complaint_id": "D-5", "channel": "hotline"}]
    assert mine["channels"] == ["app", "hotline"]
    assert theirs["duplicate_of"] == "O-5"
    assert theirs["clocks"] == []
    assert clocks_updated(original, now=now, calendars=SEEDS.calendars).linked_complaints == (
        "D-5",
    )
    assert clocks_updated(dup, now=now, calendars=SEEDS.calendars).duplicate_of == "O-5"


def test_the_joined_state_round_trips_through_json() -> None:
    original = on_classified(None, classified("O-6", accepted_at=T0), policy=SEEDS).state
    dup = on_classified(None, duplicate("D-6", "O-6", at=T0 + MIN), policy=SEEDS).state
    original = joined(original, dup)
    for state in (original, dup):
        assert ComplaintState.from_json(state.to_json()) == state


def test_a_cluster_alert_names_the_clusters_channels() -> None:
    from complaints_schemas.events import Scope

    event = classified(
        "CL-1", scope=Scope.COMMON, cluster_id="cluster.x.1", cluster_size=23
    ).model_copy(update={"cluster_channels": (Channel.APP, Channel.HOTLINE, Channel.SOCIAL)})
    state = on_classified(None, event, policy=SEEDS).state
    steps = [e.event for e in on_due(state, token=state.version, now=state.clocks[0].started_at)]
    (cluster,) = [e for e in steps if e.clock == "cluster"]
    assert (cluster.cluster_size, cluster.channels) == (
        23,
        (Channel.APP, Channel.HOTLINE, Channel.SOCIAL),
    )
    assert ComplaintState.from_json(state.to_json()) == state
