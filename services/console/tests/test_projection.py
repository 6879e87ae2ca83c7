"""The projector's effect on the read model (SQLite): every step once, in any topic order."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, func, select

from complaints_console.projector.consumer import apply_record
from complaints_console.readmodel.queries import timeline
from complaints_console.readmodel.tables import (
    alerts,
    clocks,
    cluster_members,
    clusters,
    complaints,
    deliveries,
    reasons,
)
from complaints_schemas import topics
from complaints_schemas.cloudevents import DecodeError, encode
from complaints_schemas.events import ComplaintLifecycleEvent, LifecycleAction

from .factories import (
    MIN,
    T0,
    breach,
    classified,
    delivered,
    project,
    response_clock,
    step,
)


def test_complaint_timeline_from_every_topic_is_masked_and_whole(engine: Engine) -> None:
    esc = breach("C-1", at=T0 + 10 * MIN)
    events = [
        classified("C-1"),
        response_clock("C-1"),
        esc,
        delivered("C-1", esc.escalation_id, at=T0 + 10 * MIN),
        step("C-1", LifecycleAction.ACKNOWLEDGED, at=T0 + 12 * MIN, note="已联系 13812345678"),
        response_clock("C-1", stopped=T0 + 12 * MIN, version=2),
    ]
    project(engine, *events)
    project(engine, *events)  # redelivered: nothing changes
    with engine.connect() as conn:
        c = conn.execute(select(complaints).where(complaints.c.complaint_id == "C-1")).one()
        kinds = [(s["kind"], s["actor"], s["note"]) for s in timeline(conn, "C-1")]
        assert conn.execute(select(func.count()).select_from(alerts)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(reasons)).scalar() == 2
        [clock] = conn.execute(select(clocks)).all()
    assert c.status == "acknowledged"
    assert c.acknowledged_by == "agent-li"
    assert c.clocks_version == 2
    assert clock.state == "stopped"
    assert [k for k, _, _ in kinds] == ["accepted", "classified", "breach", "acknowledged"]
    assert kinds[-1][2] == "已联系 138****5678"
    assert c.customer_name == "张*"
    assert c.customer_contact == "138****5678"
    assert "13812345678" not in (c.description or "")
    assert "6222021234567890123" not in (c.description or "")


def test_clocks_and_steps_before_the_classification_are_kept(engine: Engine) -> None:
    project(
        engine,
        response_clock("C-2", version=3),
        step("C-2", LifecycleAction.ACKNOWLEDGED, at=T0 + MIN),
        response_clock("C-2", version=2),  # older: ignored
        classified("C-2"),
    )
    with engine.connect() as conn:
        c = conn.execute(select(complaints).where(complaints.c.complaint_id == "C-2")).one()
    assert c.clocks_version == 3
    assert c.status == "acknowledged"
    assert c.severity == "red"
    assert c.department == "payments"


def test_transfer_moves_department_and_reclassification_is_a_step(engine: Engine) -> None:
    project(
        engine,
        classified("C-3"),
        step("C-3", LifecycleAction.TRANSFERRED, at=T0 + MIN, to_department="logistics"),
        classified("C-3", classified_at=T0 + 2 * MIN, category="refund"),
    )
    with engine.connect() as conn:
        c = conn.execute(select(complaints).where(complaints.c.complaint_id == "C-3")).one()
        rows = timeline(conn, "C-3")
    assert c.department == "logistics"  # the transfer's, not the reclassification's
    assert c.category == "refund"
    assert c.transfers == 1
    assert [r["kind"] for r in rows] == ["accepted", "classified", "transferred", "reclassified"]
    assert (rows[2]["department"], rows[2]["to_department"]) == ("payments", "logistics")
    assert rows[3]["detail"]["from_category"] == "payment_failure"


def test_cluster_members_and_size(engine: Engine) -> None:
    for i in range(3):
        project(
            engine, classified(f"K-{i}", at=T0 + i * MIN, cluster_id="CL-1", cluster_size=i + 1)
        )
    project(engine, classified("K-0", at=T0, cluster_id="CL-1", cluster_size=1))  # again
    with engine.connect() as conn:
        cluster = conn.execute(select(clusters)).one()
        members = conn.execute(select(func.count()).select_from(cluster_members)).scalar()
    assert (cluster.size, members, cluster.opened_at) == (3, 3, T0)


@pytest.mark.parametrize("join_first", [False, True])
def test_members_told_they_joined_are_listed_and_common(engine: Engine, join_first: bool) -> None:
    """Four classified individual, then a fifth opens the cluster and the classifier tells
    the four; in either topic order the cluster lists five from the first one's acceptance."""
    early = [classified(f"M-{i}", at=T0 + i * MIN) for i in range(4)]
    opener = classified("M-4", at=T0 + 4 * MIN, cluster_id="CL-2", cluster_size=5)
    joins = [
        ComplaintLifecycleEvent(
            event_id=f"clustered:M-{i}",
            complaint_id=f"M-{i}",
            action=LifecycleAction.CLUSTERED,
            occurred_at=T0 + 5 * MIN,
            actor="classifier",
            cluster_id="CL-2",
            cluster_size=5,
        )
        for i in range(4)
    ]
    project(engine, *early)
    project(engine, *([*joins, opener] if join_first else [opener, *joins]))
    project(engine, *joins)  # redelivered
    with engine.connect() as conn:
        cluster = conn.execute(select(clusters)).one()
        members = conn.execute(select(func.count()).select_from(cluster_members)).scalar()
        first = conn.execute(select(complaints).where(complaints.c.complaint_id == "M-0")).one()
        kinds = [r["kind"] for r in timeline(conn, "M-0")]
    assert (cluster.size, members, cluster.opened_at) == (5, 5, T0)
    assert (first.scope, first.cluster_id) == ("common", "CL-2")
    assert kinds == ["accepted", "classified", "clustered"]


def test_fields_from_a_newer_producer_are_tolerated_and_optional_ones_read(engine: Engine) -> None:
    record = encode(classified("N-1"), source="/tests", id="x", time=T0)
    data = json.loads(record.value)
    data |= {"confidence": 0.42, "needs_triage": True, "model_version": "m-7", "future": 1}
    data["complaint"]["future_field"] = "x"
    data["reasons"][0]["weight"] = 0.5
    with engine.begin() as conn:
        apply_record(conn, topics.CLASSIFIED.name, json.dumps(data).encode(), record.headers)
    with engine.connect() as conn:
        c = conn.execute(select(complaints)).one()
    assert (c.confidence, c.needs_triage, c.model_version) == (0.42, True, "m-7")


def test_undecodable_record_raises_decode_error(engine: Engine) -> None:
    record = encode(classified("B-1"), source="/tests", id="x", time=T0)
    with engine.begin() as conn, pytest.raises(DecodeError):
        apply_record(conn, topics.CLASSIFIED.name, b"{not json", record.headers)
