"""`complaints report`: the monthly review's figures for a period.

From the console's read model by default (CONSOLE_DATABASE_URL or --database; the same
figures as the console's reports page); from the escalation workers' ops ports with --url
(their complaints in state only, with ESCALATION_STATUS_TOKEN).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

console = Console()
KPI_CLOCKS = (
    ("response_within_sla", "response within SLA"),
    ("resolution_within_sla", "resolution within SLA"),
    ("t3_closure", "T+3 closure"),
)


def merge(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report from several workers' (each answers for its own partitions)."""
    total: dict[str, Any] = {"complaints": 0, "transfers": 0.0, "warnings": 0}
    tallies: dict[str, Counter[str]] = {}
    levels: Counter[str] = Counter()
    departments: Counter[str] = Counter()
    common: Counter[str] = Counter()
    for r in reports:
        total["complaints"] += r["complaints"]
        total["transfers"] += r["transfers_per_complaint"] * r["complaints"]
        total["warnings"] += r["warnings"]
        for key in ("response_within_sla", "resolution_within_sla", "t3_closure"):
            t = tallies.setdefault(key, Counter())
            t.update({k: r[key][k] for k in ("met", "breached", "open")})
        levels.update(r["escalations_by_level"])
        departments.update(r["escalations_by_department"])
        common.update({i["category"]: i["complaints"] for i in r["top_common_issues"]})
    for key, t in tallies.items():
        done = t["met"] + t["breached"]
        total[key] = {**t, "compliance": None if done == 0 else round(t["met"] / done, 4)}
    total["transfers_per_complaint"] = (
        round(total.pop("transfers") / total["complaints"], 4) if total["complaints"] else 0.0
    )
    total["escalations_by_level"] = dict(sorted(levels.items()))
    total["escalations_by_department"] = dict(departments.most_common())
    total["top_common_issues"] = common.most_common(5)
    return total


def report(
    url: Annotated[
        list[str],
        typer.Option(help="Escalation worker ops URL (repeat for each worker) instead of the DB."),
    ] = [],  # noqa: B006 - typer needs a literal default
    token: Annotated[
        str, typer.Option(envvar="ESCALATION_STATUS_TOKEN", help="For --url: the status token.")
    ] = "",
    database: Annotated[
        str,
        typer.Option(envvar="CONSOLE_DATABASE_URL", help="The read model (SQLAlchemy URL)."),
    ] = "sqlite:///.local/dev/console/readmodel.db",
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Day after the last (YYYY-MM-DD).")
    ] = None,
    csv_out: Annotated[
        bool, typer.Option("--csv", help="Print the console's CSV export instead.")
    ] = False,
) -> None:
    """SLA KPIs for complaints accepted in a period (default: the last 30 days)."""
    today = datetime.now(UTC).date()
    first = date.fromisoformat(start) if start else today - timedelta(days=30)
    last = date.fromisoformat(end) if end else today + timedelta(days=1)
    if not url:
        database_report(database, first=first, last=last, csv_out=csv_out)
        return
    reports = []
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for base in url:
        answer = httpx.get(
            f"{base.rstrip('/')}/v1/reports/sla/{first}/{last}", headers=headers, timeout=30
        )
        answer.raise_for_status()
        reports.append(answer.json())
    r = merge(reports)
    table = Table(title=f"SLA {first} .. {last} ({r['complaints']} complaints)")
    for column in ("KPI", "met", "breached", "open", "rate"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    for key, label in KPI_CLOCKS:
        t = r.get(key) or {"met": 0, "breached": 0, "open": 0, "compliance": None}
        rate = "-" if t["compliance"] is None else f"{t['compliance']:.1%}"
        table.add_row(label, str(t["met"]), str(t["breached"]), str(t["open"]), rate)
    console.print(table)
    console.print(f"escalations by level: {r['escalations_by_level']}")
    console.print(f"escalations by department: {r['escalations_by_department']}")
    console.print(
        f"warnings: {r['warnings']}; transfers per complaint: {r['transfers_per_complaint']}"
    )
    console.print(f"top common issues: {r['top_common_issues']}")


def database_report(database: str, *, first: date, last: date, csv_out: bool) -> None:
    """The console's figures (complaints_console.readmodel.reports) printed as tables."""
    import csv
    import sys

    from complaints_console.readmodel.database import engine_for
    from complaints_console.readmodel.reports import report as read_report

    engine = engine_for(database)
    start = datetime.combine(first, datetime.min.time(), UTC)
    end = datetime.combine(last, datetime.min.time(), UTC)
    with engine.connect() as conn:
        r = read_report(conn, start=start, end=end, now=datetime.now(UTC))
    engine.dispose()
    if csv_out:
        csv.writer(sys.stdout).writerows(r.csv_rows())
        return
    table = Table(title=f"SLA {first} .. {last} ({r.complaints} complaints, {database})")
    for column in ("clock", "met", "breached", "open", "rate"):
        table.add_column(column, justify="left" if column == "clock" else "right")
    for name, t in sorted(r.clocks.items()):
        rate = "-" if t.rate is None else f"{t.rate:.1%}"
        table.add_row(name, str(t.met), str(t.breached), str(t.open), rate)
    console.print(table)
    label = {"response": "response within SLA", "closure": "T+3 closure"}
    for key in ("response", "closure"):
        kpi = r.clocks.get(key)
        shown = "-" if kpi is None or kpi.rate is None else f"{kpi.rate:.1%}"
        console.print(f"{label[key]}: {shown}")
    issues = Table(title="top 5 common issues (clusters)")
    for column in ("cluster", "title", "category", "department", "complaints"):
        issues.add_column(column)
    for i in r.top_issues:
        issues.add_row(
            i["cluster_id"],
            i["title"] or "",
            i["category"] or "",
            i["department"] or "",
            str(i["complaints"]),
        )
    console.print(issues)
    departments = Table(title="escalations and transfers by department")
    for column in ("department", "escalations", "warnings", "transfers"):
        departments.add_column(column)
    for d in r.departments:
        departments.add_row(
            d["department"], str(d["escalations"]), str(d["warnings"]), str(d["transfers"])
        )
    console.print(departments)
    console.print(f"breaches by clock: {dict(r.breaches_by_clock())}")
