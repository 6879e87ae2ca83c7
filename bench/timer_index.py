"""The escalation timer's due index alone with many open clocks: memory, rebuild, pop.

    uv run python bench/timer_index.py --clocks 1000000 --burst 10000

No broker and no states: it measures the in-process part of the timer (the heap per
partition the worker keeps), the floor under the full benchmark (table recovery from the
changelog and JSON state decoding come on top; see services/escalation/README.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import UTC, datetime, timedelta

from complaints_escalation.scheduling.index import DueIndex


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--burst", type=int, default=10_000, help="due in the same second")
    args = parser.parse_args()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    before = rss_mb()
    index = DueIndex()
    started = time.perf_counter()
    for n in range(args.clocks):
        # The burst falls due in the first second; the rest spread over 30 days.
        due = base + (
            timedelta(microseconds=n * 1_000_000 // args.burst)
            if n < args.burst
            else timedelta(seconds=60 + n * 2_592_000 / args.clocks)
        )
        index.schedule(complaint_id=f"CMP-{n:08d}", partition=n % 6, due_at=due, token=1)
    build_s = time.perf_counter() - started
    rss = rss_mb() - before
    started = time.perf_counter()
    popped = index.pop_due(base + timedelta(seconds=1))
    pop_s = time.perf_counter() - started
    result = {
        "clocks": args.clocks,
        "burst": args.burst,
        "schedule_all_s": round(build_s, 3),
        "schedule_us_each": round(build_s / args.clocks * 1e6, 2),
        "index_rss_mb": round(rss, 1),
        "pop_burst_s": round(pop_s, 4),
        "popped": len(popped),
        "pending_after": len(index),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
