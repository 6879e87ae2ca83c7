"""Retention: closed complaints older than the setting leave the read model, whole."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select

from complaints_console.readmodel.retention import purge_closed
from complaints_console.readmodel.tables import PER_COMPLAINT, complaints
from complaints_schemas.events import LifecycleAction

from .factories import MIN, T0, breach, classified, project, response_clock, step

DAY = timedelta(days=1)


def test_only_complaints_closed_before_the_cut_are_deleted(engine: Engine) -> None:
    for cid, closed_at in (("OLD", T0 + DAY), ("RECENT", T0 + 400 * DAY)):
        project(
            engine,
            classified(cid),
            response_clock(cid),
            breach(cid, at=T0 + 10 * MIN),
            step(cid, LifecycleAction.CLOSED, at=closed_at),
        )
    project(engine, classified("OPEN"), response_clock("OPEN"))
    assert purge_closed(engine, before=T0 + 365 * DAY) == 1
    with engine.connect() as conn:
        left = set(conn.execute(select(complaints.c.complaint_id)).scalars())
        owned = {
            table.name: conn.execute(
                select(func.count()).select_from(table).where(table.c.complaint_id == "OLD")
            ).scalar()
            for table in PER_COMPLAINT
        }
    assert left == {"RECENT", "OPEN"}
    assert set(owned.values()) == {0}
