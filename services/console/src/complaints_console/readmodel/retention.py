"""Retention: closed complaints older than the setting leave the read model with all they own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, and_, delete, select

from complaints_console.readmodel.tables import PER_COMPLAINT, complaints

PURGE_CHUNK = 500


def purge_closed(engine: Engine, *, before: datetime) -> int:
    """Delete complaints closed before `before` (in chunks); how many were deleted."""
    total = 0
    while True:
        with engine.begin() as conn:
            ids = list(
                conn.execute(
                    select(complaints.c.complaint_id)
                    .where(and_(complaints.c.status == "closed", complaints.c.closed_at < before))
                    .limit(PURGE_CHUNK)
                ).scalars()
            )
            if not ids:
                return total
            for table in PER_COMPLAINT:
                conn.execute(delete(table).where(table.c.complaint_id.in_(ids)))
            conn.execute(delete(complaints).where(complaints.c.complaint_id.in_(ids)))
            total += len(ids)
