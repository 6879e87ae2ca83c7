"""The read model's relational schema (SQLAlchemy Core): one definition for SQLite and PostgreSQL.

Times are stored as naive UTC (UtcDateTime) so both databases compare them the same way.
Personal data arrives masked (complaints_schemas.pii) and is stored so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the column."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite returns text for expressions such as min()
            value = datetime.fromisoformat(value)
        when: datetime = value
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


ID = 128
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

complaints = Table(
    "complaints",
    metadata,
    Column("complaint_id", String(ID), primary_key=True),
    # From complaints.accepted.v1 (or the copy inside the classification).
    Column("channel", String(32)),
    Column("channel_event_id", String(ID)),
    Column("customer_id", String(ID)),
    Column("customer_tier", String(16)),
    Column("customer_name", String(200)),  # masked
    Column("customer_contact", String(200)),  # masked
    Column("title", String(200)),  # masked
    Column("description", Text),  # masked
    Column("product_id", String(ID)),
    Column("order_id", String(ID)),
    Column("language", String(8)),
    Column("occurred_at", UtcDateTime),
    Column("accepted_at", UtcDateTime),
    # From complaints.classified.v1 (the newest classification).
    Column("classified_at", UtcDateTime),
    Column("severity", String(16)),
    Column("scope", String(16)),
    Column("category", String(ID)),
    Column("department", String(ID)),
    Column("cluster_id", String(ID)),
    Column("duplicate_of", String(ID)),
    Column("confidence", Float),
    Column("needs_triage", Boolean, nullable=False, default=False),
    Column("model_version", String(ID)),
    Column("classifications", Integer, nullable=False, default=0),
    # From complaints.lifecycle.v1.
    Column("status", String(32), nullable=False, default="new"),
    Column("acknowledged_at", UtcDateTime),
    Column("acknowledged_by", String(200)),
    Column("resolved_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("transfers", Integer, nullable=False, default=0),
    # From complaints.clocks-updated.v1 (escalation's view, newest version wins).
    Column("clocks_version", Integer),
    Column("policy_version", String(ID)),
    Column("next_step_at", UtcDateTime),
    Column("next_clock", String(ID)),
    Column("next_deadline", UtcDateTime),
    Column("last_event_at", UtcDateTime),
    Index("ix_complaints_queue", "department", "status", "next_step_at"),
    Index("ix_complaints_accepted_at", "accepted_at"),
    Index("ix_complaints_cluster_id", "cluster_id"),
    Index("ix_complaints_status_closed_at", "status", "closed_at"),
)

reasons = Table(
    "reasons",
    metadata,
    Column("complaint_id", String(ID), ForeignKey("complaints.complaint_id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("decision", String(32), nullable=False),
    Column("rule", String(200), nullable=False),
    Column("detail", Text, nullable=False),
)

clocks = Table(
    "clocks",
    metadata,
    Column("complaint_id", String(ID), ForeignKey("complaints.complaint_id"), primary_key=True),
    Column("name", String(ID), primary_key=True),
    Column("cycle", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False),
    Column("calendar", String(ID), nullable=False),
    Column("target_amount", Float, nullable=False),
    Column("target_unit", String(32), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("stopped_at", UtcDateTime),
    Column("budget_s", Float, nullable=False),
    Column("used_s", Float, nullable=False),
    Column("outside_working_hours_s", Float, nullable=False, default=0.0),
    Column("periods", JSON, nullable=False),
    Column("next_step_at", UtcDateTime),
    Column("next_step", String(32)),
    Column("as_of", UtcDateTime, nullable=False),
    Index("ix_clocks_name_started_at", "name", "started_at"),
)

steps = Table(
    "steps",
    metadata,
    # Deterministic: the event's own id, so a redelivery finds the step already there.
    Column("step_id", String(300), primary_key=True),
    Column("complaint_id", String(ID), ForeignKey("complaints.complaint_id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(200)),
    Column("note", Text),  # masked
    Column("department", String(ID)),  # the complaint's department when it happened
    Column("to_department", String(ID)),
    Column("detail", JSON, nullable=False, default=dict),
    # Written by the console when it published the step; cleared when the projector sees it.
    Column("pending", Boolean, nullable=False, default=False),
    Index("ix_steps_complaint_id_at", "complaint_id", "at"),
    Index("ix_steps_kind_at", "kind", "at"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("escalation_id", String(ID), primary_key=True),
    Column("complaint_id", String(ID), ForeignKey("complaints.complaint_id"), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("clock", String(ID), nullable=False),
    Column("level", Integer, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("escalated_at", UtcDateTime, nullable=False),
    Column("department", String(ID), nullable=False),
    Column("targets", JSON, nullable=False),
    Index("ix_alerts_escalated_at", "escalated_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("notification_id", String(ID), primary_key=True),
    Column("outcome", String(16), primary_key=True),  # delivered | failed
    Column("escalation_id", String(ID), nullable=False),
    Column("complaint_id", String(ID), nullable=False),
    Column("channel", String(ID), nullable=False),
    Column("receiver", String(ID), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("reason", Text),
    Column("retryable", Boolean),
    Index("ix_deliveries_escalation_id", "escalation_id"),
)

clusters = Table(
    "clusters",
    metadata,
    Column("cluster_id", String(ID), primary_key=True),
    Column("category", String(ID)),
    Column("department", String(ID)),
    Column("title", String(200)),  # masked, from its first member
    Column("opened_at", UtcDateTime),
    Column("size", Integer, nullable=False, default=0),
)

cluster_members = Table(
    "cluster_members",
    metadata,
    Column("cluster_id", String(ID), primary_key=True),
    Column("complaint_id", String(ID), primary_key=True),
    Column("joined_at", UtcDateTime, nullable=False),
    Column("channel", String(32)),
    Index("ix_cluster_members_complaint_id", "complaint_id"),
)

offsets = Table(
    "projector_offsets",
    metadata,
    Column("topic", String(249), primary_key=True),
    Column("partition", Integer, primary_key=True),
    # The next offset to read: written in the same transaction as the records' effects.
    Column("next_offset", Integer, nullable=False),
)

PER_COMPLAINT = (reasons, clocks, steps, alerts, deliveries, cluster_members)
