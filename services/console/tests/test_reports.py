"""Report figures against a hand-computed fixture, on SQLite and on PostgreSQL.

Period March 2025, now 10 April. Complaints (accepted in March unless said):
  R1 payments red      response stopped by deadline (met)   closure stopped by deadline (met)  CL-B
  R2 payments red      response stopped late (breached)      closure running, past due (breached)
                       one breach alert (payments)                                          CL-A
  R3 logistics yellow  response running, past due (breached) closure paused (open)
                       breach alerts level 1 and 2 and a warning (logistics)                CL-A
  R4 green             response met; closure stopped late (breached); transferred
                       payments -> logistics                                                CL-A
  R6 payments red      response running, deadline after now (open); no closure clock        CL-B
  R5 (February)        breached, a breach alert, cluster CL-A: outside the period, not counted
By hand: 5 complaints (red 3, yellow 1, green 1); response met 2, breached 2, open 1, rate 0.5;
closure met 1, breached 2, open 1, rate 1/3; top issues CL-A 3, CL-B 2; payments 1 escalation,
1 transfer; logistics 2 escalations, 1 warning; breaches by clock: closure 2, response 2.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from complaints_console.readmodel.reports import report
from complaints_schemas.events import (
    ClockState,
    ClockView,
    ComplaintClocksUpdated,
    ComplaintEscalated,
    EscalationKind,
    LifecycleAction,
    Scope,
    Severity,
)

from .factories import classified, project, step

MARCH = datetime(2025, 3, 1, tzinfo=UTC)
APRIL = datetime(2025, 4, 1, tzinfo=UTC)
NOW = datetime(2025, 4, 10, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def clock(
    name: str,
    start: datetime,
    budget: timedelta,
    *,
    stopped: datetime | None = None,
    paused: bool = False,
) -> ClockView:
    state = ClockState.STOPPED if stopped else (ClockState.PAUSED if paused else ClockState.RUNNING)
    return ClockView(
        name=name,
        state=state,
        calendar="24x7",
        target_amount=budget.total_seconds(),
        target_unit="minutes",
        started_at=start,
        deadline=start + budget,
        stopped_at=stopped,
        budget_s=budget.total_seconds(),
        used_s=0.0,
    )


def clocks(cid: str, *views: ClockView) -> ComplaintClocksUpdated:
    return ComplaintClocksUpdated(
        complaint_id=cid, version=1, updated_at=NOW, status="open", clocks=views
    )


def alert(cid: str, department: str, *, level: int = 1, kind: str = "breach") -> ComplaintEscalated:
    return ComplaintEscalated(
        escalation_id=f"E-{cid}-{kind}-{level}",
        complaint_id=cid,
        kind=EscalationKind(kind),
        clock="response",
        level=level,
        deadline=MARCH,
        escalated_at=MARCH + 5 * D,
        severity=Severity.RED,
        scope=Scope.INDIVIDUAL,
        category="c",
        department=department,
        title="t",
    )


def fixture(engine: Engine) -> None:
    r1, r2, r3, r4, r5, r6 = (
        MARCH + 2 * D,
        MARCH + 3 * D,
        MARCH + 4 * D,
        MARCH + 5 * D,
        MARCH - 2 * D,
        MARCH + 9 * D,
    )
    project(
        engine,
        classified("R1", at=r1, cluster_id="CL-B"),
        clocks(
            "R1",
            clock(
                "response",
                r1,
                10 * 60 * timedelta(seconds=1),
                stopped=r1 + 5 * timedelta(minutes=1),
            ),
            clock("closure", r1, 3 * D, stopped=r1 + 2 * D),
        ),
        classified("R2", at=r2, cluster_id="CL-A"),
        clocks(
            "R2",
            clock("response", r2, 10 * timedelta(minutes=1), stopped=r2 + H),
            clock("closure", r2, 3 * D),
        ),
        alert("R2", "payments"),
        classified(
            "R3", at=r3, severity=Severity.YELLOW, department="logistics", cluster_id="CL-A"
        ),
        clocks("R3", clock("response", r3, H), clock("closure", r3, 3 * D, paused=True)),
        alert("R3", "logistics"),
        alert("R3", "logistics", level=2),
        alert("R3", "logistics", kind="warning", level=0),
        classified("R4", at=r4, severity=Severity.GREEN, cluster_id="CL-A"),
        step("R4", LifecycleAction.TRANSFERRED, at=r4 + H, to_department="logistics"),
        clocks(
            "R4",
            clock("response", r4, 2 * H, stopped=r4 + timedelta(minutes=1)),
            clock("closure", r4, 3 * D, stopped=r4 + 4 * D),
        ),
        classified("R5", at=r5, cluster_id="CL-A"),
        clocks("R5", clock("response", r5, H)),
        alert("R5", "payments"),
        classified("R6", at=r6, cluster_id="CL-B"),
        clocks("R6", clock("response", r6, 60 * D)),
    )


def test_report_matches_the_hand_computed_fixture(engine: Engine) -> None:
    fixture(engine)
    with engine.connect() as conn:
        r = report(conn, start=MARCH, end=APRIL, now=NOW)
    assert r.complaints == 5
    assert r.by_severity == {"red": 3, "yellow": 1, "green": 1}
    assert (r.response.met, r.response.breached, r.response.open) == (2, 2, 1)
    assert r.response.rate == 0.5
    assert (r.closure.met, r.closure.breached, r.closure.open) == (1, 2, 1)
    assert r.closure.rate is not None
    assert abs(r.closure.rate - 1 / 3) < 1e-9
    assert [(i["cluster_id"], i["complaints"]) for i in r.top_issues] == [("CL-A", 3), ("CL-B", 2)]
    assert r.departments == [
        {"department": "logistics", "escalations": 2, "warnings": 1, "transfers": 0},
        {"department": "payments", "escalations": 1, "warnings": 0, "transfers": 1},
    ]
    assert r.breaches_by_clock() == [("closure", 2), ("response", 2)]
    csv = r.csv_rows()
    assert ["clock", "response", "2", "2", "1", "0.5000"] in csv
    assert ["top_issue", "CL-A", "", "", "", "3"] in csv


def test_an_empty_period_has_no_rates(engine: Engine) -> None:
    fixture(engine)
    with engine.connect() as conn:
        r = report(conn, start=APRIL, end=APRIL + 30 * D, now=NOW)
    assert r.complaints == 0
    assert r.response.rate is None
    assert r.top_issues == []
