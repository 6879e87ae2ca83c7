"""One page load of a department's 10,000-complaint work queue, on a real PostgreSQL.

Seeds the read model (migrated by Alembic, as the projector does) with `--complaints` open
complaints of one department (each with three clocks and four timeline steps) plus a
quarter as many in other departments, starts the console on loopback (uvicorn, real HTTP),
signs in as that department's owner and times GET /queue (its first page of 50, sorted by
the next step over all 10,000, with the total count). Baselines from the same run: the same
page for an owner whose queue is twelve times smaller, and /healthz (no database).

    uv run python -m bench.console_queue --complaints 10000 --loads 100

Writes bench/results/console_queue.json.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, insert

from bench.record import provenance, write
from complaints_cli.broker import free_port
from complaints_cli.postgres import postgres_server
from complaints_console.readmodel.database import engine_for, migrate
from complaints_console.readmodel.tables import clocks, complaints, steps
from complaints_console.settings import ConsoleSettings
from complaints_console.users_file import load_users
from complaints_console.web.app import build_app
from complaints_console.web.intake import IntakeClient

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "console_queue.json"
USERS = ROOT / "config" / "console" / "users.example.yaml"
CHUNK = 2_000


def seed(engine: Engine, *, complaints_n: int, department: str, now: datetime) -> None:
    """Open complaints with deadlines spread over ±2 days, so the sort has work to do."""
    others = ("logistics", "after_sales", "billing")
    total = complaints_n + complaints_n // 4
    for start in range(0, total, CHUNK):
        rows, clock_rows, step_rows = [], [], []
        for i in range(start, min(total, start + CHUNK)):
            cid = f"BENCH-{i:07d}"
            dept = department if i < complaints_n else others[i % len(others)]
            accepted = now - timedelta(minutes=(i * 7) % 5000)
            deadline = now + timedelta(minutes=((i * 37) % 5760) - 2880)
            rows.append(
                {
                    "complaint_id": cid,
                    "channel": ("app", "hotline", "email", "chat")[i % 4],
                    "customer_id": f"cust-{i}",
                    "customer_tier": "standard",
                    "customer_contact": "138****1234",
                    "title": f"支付失败但银行卡已扣款 #{i}",
                    "description": "提示支付失败，但是银行卡已经扣款 399 元。",
                    "language": "zh",
                    "occurred_at": accepted,
                    "accepted_at": accepted,
                    "classified_at": accepted,
                    "severity": ("red", "yellow", "green")[i % 3],
                    "scope": "individual" if i % 10 else "common",
                    "category": "payment",
                    "department": dept,
                    "cluster_id": f"CL-{i % 50}" if i % 10 == 0 else None,
                    "needs_triage": i % 17 == 0,
                    "classifications": 1,
                    "status": ("open", "acknowledged", "paused")[i % 3],
                    "transfers": 0,
                    "clocks_version": 3,
                    "policy_version": "seeds-2025.1",
                    "next_step_at": deadline,
                    "next_clock": "response",
                    "next_deadline": deadline,
                    "last_event_at": accepted,
                }
            )
            for name, hours in (("response", 0.5), ("resolution", 6), ("closure", 72)):
                clock_rows.append(
                    {
                        "complaint_id": cid,
                        "name": name,
                        "cycle": 0,
                        "state": "running",
                        "calendar": "24x7",
                        "target_amount": hours,
                        "target_unit": "hours",
                        "started_at": accepted,
                        "deadline": deadline + timedelta(hours=hours),
                        "budget_s": hours * 3600,
                        "used_s": 60.0,
                        "outside_working_hours_s": 0.0,
                        "periods": [],
                        "next_step_at": deadline,
                        "next_step": "breach:1",
                        "as_of": accepted,
                    }
                )
            for n, kind in enumerate(("accepted", "classified", "warning", "acknowledged")):
                step_rows.append(
                    {
                        "step_id": f"{kind}:{cid}",
                        "complaint_id": cid,
                        "at": accepted + timedelta(seconds=n),
                        "kind": kind,
                        "actor": "bench",
                        "department": dept,
                        "detail": {},
                        "pending": False,
                    }
                )
        with engine.begin() as conn:
            conn.execute(insert(complaints), rows)
            conn.execute(insert(clocks), clock_rows)
            conn.execute(insert(steps), step_rows)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def serve(app: Any, port: int) -> uvicorn.Server:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("console did not start")
        time.sleep(0.05)
    return server


def signed_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/login", data={"username": username, "password": "demo", "csrf": token.group(1)}
    )
    assert answer.status_code == 303, answer.text
    return client


def timed(client: httpx.Client, path: str, loads: int, *, expect: str | None = None) -> list[float]:
    for _ in range(5):  # warm-up: connections, template cache, plans
        client.get(path)
    out = []
    for _ in range(loads):
        started = time.perf_counter()
        answer = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.status_code
        if expect is not None:
            assert expect in answer.text
    return out


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=100)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    now = datetime.now(UTC)
    with postgres_server() as url:
        engine = engine_for(url)
        migrate(engine)
        seeded = time.monotonic()
        seed(engine, complaints_n=args.complaints, department="payments", now=now)
        seed_s = time.monotonic() - seeded
        port = free_port()
        app = build_app(
            ConsoleSettings(users_file=USERS),
            engine=engine,
            users=load_users(USERS),
            intake=IntakeClient("http://127.0.0.1:9", api_key=""),
            registry=CollectorRegistry(),
        )
        server = serve(app, port)
        base = f"http://127.0.0.1:{port}"
        try:
            owner = signed_in(base, "wang")  # payments: the 10,000
            queue = timed(
                owner, "/queue?lang=en", args.loads, expect=f"{args.complaints} complaints"
            )
            overdue = timed(owner, "/queue?lang=en&f=overdue", args.loads)
            # logistics' owner: a twelfth as many complaints (the same page, small data)
            empty = timed(signed_in(base, "zhao"), "/queue?lang=en", args.loads)
            health = timed(owner, "/healthz", args.loads)
        finally:
            server.should_exit = True
            time.sleep(0.3)
            engine.dispose()
    result = {
        "figure": f"console work queue, first page of one department's {args.complaints} open "
        "complaints, PostgreSQL",
        "complaints_in_department": args.complaints,
        "complaints_total": args.complaints + args.complaints // 4,
        "loads": args.loads,
        "seed_seconds": round(seed_s, 2),
        "queue": summary(queue),
        "queue_overdue_filter": summary(overdue),
        "baseline_small_queue": summary(empty),
        "baseline_healthz": summary(health),
        "ratio_p50_to_small_queue": round(statistics.median(queue) / statistics.median(empty), 2),
        "ratio_p50_to_healthz": round(statistics.median(queue) / statistics.median(health), 2),
        **provenance(
            "uv run python -m bench.console_queue "
            f"--complaints {args.complaints} --loads {args.loads}",
            load_before=load_before,
            broker=False,
        ),
    }
    write(RESULT, result)
    import json

    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
