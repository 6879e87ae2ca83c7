"""The monthly review's figures over any period, from the read model (SQL, both databases).

Every figure counts the complaints accepted in [start, end):
- response within SLA: their `response` clocks met / (met + breached);
- T+3 closure: their `closure` clocks likewise;
- a clock is met when it stopped by its deadline, breached when it stopped after it or is
  still running past it at `now`, open otherwise (escalation's own rule);
- top common issues: the clusters with most of these complaints (not categories);
- escalations (breach alerts), warnings and transfers by department: the alert's department,
  and the department a transfer moved the complaint away from;
- breaches by clock: clocks breached, per clock name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from complaints_console.readmodel.tables import alerts, clocks, clusters, complaints, steps

RESPONSE, CLOSURE = "response", "closure"


@dataclass(frozen=True)
class Tally:
    met: int = 0
    breached: int = 0
    open: int = 0

    @property
    def rate(self) -> float | None:
        done = self.met + self.breached
        return None if done == 0 else self.met / done


@dataclass
class Report:
    start: datetime
    end: datetime
    complaints: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    clocks: dict[str, Tally] = field(default_factory=dict)
    top_issues: list[dict[str, Any]] = field(default_factory=list)
    departments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def response(self) -> Tally:
        return self.clocks.get(RESPONSE, Tally())

    @property
    def closure(self) -> Tally:
        return self.clocks.get(CLOSURE, Tally())

    def breaches_by_clock(self) -> list[tuple[str, int]]:
        return sorted(
            ((name, t.breached) for name, t in self.clocks.items()), key=lambda kv: (-kv[1], kv[0])
        )

    def csv_rows(self) -> list[list[str]]:
        """section, key, met, breached, open, rate or count: one table for spreadsheets."""
        rows = [["section", "key", "met", "breached", "open", "value"]]
        rows.append(["period", f"{self.start.isoformat()}/{self.end.isoformat()}", "", "", "", ""])
        rows.append(["complaints", "all", "", "", "", str(self.complaints)])
        for severity, n in sorted(self.by_severity.items()):
            rows.append(["complaints", severity, "", "", "", str(n)])
        for name, t in sorted(self.clocks.items()):
            rate = "" if t.rate is None else f"{t.rate:.4f}"
            rows.append(["clock", name, str(t.met), str(t.breached), str(t.open), rate])
        for issue in self.top_issues:
            rows.append(["top_issue", issue["cluster_id"], "", "", "", str(issue["complaints"])])
        for d in self.departments:
            for key in ("escalations", "warnings", "transfers"):
                rows.append([key, d["department"], "", "", "", str(d[key])])
        return rows


def report(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    departments: Sequence[str] | None = None,
) -> Report:
    """The figures for complaints accepted in [start, end), of `departments` (None: all)."""
    in_period = and_(complaints.c.accepted_at >= start, complaints.c.accepted_at < end)
    if departments is not None:
        in_period = and_(in_period, complaints.c.department.in_(list(departments)))
    out = Report(start=start, end=end)
    for severity, n in conn.execute(
        select(complaints.c.severity, func.count())
        .where(and_(in_period, complaints.c.classified_at.is_not(None)))
        .group_by(complaints.c.severity)
    ):
        out.by_severity[severity or "unclassified"] = int(n)
    out.complaints = sum(out.by_severity.values())

    outcome = case(
        (
            clocks.c.stopped_at.is_not(None),
            case((clocks.c.stopped_at <= clocks.c.deadline, "met"), else_="breached"),
        ),
        (and_(clocks.c.state == "running", clocks.c.deadline <= now), "breached"),
        else_="open",
    ).label("outcome")
    tallies: dict[str, dict[str, int]] = {}
    for name, result, n in conn.execute(
        select(clocks.c.name, outcome, func.count())
        .join(complaints, complaints.c.complaint_id == clocks.c.complaint_id)
        .where(in_period)
        .group_by(clocks.c.name, outcome)
    ):
        tallies.setdefault(name, {})[result] = int(n)
    out.clocks = {
        name: Tally(met=t.get("met", 0), breached=t.get("breached", 0), open=t.get("open", 0))
        for name, t in tallies.items()
    }

    members = func.count(complaints.c.complaint_id).label("members")
    for row in conn.execute(
        select(
            complaints.c.cluster_id,
            clusters.c.title,
            clusters.c.category,
            clusters.c.department,
            members,
        )
        .join(clusters, clusters.c.cluster_id == complaints.c.cluster_id)
        .where(and_(in_period, complaints.c.cluster_id.is_not(None)))
        .group_by(
            complaints.c.cluster_id, clusters.c.title, clusters.c.category, clusters.c.department
        )
        .order_by(members.desc(), complaints.c.cluster_id)
        .limit(5)
    ):
        out.top_issues.append(
            {
                "cluster_id": row.cluster_id,
                "title": row.title,
                "category": row.category,
                "department": row.department,
                "complaints": int(row.members),
            }
        )

    per: dict[str, dict[str, int]] = {}
    for department, kind, n in conn.execute(
        select(alerts.c.department, alerts.c.kind, func.count())
        .join(complaints, complaints.c.complaint_id == alerts.c.complaint_id)
        .where(in_period)
        .group_by(alerts.c.department, alerts.c.kind)
    ):
        key = "escalations" if kind == "breach" else "warnings"
        per.setdefault(department, {})[key] = int(n)
    for department, n in conn.execute(
        select(steps.c.department, func.count())
        .join(complaints, complaints.c.complaint_id == steps.c.complaint_id)
        .where(and_(in_period, steps.c.kind == "transferred"))
        .group_by(steps.c.department)
    ):
        per.setdefault(department or "unknown", {})["transfers"] = int(n)
    out.departments = [
        {
            "department": d,
            "escalations": v.get("escalations", 0),
            "warnings": v.get("warnings", 0),
            "transfers": v.get("transfers", 0),
        }
        for d, v in sorted(per.items(), key=lambda kv: (-kv[1].get("escalations", 0), kv[0]))
    ]
    return out
