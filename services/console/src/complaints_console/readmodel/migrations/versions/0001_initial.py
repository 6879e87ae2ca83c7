"""read model: complaints, classifications, clocks, steps, alerts, clusters

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-03 14:53:14.568818
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import complaints_console.readmodel.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "cluster_members",
        sa.Column("cluster_id", sa.String(length=128), nullable=False),
        sa.Column("complaint_id", sa.String(length=128), nullable=False),
        sa.Column("joined_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("cluster_id", "complaint_id", name=op.f("pk_cluster_members")),
    )
    with op.batch_alter_table("cluster_members", schema=None) as batch_op:
        batch_op.create_index("ix_cluster_members_complaint_id", ["complaint_id"], unique=False)

    op.create_table(
        "clusters",
        sa.Column("cluster_id", sa.String(length=128), nullable=False),
        sa.Column("category", sa.String(length=128), nullable=True),
        sa.Column("department", sa.String(length=128), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("opened_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", name=op.f("pk_clusters")),
    )
    op.create_table(
        "complaints",
        sa.Column("complaint_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("channel_event_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.String(length=128), nullable=True),
        sa.Column("customer_tier", sa.String(length=16), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column("customer_contact", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("product_id", sa.String(length=128), nullable=True),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("occurred_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True),
        sa.Column("accepted_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True),
        sa.Column(
            "classified_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True
        ),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=128), nullable=True),
        sa.Column("department", sa.String(length=128), nullable=True),
        sa.Column("cluster_id", sa.String(length=128), nullable=True),
        sa.Column("duplicate_of", sa.String(length=128), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("needs_triage", sa.Boolean(), nullable=False),
        sa.Column("model_version", sa.String(length=128), nullable=True),
        sa.Column("classifications", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column(
            "acknowledged_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True
        ),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True),
        sa.Column("closed_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("clocks_version", sa.Integer(), nullable=True),
        sa.Column("policy_version", sa.String(length=128), nullable=True),
        sa.Column("next_step_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True),
        sa.Column("next_clock", sa.String(length=128), nullable=True),
        sa.Column(
            "next_deadline", complaints_console.readmodel.tables.UtcDateTime(), nullable=True
        ),
        sa.Column(
            "last_event_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True
        ),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_complaints")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index("ix_complaints_accepted_at", ["accepted_at"], unique=False)
        batch_op.create_index("ix_complaints_cluster_id", ["cluster_id"], unique=False)
        batch_op.create_index(
            "ix_complaints_queue", ["department", "status", "next_step_at"], unique=False
        )
        batch_op.create_index(
            "ix_complaints_status_closed_at", ["status", "closed_at"], unique=False
        )

    op.create_table(
        "deliveries",
        sa.Column("notification_id", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("escalation_id", sa.String(length=128), nullable=False),
        sa.Column("complaint_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=128), nullable=False),
        sa.Column("receiver", sa.String(length=128), nullable=False),
        sa.Column("at", complaints_console.readmodel.tables.UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("retryable", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("notification_id", "outcome", name=op.f("pk_deliveries")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_escalation_id", ["escalation_id"], unique=False)

    op.create_table(
        "projector_offsets",
        sa.Column("topic", sa.String(length=249), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "partition", name=op.f("pk_projector_offsets")),
    )
    op.create_table(
        "alerts",
        sa.Column("escalation_id", sa.String(length=128), nullable=False),
        sa.Column("complaint_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("clock", sa.String(length=128), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("deadline", complaints_console.readmodel.tables.UtcDateTime(), nullable=False),
        sa.Column(
            "escalated_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=False
        ),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.complaint_id"],
            name=op.f("fk_alerts_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("escalation_id", "complaint_id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_escalated_at", ["escalated_at"], unique=False)

    op.create_table(
        "clocks",
        sa.Column("complaint_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("calendar", sa.String(length=128), nullable=False),
        sa.Column("target_amount", sa.Float(), nullable=False),
        sa.Column("target_unit", sa.String(length=32), nullable=False),
        sa.Column("started_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=False),
        sa.Column("deadline", complaints_console.readmodel.tables.UtcDateTime(), nullable=False),
        sa.Column("stopped_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True),
        sa.Column("budget_s", sa.Float(), nullable=False),
        sa.Column("used_s", sa.Float(), nullable=False),
        sa.Column("outside_working_hours_s", sa.Float(), nullable=False),
        sa.Column("periods", sa.JSON(), nullable=False),
        sa.Column("next_step_at", complaints_console.readmodel.tables.UtcDateTime(), nullable=True),
        sa.Column("next_step", sa.String(length=32), nullable=True),
        sa.Column("as_of", complaints_console.readmodel.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.complaint_id"],
            name=op.f("fk_clocks_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("complaint_id", "name", name=op.f("pk_clocks")),
    )
    with op.batch_alter_table("clocks", schema=None) as batch_op:
        batch_op.create_index("ix_clocks_name_started_at", ["name", "started_at"], unique=False)

    op.create_table(
        "reasons",
        sa.Column("complaint_id", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.complaint_id"],
            name=op.f("fk_reasons_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("complaint_id", "position", name=op.f("pk_reasons")),
    )
    op.create_table(
        "steps",
        sa.Column("step_id", sa.String(length=300), nullable=False),
        sa.Column("complaint_id", sa.String(length=128), nullable=False),
        sa.Column("at", complaints_console.readmodel.tables.UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("department", sa.String(length=128), nullable=True),
        sa.Column("to_department", sa.String(length=128), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.complaint_id"],
            name=op.f("fk_steps_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("step_id", name=op.f("pk_steps")),
    )
    with op.batch_alter_table("steps", schema=None) as batch_op:
        batch_op.create_index("ix_steps_complaint_id_at", ["complaint_id", "at"], unique=False)
        batch_op.create_index("ix_steps_kind_at", ["kind", "at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("steps", schema=None) as batch_op:
        batch_op.drop_index("ix_steps_kind_at")
        batch_op.drop_index("ix_steps_complaint_id_at")

    op.drop_table("steps")
    op.drop_table("reasons")
    with op.batch_alter_table("clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_clocks_name_started_at")

    op.drop_table("clocks")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_escalated_at")

    op.drop_table("alerts")
    op.drop_table("projector_offsets")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_escalation_id")

    op.drop_table("deliveries")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_status_closed_at")
        batch_op.drop_index("ix_complaints_queue")
        batch_op.drop_index("ix_complaints_cluster_id")
        batch_op.drop_index("ix_complaints_accepted_at")

    op.drop_table("complaints")
    op.drop_table("clusters")
    with op.batch_alter_table("cluster_members", schema=None) as batch_op:
        batch_op.drop_index("ix_cluster_members_complaint_id")

    op.drop_table("cluster_members")
