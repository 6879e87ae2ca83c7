"""Generates a complaint history (classified + lifecycle JSON Lines) for `complaints simulate`.

    uv run python bench/sim_history.py --complaints 100000 --out /tmp/history.jsonl

Deterministic for a seed. Complaints arrive over `--days` from 2025-01-02 (crossing Spring
Festival); most are acknowledged, resolved and closed, some late, some paused and resumed,
transferred or reopened.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2025, 1, 2, tzinfo=UTC)
CATEGORIES = [
    ("payment", "payments"),
    ("refund", "payments"),
    ("delivery", "logistics"),
    ("quality", "product"),
    ("service_attitude", "customer_service"),
    ("account", "customer_service"),
]


def complaint(rng: random.Random, n: int, at: datetime) -> dict[str, Any]:
    category, department = rng.choice(CATEGORIES)
    severity = rng.choices(["red", "yellow", "green"], weights=[1, 3, 6])[0]
    scope = rng.choices(["individual", "common", "risk"], weights=[90, 9, 1])[0]
    cid = f"SIM-{n:07d}"
    iso = at.isoformat()
    return {
        "complaint_id": cid,
        "classified_at": iso,
        "severity": severity,
        "scope": scope,
        "category": category,
        "department": department,
        "fingerprint": f"{category}.{rng.randrange(50)}",
        "cluster_id": f"cluster.{category}" if scope == "common" else None,
        "reasons": [{"decision": "severity", "rule": "sim", "detail": "generated"}],
        "complaint": {
            "channel": "app",
            "channel_event_id": f"ch-{cid}",
            "customer": {
                "id": f"cust-{rng.randrange(10**6)}",
                "tier": "vip" if rng.random() < 0.05 else "standard",
            },
            "title": f"{category} problem",
            "description": "generated for the simulation benchmark",
            "occurred_at": iso,
            "complaint_id": cid,
            "accepted_at": iso,
            "language": "zh",
        },
    }


def lifecycle(cid: str, action: str, at: datetime, k: int, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"{cid}-{k}",
        "complaint_id": cid,
        "action": action,
        "occurred_at": at.isoformat(),
        **extra,
    }


def history(
    count: int, *, days: int, seed: int, start: datetime = START, daily: bool = False
) -> list[tuple[datetime, str, dict[str, Any]]]:
    """`count` complaints at random instants over `days` from `start`, or one a day (daily)."""
    rng = random.Random(seed)
    out: list[tuple[datetime, str, dict[str, Any]]] = []
    span = days * 86400
    for n in range(count):
        at = start + (timedelta(days=n) if daily else timedelta(seconds=rng.randrange(span)))
        c = complaint(rng, n, at)
        cid = c["complaint_id"]
        out.append((at, "classified", c))
        t, k = at, 0

        def step(action: str, after: timedelta, cid: str = cid, **extra: Any) -> None:
            nonlocal t, k
            t, k = t + after, k + 1
            out.append((t, "lifecycle", lifecycle(cid, action, t, k, **extra)))

        if rng.random() < 0.95:
            step("acknowledged", timedelta(minutes=rng.expovariate(1 / 12)))
        if rng.random() < 0.1:
            step("paused", timedelta(minutes=rng.randrange(5, 120)))
            step("resumed", timedelta(hours=rng.expovariate(1 / 20)))
        if rng.random() < 0.08:
            other = rng.choice([d for _, d in CATEGORIES if d != c["department"]])
            step("transferred", timedelta(minutes=rng.randrange(5, 240)), to_department=other)
        if rng.random() < 0.9:
            step("resolved", timedelta(hours=rng.expovariate(1 / 4)))
            if rng.random() < 0.05:
                step("reopened", timedelta(hours=rng.randrange(1, 48)))
                step("resolved", timedelta(hours=rng.expovariate(1 / 3)))
            if rng.random() < 0.9:
                step("closed", timedelta(hours=rng.expovariate(1 / 30)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=datetime.fromisoformat, default=START)
    parser.add_argument("--daily", action="store_true", help="one complaint a day from --start")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    events = history(
        args.complaints, days=args.days, seed=args.seed, start=args.start, daily=args.daily
    )
    events.sort(key=lambda e: e[0])
    with args.out.open("w", encoding="utf-8") as f:
        for _, kind, data in events:
            f.write(json.dumps({"type": kind, "data": data}, ensure_ascii=False) + "\n")
    print(f"{len(events)} events for {args.complaints} complaints -> {args.out}")


if __name__ == "__main__":
    main()
