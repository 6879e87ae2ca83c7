"""The peer: the scan-based SLA check helpdesks use, on 1,000,000 open complaints.

    uv run python -m bench.peer_scan [--complaints 1000000] [--intervals 10,60,300]

Open complaints sit in a database table (SQLite from the standard library, on disk, as a
helpdesk's would); a job runs every interval, selects the open, unescalated complaints
whose response deadline has passed, and marks them escalated. Measured here, on the same
machine and in the same run:
- CPU and wall time per scan, on 1,000,000 open complaints, for the two ways such a check
  is written: with the deadline in an indexed column (`WHERE due <= now`: an index range
  scan) and computed in the query from accepted_at and the severity's SLA (a full scan);
  each at an ordinary instant (few due) and at an instant when 10,000 fall due at once;
- the escalation lag it yields: a deadline is noticed at the next scan, so the lag is
  the wait for that scan (uniform over the interval: half the interval on average) plus
  the scan's own time. Computed over the table's 1,000,000 real deadlines per interval.
Ours, for comparison, is the event-driven timer (bench/delivery.py: deadline ->
escalated_at, and escalation's complaints_escalation_fire_lag_seconds), taken from
bench/results/delivery.json when present.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.loadgen import percentile
from bench.record import provenance, write

RESULTS = Path(__file__).parent / "results"
SLA = {"red": 600.0, "yellow": 1800.0, "green": 7200.0}  # the seeds' response SLAs
SPAN = 7 * 24 * 3600.0  # deadlines spread over a week from now


def populate(db: sqlite3.Connection, *, complaints: int, burst: int, burst_at: float) -> None:
    """`complaints` open complaints; `burst` of them due in the same second at burst_at."""
    db.execute(
        "CREATE TABLE complaints (id TEXT PRIMARY KEY, severity TEXT NOT NULL, "
        "status TEXT NOT NULL, department TEXT NOT NULL, accepted_at REAL NOT NULL, "
        "due REAL NOT NULL, escalated INTEGER NOT NULL DEFAULT 0)"
    )
    rng = random.Random(5)
    severities = ["red"] * 2 + ["yellow"] * 3 + ["green"] * 5
    departments = ["payments", "logistics", "after_sales", "quality", "customer_service"]

    def rows() -> Any:
        for i in range(complaints):
            severity = rng.choice(severities)
            due = burst_at + rng.random() if i < burst else rng.uniform(0, SPAN)
            yield (
                f"CMP-{i:08d}",
                severity,
                "open",
                rng.choice(departments),
                due - SLA[severity],
                due,
            )

    db.executemany(
        "INSERT INTO complaints (id, severity, status, department, accepted_at, due) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows(),
    )
    db.execute("CREATE INDEX open_due ON complaints (status, escalated, due)")
    db.commit()


INDEXED = (
    "SELECT id, department FROM complaints WHERE status = 'open' AND escalated = 0 AND due <= ?"
)
COMPUTED = (
    "SELECT id, department FROM complaints WHERE status = 'open' AND escalated = 0 AND "
    "accepted_at + CASE severity WHEN 'red' THEN 600 WHEN 'yellow' THEN 1800 ELSE 7200 END <= ?"
)


def scan(db: sqlite3.Connection, query: str, now: float) -> dict[str, Any]:
    """One run of the job: find the breached ones, mark them escalated; CPU and wall time."""
    cpu, wall = time.process_time(), time.perf_counter()
    found = db.execute(query, (now,)).fetchall()
    db.executemany("UPDATE complaints SET escalated = 1 WHERE id = ?", ((i,) for i, _ in found))
    db.commit()
    return {
        "found": len(found),
        "cpu_ms": round((time.process_time() - cpu) * 1000, 1),
        "wall_ms": round((time.perf_counter() - wall) * 1000, 1),
    }


def lag_for_interval(
    deadlines: list[float], interval: float, scan_seconds: float
) -> dict[str, Any]:
    """Deadline -> noticed, for scans at every multiple of `interval`: wait + scan time."""
    lags = [math.ceil(d / interval) * interval - d + scan_seconds for d in deadlines]
    return {
        "interval_s": interval,
        "mean_s": round(sum(lags) / len(lags), 2),
        "p50_s": round(percentile(lags, 50) or 0, 2),
        "p99_s": round(percentile(lags, 99) or 0, 2),
        "max_s": round(max(lags), 2),
        "scans_per_day": round(86400 / interval),
    }


def ours() -> dict[str, Any] | None:
    """Our event-driven timer's figures from the delivery benchmark's last result."""
    path = RESULTS / "delivery.json"
    if not path.exists():
        return None
    delivery = json.loads(path.read_text())
    return {
        "source": "bench/results/delivery.json (" + delivery.get("date", "?") + ")",
        "deadline_to_escalated_at_ms": delivery.get("deadline_to_escalated_at_ms"),
        "deadline_to_webhook_accepted_ms": delivery.get("deadline_to_webhook_accepted_ms"),
        "escalation_fire_lag_histogram": delivery.get("escalation_fire_lag_histogram"),
    }


def run(*, complaints: int, burst: int, intervals: list[float]) -> dict[str, Any]:
    path = Path(tempfile.mkdtemp(prefix="bench-peer-")) / "helpdesk.sqlite3"
    db = sqlite3.connect(path)
    burst_at = SPAN / 2
    started = time.perf_counter()
    populate(db, complaints=complaints, burst=burst, burst_at=burst_at)
    load_seconds = time.perf_counter() - started
    rng = random.Random(9)
    scans: dict[str, list[dict[str, Any]]] = {"indexed": [], "computed": []}
    # Ordinary instants (about a minute's deadlines due each), then the burst second. Before
    # each, the scans of the past have escalated everything due more than a minute ago.
    instants = sorted(rng.uniform(3600, burst_at - 3600) for _ in range(3))
    for now in [*instants, burst_at + 1.0]:
        db.execute(
            "UPDATE complaints SET escalated = 1 WHERE escalated = 0 AND due <= ?", (now - 60,)
        )
        db.commit()
        for name, query in (("indexed", INDEXED), ("computed", COMPUTED)):
            db.execute(
                "UPDATE complaints SET escalated = 0 WHERE due > ? AND due <= ?", (now - 60, now)
            )
            db.commit()
            result = scan(db, query, now)
            scans[name].append({"at": "burst" if now > burst_at else "ordinary", **result})
    deadlines = [d for (d,) in db.execute("SELECT due FROM complaints")]
    db.close()
    size_mb = path.stat().st_size / 1e6
    path.unlink()
    ordinary_cpu = {
        name: sum(s["cpu_ms"] for s in results if s["at"] == "ordinary")
        / max(1, sum(1 for s in results if s["at"] == "ordinary"))
        / 1000
        for name, results in scans.items()
    }
    worst_scan = {
        name: max(s["wall_ms"] for s in results) / 1000 for name, results in scans.items()
    }
    return {
        "benchmark": "peer-scan",
        "complaints_open": complaints,
        "burst_due_same_second": burst,
        "database": f"SQLite {sqlite3.sqlite_version}, on disk, {size_mb:.0f} MB",
        "load_seconds": round(load_seconds, 1),
        "scans": scans,
        "lag_indexed": [
            lag_for_interval(deadlines, i, worst_scan["indexed"])
            | {"cpu_s_per_day": round(86400 / i * ordinary_cpu["indexed"], 1)}
            for i in intervals
        ],
        "lag_computed": [
            lag_for_interval(deadlines, i, worst_scan["computed"])
            | {"cpu_s_per_day": round(86400 / i * ordinary_cpu["computed"], 1)}
            for i in intervals
        ],
        "ours": ours(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--intervals", default="10,60,300", help="seconds between scans")
    parser.add_argument("--out", type=Path, default=RESULTS / "peer_scan.json")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    result = run(
        complaints=args.complaints,
        burst=args.burst,
        intervals=[float(i) for i in args.intervals.split(",")],
    )
    command = (
        f"uv run python -m bench.peer_scan --complaints {args.complaints} "
        f"--intervals {args.intervals}"
    )
    result |= provenance(command, load_before=load_before, broker=False)
    write(args.out, result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
