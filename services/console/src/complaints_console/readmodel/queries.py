"""What the console reads: the queue, a complaint with its clocks and timeline, clusters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, case, func, or_, select

from complaints_console.domain.lifecycle import CLOSED, PAUSED
from complaints_console.readmodel.tables import (
    alerts,
    clocks,
    cluster_members,
    clusters,
    complaints,
    deliveries,
    reasons,
    steps,
)

# Steps at the same instant in the order they happen.
_STEP_RANK = case(
    (steps.c.kind == "accepted", 0),
    (steps.c.kind == "classified", 1),
    else_=2,
)
FILTERS = ("overdue", "paused", "triage", "closed")


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters; `departments` None means every department (admins)."""

    departments: Sequence[str] | None
    department: str | None = None
    filters: frozenset[str] = frozenset()
    cluster_id: str | None = None
    channel: str | None = None
    severity: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass
class QueuePage:
    rows: Sequence[Row[Any]]
    total: int
    has_more: bool


@dataclass
class ComplaintPage:
    complaint: Row[Any]
    reasons: list[Row[Any]]
    clocks: list[Row[Any]]
    timeline: list[dict[str, Any]]
    cluster: Row[Any] | None = None
    alerts: list[dict[str, Any]] = field(default_factory=list)


def visible(departments: Sequence[str] | None) -> Any:
    """The complaints a user may see: their departments' (all, for `None`)."""
    if departments is None:
        return complaints.c.complaint_id.is_not(None)
    return complaints.c.department.in_(list(departments))


def queue(conn: Connection, q: QueueQuery, *, now: datetime) -> QueuePage:
    """Open complaints, soonest next step first (then the oldest); filters narrow it."""
    where = [visible(q.departments), complaints.c.classified_at.is_not(None)]
    if "closed" in q.filters:
        where.append(complaints.c.status == CLOSED)
    else:
        where.append(complaints.c.status != CLOSED)
    if q.department:
        where.append(complaints.c.department == q.department)
    if "overdue" in q.filters:
        where.append(complaints.c.next_deadline < now)
    if "paused" in q.filters:
        where.append(complaints.c.status == PAUSED)
    if "triage" in q.filters:
        where.append(complaints.c.needs_triage.is_(True))
    if q.cluster_id:
        where.append(complaints.c.cluster_id == q.cluster_id)
    if q.channel:
        where.append(complaints.c.channel == q.channel)
    if q.severity:
        where.append(complaints.c.severity == q.severity)
    condition = and_(*where)
    columns = (
        complaints.c.complaint_id,
        complaints.c.title,
        complaints.c.channel,
        complaints.c.severity,
        complaints.c.scope,
        complaints.c.category,
        complaints.c.department,
        complaints.c.status,
        complaints.c.cluster_id,
        complaints.c.needs_triage,
        complaints.c.accepted_at,
        complaints.c.next_step_at,
        complaints.c.next_clock,
        complaints.c.next_deadline,
    )
    rows: list[Any] = list(
        conn.execute(
            select(*columns)
            .where(condition)
            .order_by(
                complaints.c.next_step_at.is_(None),
                complaints.c.next_step_at,
                complaints.c.accepted_at,
            )
            .limit(q.limit + 1)
            .offset(q.offset)
        )
    )
    total = conn.execute(select(func.count()).select_from(complaints).where(condition)).scalar()
    return QueuePage(rows=rows[: q.limit], total=int(total or 0), has_more=len(rows) > q.limit)


def complaint_page(
    conn: Connection, complaint_id: str, *, departments: Sequence[str] | None
) -> ComplaintPage | None:
    """One complaint, if it exists and the user may see it."""
    c = conn.execute(
        select(complaints).where(
            and_(complaints.c.complaint_id == complaint_id, visible(departments))
        )
    ).first()
    if c is None or (c.classified_at is None and c.accepted_at is None):
        return None
    why = list(
        conn.execute(
            select(reasons)
            .where(reasons.c.complaint_id == complaint_id)
            .order_by(reasons.c.position)
        )
    )
    its_clocks = list(
        conn.execute(
            select(clocks)
            .where(clocks.c.complaint_id == complaint_id)
            .order_by(clocks.c.started_at)
        )
    )
    cluster = (
        conn.execute(select(clusters).where(clusters.c.cluster_id == c.cluster_id)).first()
        if c.cluster_id
        else None
    )
    return ComplaintPage(
        complaint=c,
        reasons=why,
        clocks=its_clocks,
        timeline=timeline(conn, complaint_id),
        cluster=cluster,
    )


def timeline(conn: Connection, complaint_id: str) -> list[dict[str, Any]]:
    """Every step in order; each alert step carries its deliveries (receiver and outcome)."""
    rows = conn.execute(
        select(steps)
        .where(steps.c.complaint_id == complaint_id)
        .order_by(steps.c.at, _STEP_RANK, steps.c.step_id)
    ).all()
    sent = conn.execute(
        select(deliveries)
        .where(deliveries.c.complaint_id == complaint_id)
        .order_by(deliveries.c.at)
    ).all()
    by_escalation: dict[str, list[dict[str, Any]]] = {}
    for d in sent:
        by_escalation.setdefault(d.escalation_id, []).append(dict(d._mapping))
    out = []
    for row in rows:
        item = dict(row._mapping)
        escalation_id = (item.get("detail") or {}).get("escalation_id")
        item["deliveries"] = by_escalation.get(escalation_id, []) if escalation_id else []
        out.append(item)
    return out


def cluster_page(
    conn: Connection, cluster_id: str, *, departments: Sequence[str] | None
) -> dict[str, Any] | None:
    """A cluster's members the user may see, its growth per day and its channels."""
    cluster = conn.execute(select(clusters).where(clusters.c.cluster_id == cluster_id)).first()
    if cluster is None:
        return None
    members = list(
        conn.execute(
            select(
                complaints.c.complaint_id,
                complaints.c.title,
                complaints.c.channel,
                complaints.c.severity,
                complaints.c.status,
                complaints.c.department,
                cluster_members.c.joined_at,
            )
            .join(complaints, complaints.c.complaint_id == cluster_members.c.complaint_id)
            .where(and_(cluster_members.c.cluster_id == cluster_id, visible(departments)))
            .order_by(cluster_members.c.joined_at)
        )
    )
    if not members:
        return None
    per_day: dict[str, int] = {}
    channels: dict[str, int] = {}
    running = 0
    growth: list[tuple[str, int]] = []
    for m in members:
        day = m.joined_at.date().isoformat()
        per_day[day] = per_day.get(day, 0) + 1
        channels[m.channel or "other"] = channels.get(m.channel or "other", 0) + 1
    for day in sorted(per_day):
        running += per_day[day]
        growth.append((day, running))
    return {
        "cluster": cluster,
        "members": members,
        "growth": growth,
        "channels": sorted(channels.items(), key=lambda kv: -kv[1]),
    }


def alert_count(conn: Connection, complaint_id: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(alerts).where(alerts.c.complaint_id == complaint_id)
        ).scalar()
        or 0
    )


def departments(conn: Connection) -> list[str]:
    return [
        d
        for d in conn.execute(
            select(complaints.c.department).where(complaints.c.department.is_not(None)).distinct()
        ).scalars()
        if d
    ]


def search_ids(conn: Connection, text: str, *, departments: Sequence[str] | None) -> list[str]:
    """Complaint ids that start with `text` (for the queue's search box)."""
    return list(
        conn.execute(
            select(complaints.c.complaint_id)
            .where(
                and_(
                    visible(departments),
                    or_(complaints.c.complaint_id.startswith(text)),
                )
            )
            .limit(20)
        ).scalars()
    )
