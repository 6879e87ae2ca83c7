"""One event's effect on the read model, inside the caller's transaction; idempotent.

Every step has a deterministic id (the event's own), so a redelivered record finds its
step and changes nothing; the clocks keep the newest version escalation published.
Records of one complaint arrive in order per topic; across topics the projector accepts
any order (a clock or a step may arrive before the complaint's classification).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from complaints_console.domain.lifecycle import NEW, OPEN, status_after
from complaints_console.domain.masking import contact, mask_name, mask_text
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
from complaints_console.readmodel.upsert import insert_ignore, upsert
from complaints_schemas.events import (
    ClockState,
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintClocksUpdated,
    ComplaintEscalated,
    ComplaintLifecycleEvent,
    LifecycleAction,
    NotificationDelivered,
    NotificationFailed,
)


def ensure_complaint(conn: Connection, complaint_id: str) -> None:
    """A row to hang steps and clocks on, before the complaint itself was projected."""
    insert_ignore(
        conn,
        complaints,
        {
            "complaint_id": complaint_id,
            "status": NEW,
            "needs_triage": False,
            "classifications": 0,
            "transfers": 0,
        },
    )


def _touch(conn: Connection, complaint_id: str, at: datetime) -> None:
    row = conn.execute(
        select(complaints.c.last_event_at).where(complaints.c.complaint_id == complaint_id)
    ).first()
    if row is not None and (row.last_event_at is None or row.last_event_at < at):
        conn.execute(
            update(complaints)
            .where(complaints.c.complaint_id == complaint_id)
            .values(last_event_at=at)
        )


def _complaint_fields(c: ComplaintAccepted) -> dict[str, Any]:
    return {
        "channel": c.channel.value,
        "channel_event_id": c.channel_event_id,
        "customer_id": c.customer.id,
        "customer_tier": c.customer.tier.value,
        "customer_name": mask_name(c.customer.name),
        "customer_contact": contact(c.customer.phone, c.customer.email),
        "title": mask_text(c.title),
        "description": mask_text(c.description),
        "product_id": c.product_id,
        "order_id": c.order_id,
        "language": c.language,
        "occurred_at": c.occurred_at,
        "accepted_at": c.accepted_at,
    }


def accepted(conn: Connection, event: ComplaintAccepted) -> None:
    ensure_complaint(conn, event.complaint_id)
    conn.execute(
        update(complaints)
        .where(complaints.c.complaint_id == event.complaint_id)
        .values(**_complaint_fields(event))
    )
    insert_ignore(
        conn,
        steps,
        {
            "step_id": f"accepted:{event.complaint_id}",
            "complaint_id": event.complaint_id,
            "at": event.accepted_at,
            "kind": "accepted",
            "actor": f"channel:{event.channel.value}",
            "detail": {"channel": event.channel.value, "channel_event_id": event.channel_event_id},
            "pending": False,
        },
    )
    _touch(conn, event.complaint_id, event.accepted_at)


def classified(conn: Connection, event: ComplaintClassified, raw: dict[str, Any]) -> None:
    """The newest classification wins; each one is a step (reclassifications too)."""
    cid = event.complaint_id
    step_id = f"classified:{cid}:{event.classified_at.isoformat()}"
    ensure_complaint(conn, cid)
    if not insert_ignore(conn, steps, _classified_step(event, step_id, raw)):
        return  # redelivered
    accepted(conn, event.complaint)
    row = conn.execute(
        select(
            complaints.c.classified_at,
            complaints.c.status,
            complaints.c.transfers,
            complaints.c.department,
            complaints.c.severity,
            complaints.c.category,
        ).where(complaints.c.complaint_id == cid)
    ).one()
    if row.classified_at is not None:
        conn.execute(
            update(steps)
            .where(steps.c.step_id == step_id)
            .values(
                kind="reclassified",
                detail={
                    **_classified_step(event, step_id, raw)["detail"],
                    "from_severity": row.severity,
                    "from_category": row.category,
                },
            )
        )
    conn.execute(
        update(complaints)
        .where(complaints.c.complaint_id == cid)
        .values(classifications=complaints.c.classifications + 1)
    )
    if row.classified_at is not None and row.classified_at > event.classified_at:
        return  # an older classification, read late: kept in the timeline only
    values: dict[str, Any] = {
        "classified_at": event.classified_at,
        "severity": event.severity.value,
        "scope": event.scope.value,
        "category": event.category,
        "cluster_id": event.cluster_id,
        "duplicate_of": event.duplicate_of,
        "confidence": _float(raw.get("confidence")),
        "needs_triage": bool(raw.get("needs_triage", False)),
        "model_version": _text(raw.get("model_version")),
        "status": OPEN if row.status == NEW else row.status,
    }
    if not row.transfers:  # a transfer moved it: the department is the transfer's
        values["department"] = event.department
    conn.execute(update(complaints).where(complaints.c.complaint_id == cid).values(**values))
    conn.execute(delete(reasons).where(reasons.c.complaint_id == cid))
    for position, reason in enumerate(event.reasons):
        conn.execute(
            reasons.insert().values(
                complaint_id=cid,
                position=position,
                decision=reason.decision,
                rule=reason.rule,
                detail=mask_text(reason.detail) or "",
            )
        )
    if event.cluster_id:
        _cluster(conn, event)


def _classified_step(
    event: ComplaintClassified, step_id: str, raw: dict[str, Any]
) -> dict[str, Any]:
    return {
        "step_id": step_id,
        "complaint_id": event.complaint_id,
        "at": event.classified_at,
        "kind": "classified",
        "actor": "classifier",
        "department": event.department,
        "detail": {
            "severity": event.severity.value,
            "scope": event.scope.value,
            "category": event.category,
            "department": event.department,
            "cluster_id": event.cluster_id,
            "confidence": _float(raw.get("confidence")),
            "needs_triage": bool(raw.get("needs_triage", False)),
        },
        "pending": False,
    }


def _cluster(conn: Connection, event: ComplaintClassified) -> None:
    assert event.cluster_id is not None
    _join_cluster(
        conn,
        event.cluster_id,
        complaint_id=event.complaint_id,
        joined_at=event.complaint.accepted_at,
        channel=event.complaint.channel.value,
        size=event.cluster_size,
        category=event.category,
        department=event.department,
        title=mask_text(event.complaint.title),
    )


def _join_cluster(
    conn: Connection,
    cluster_id: str,
    *,
    complaint_id: str,
    joined_at: datetime | None,
    channel: str | None,
    size: int | None,
    category: str | None,
    department: str | None,
    title: str | None,
) -> None:
    """A member in the cluster's list; the cluster opened at its earliest member's acceptance
    (members told they joined after it opened come first: they were there before)."""
    found = conn.execute(
        select(clusters.c.opened_at, clusters.c.size).where(clusters.c.cluster_id == cluster_id)
    ).first()
    if found is None:
        conn.execute(
            clusters.insert().values(
                cluster_id=cluster_id,
                category=category,
                department=department,
                title=title,
                opened_at=joined_at,
                size=0,
            )
        )
    elif joined_at is not None and (found.opened_at is None or joined_at < found.opened_at):
        conn.execute(
            update(clusters)
            .where(clusters.c.cluster_id == cluster_id)
            .values(opened_at=joined_at, title=title)
        )
    insert_ignore(
        conn,
        cluster_members,
        {
            "cluster_id": cluster_id,
            "complaint_id": complaint_id,
            "joined_at": joined_at,
            "channel": channel,
        },
    )
    members = conn.execute(
        select(cluster_members.c.complaint_id).where(cluster_members.c.cluster_id == cluster_id)
    ).all()
    conn.execute(
        update(clusters)
        .where(clusters.c.cluster_id == cluster_id)
        .values(size=max(len(members), size or 0))
    )


def lifecycle(conn: Connection, event: ComplaintLifecycleEvent) -> None:
    """A step; its effect on the status applies once (a step the console wrote is pending)."""
    cid = event.complaint_id
    ensure_complaint(conn, cid)
    step_id = f"lifecycle:{event.event_id}"
    row = conn.execute(
        select(
            complaints.c.status,
            complaints.c.department,
            complaints.c.acknowledged_at,
            complaints.c.severity,
            complaints.c.scope,
            complaints.c.category,
            complaints.c.cluster_id,
            complaints.c.channel,
            complaints.c.accepted_at,
            complaints.c.title,
        ).where(complaints.c.complaint_id == cid)
    ).one()
    existing = conn.execute(select(steps.c.pending).where(steps.c.step_id == step_id)).first()
    if existing is not None and not existing.pending:
        return  # redelivered
    values = {
        "complaint_id": cid,
        "at": event.occurred_at,
        "kind": event.action.value,
        "actor": event.actor,
        "note": mask_text(event.note),
        "department": row.department,
        "to_department": event.to_department,
        "detail": _reclassification(event, row),
        "pending": False,
    }
    if existing is None:
        conn.execute(steps.insert().values(step_id=step_id, **values))
    else:
        conn.execute(update(steps).where(steps.c.step_id == step_id).values(**values))
    action = event.action
    changes: dict[str, Any] = {
        "status": status_after(row.status, action, acknowledged=row.acknowledged_at is not None)
    }
    if action in (LifecycleAction.ACKNOWLEDGED, LifecycleAction.RESPONDED):
        if row.acknowledged_at is None:
            changes.update(acknowledged_at=event.occurred_at, acknowledged_by=event.actor)
    elif action is LifecycleAction.RESOLVED:
        changes["resolved_at"] = event.occurred_at
    elif action is LifecycleAction.CLOSED and row.status != "closed":
        changes["closed_at"] = event.occurred_at
    elif action is LifecycleAction.REOPENED and row.status in ("resolved", "closed"):
        changes.update(resolved_at=None, closed_at=None)
    elif (
        action is LifecycleAction.TRANSFERRED
        and event.to_department
        and event.to_department != row.department
    ):
        changes.update(department=event.to_department, transfers=complaints.c.transfers + 1)
    elif action is LifecycleAction.RECLASSIFIED:  # a person decided: no longer for triage
        changes.update(
            severity=event.severity.value if event.severity else row.severity,
            scope=event.scope.value if event.scope else row.scope,
            category=event.category or row.category,
            needs_triage=False,
        )
    elif action is LifecycleAction.CLUSTERED and event.cluster_id and row.cluster_id is None:
        # As the escalation service does: an individual complaint becomes a member.
        changes.update(
            cluster_id=event.cluster_id,
            scope="common" if row.scope in (None, "individual") else row.scope,
        )
        _join_cluster(
            conn,
            event.cluster_id,
            complaint_id=cid,
            joined_at=row.accepted_at or event.occurred_at,
            channel=row.channel,
            size=event.cluster_size,
            category=row.category,
            department=row.department,
            title=row.title,
        )
    conn.execute(update(complaints).where(complaints.c.complaint_id == cid).values(**changes))
    _touch(conn, cid, event.occurred_at)


def _reclassification(event: ComplaintLifecycleEvent, row: Any) -> dict[str, Any]:
    """A person's reclassification in the timeline's terms (as the classifier's steps)."""
    if event.action is not LifecycleAction.RECLASSIFIED:
        return {}
    return {
        "severity": event.severity.value if event.severity else row.severity,
        "scope": event.scope.value if event.scope else row.scope,
        "category": event.category or row.category,
        "department": row.department,
        "from_severity": row.severity,
        "from_category": row.category,
    }


def escalated(conn: Connection, event: ComplaintEscalated) -> None:
    cid = event.complaint_id
    ensure_complaint(conn, cid)
    inserted = insert_ignore(
        conn,
        alerts,
        {
            "escalation_id": event.escalation_id,
            "complaint_id": cid,
            "kind": event.kind.value,
            "clock": event.clock,
            "level": event.level,
            "deadline": event.deadline,
            "escalated_at": event.escalated_at,
            "department": event.department,
            "targets": list(event.targets),
        },
    )
    if not inserted:
        return
    insert_ignore(
        conn,
        steps,
        {
            "step_id": f"escalated:{event.escalation_id}:{cid}",
            "complaint_id": cid,
            "at": event.escalated_at,
            "kind": event.kind.value,  # warning | breach
            "actor": "escalation",
            "department": event.department,
            "detail": {
                "escalation_id": event.escalation_id,
                "clock": event.clock,
                "level": event.level,
                "deadline": event.deadline.isoformat(),
                "targets": list(event.targets),
                "cluster_id": event.cluster_id,
            },
            "pending": False,
        },
    )
    _touch(conn, cid, event.escalated_at)


def delivered(conn: Connection, event: NotificationDelivered) -> None:
    insert_ignore(
        conn,
        deliveries,
        {
            "notification_id": event.notification_id,
            "outcome": "delivered",
            "escalation_id": event.escalation_id,
            "complaint_id": event.complaint_id,
            "channel": event.channel,
            "receiver": event.receiver,
            "at": event.delivered_at,
            "attempts": event.attempts,
            "reason": None,
            "retryable": None,
        },
    )


def failed(conn: Connection, event: NotificationFailed) -> None:
    insert_ignore(
        conn,
        deliveries,
        {
            "notification_id": event.notification_id,
            "outcome": "failed",
            "escalation_id": event.escalation_id,
            "complaint_id": event.complaint_id,
            "channel": event.channel,
            "receiver": event.receiver,
            "at": event.failed_at,
            "attempts": event.attempts,
            "reason": mask_text(event.reason),
            "retryable": event.retryable,
        },
    )


def clocks_updated(conn: Connection, event: ComplaintClocksUpdated) -> None:
    """Escalation's clocks replace ours when their version is not older."""
    cid = event.complaint_id
    ensure_complaint(conn, cid)
    current = conn.execute(
        select(complaints.c.clocks_version).where(complaints.c.complaint_id == cid)
    ).scalar_one()
    if current is not None and current > event.version:
        return
    running = [k for k in event.clocks if k.state is ClockState.RUNNING]
    pending = [k for k in running if k.next_step_at is not None]
    nearest = min(pending, key=lambda k: k.next_step_at or k.deadline, default=None)
    earliest = min(running, key=lambda k: k.deadline, default=None)
    shown = earliest or nearest
    values: dict[str, Any] = {
        "clocks_version": event.version,
        "policy_version": event.policy_version,
        "next_step_at": event.next_step_at,
        "next_clock": shown.name if shown is not None else None,
        "next_deadline": earliest.deadline if earliest else None,
    }
    if event.department:
        values["department"] = event.department
    conn.execute(update(complaints).where(complaints.c.complaint_id == cid).values(**values))
    conn.execute(delete(clocks).where(clocks.c.complaint_id == cid))
    for k in event.clocks:
        upsert(
            conn,
            clocks,
            {
                "complaint_id": cid,
                "name": k.name,
                "cycle": k.cycle,
                "state": k.state.value,
                "calendar": k.calendar,
                "target_amount": k.target_amount,
                "target_unit": k.target_unit,
                "started_at": k.started_at,
                "deadline": k.deadline,
                "stopped_at": k.stopped_at,
                "budget_s": k.budget_s,
                "used_s": k.used_s,
                "outside_working_hours_s": k.outside_working_hours_s,
                "periods": [p.model_dump(mode="json") for p in k.periods],
                "next_step_at": k.next_step_at,
                "next_step": k.next_step,
                "as_of": event.updated_at,
            },
        )


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return str(value)[:128] if value is not None else None
