"""Sustained complaints per second through intake -> classifier -> escalation state, on the
Kafka path and the HTTP batch path, as a ratio to the floor pipeline measured in the same
run on the same broker; with a py-spy profile of every service kept beside the result.

    uv run python -m bench.throughput [--complaints 3000] [--no-profile]

One command: starts a broker (or uses KAFKA_BOOTSTRAP_SERVERS), measures the floor
(bench/floor.py), starts the four services as processes (complaints_cli.stack), then:
- Kafka path: the load generator publishes N complaints to complaints.submitted.v1 as fast
  as it can (CloudEvents binary mode, as channels do);
- HTTP batch path: N more complaints POSTed to /v1/complaints/batch in batches of 500,
  four requests in flight.
Each figure is N / seconds from the first send until the escalation service has taken
in the Nth classification (its complaints_escalation_events_total{source="classified"},
read from /metrics: the external interface, not its internals), and the classifier's own
rate (first send -> its Nth decision, from its classified counter); "steady" is the rate
between 10 % and 90 % of that, leaving out warm-up and tail. Profiles are collapsed stacks
(bench/results/profiles/<path>-<service>.txt) with their top costs in the JSON result.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench import profiles
from bench.floor import run as floor_run
from bench.loadgen import LoadConfig
from bench.loadgen import run as loadgen_run
from bench.record import provenance, write
from complaints_cli.broker import kafka_broker
from complaints_cli.stack import Stack

RESULTS = Path(__file__).parent / "results"


def classified_taken(stack: Stack) -> float:
    """How many classifications the escalation service has taken in (from its /metrics)."""
    for attempt in range(20):
        try:
            text = stack.services["escalation"].metrics()
            break
        except httpx.HTTPError:
            # A scrape can fail under load (the due-index gauge is read from a worker
            # thread while the loop changes it): try again, as Prometheus would.
            if attempt == 19:
                raise
            time.sleep(0.05)
    found = re.findall(
        r'^complaints_escalation_events_total\{source="classified"\} (\S+)$', text, re.M
    )
    return float(found[0]) if found else 0.0


def classifier_output(stack: Stack) -> float:
    """How many decisions the classifier has published (its classified counter, summed)."""
    text = stack.services["classifier"].metrics()
    found = re.findall(r"^complaints_classifier_classified_total\{[^}]*\} (\S+)$", text, re.M)
    return sum(float(v) for v in found)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_cpu(stack: Stack) -> dict[str, float]:
    return {
        name: cpu_seconds(proc.process.pid)
        for name, proc in stack.services.items()
        if proc.process is not None
    }


def steady_rate(samples: list[tuple[float, float]], total: int) -> float | None:
    """Complaints/s between the instants 10 % and 90 % of `total` had arrived."""

    def when(share: float) -> float | None:
        return next((t for t, n in samples if n >= share * total), None)

    start, end = when(0.1), when(0.9)
    if start is None or end is None or end <= start:
        return None
    return 0.8 * total / (end - start)


def measure_path(
    stack: Stack,
    *,
    name: str,
    load: LoadConfig,
    timeout: float,
    profile_dir: Path | None,
) -> dict[str, Any]:
    """Send `load` in a thread; watch escalation's counter until all arrived or time is up."""
    recordings = []
    if profile_dir is not None:
        for service, proc in stack.services.items():
            assert proc.process is not None
            recording = profiles.record(
                name=service,
                pid=proc.process.pid,
                out=profile_dir / f"{name}-{service}.txt",
                seconds=timeout + 10,
            )
            if recording is not None:
                recordings.append(recording)
    before = classified_taken(stack)
    classified_before = classifier_output(stack)
    classified_done_at: float | None = None
    cpu_before = service_cpu(stack)
    sent: dict[str, Any] = {}
    sender = threading.Thread(target=lambda: sent.update(loadgen_run(load)), daemon=True)
    started = time.perf_counter()
    sender.start()
    samples: list[tuple[float, float]] = []
    with Progress(
        TextColumn(f"[bold]{name}[/]: reached escalation"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total}"),
        TimeElapsedColumn(),
    ) as progress:
        bar = progress.add_task(name, total=load.count)
        done = 0.0
        while done < load.count and time.perf_counter() - started < timeout:
            time.sleep(0.25)
            done = classified_taken(stack) - before
            now = time.perf_counter() - started
            if classified_done_at is None and (
                classifier_output(stack) - classified_before >= load.count
            ):
                classified_done_at = now  # the classifier's own stage is through
            samples.append((now, done))
            progress.update(bar, completed=done)
    elapsed = samples[-1][0]
    cpu = {k: v - cpu_before[k] for k, v in service_cpu(stack).items()}
    sender.join(30)
    costs = {}
    for recording in recordings:
        path = recording.stop()
        if path is not None:
            costs[recording.name] = profiles.top_costs(path)
    rate = done / elapsed
    steady = steady_rate(samples, load.count)
    return {
        "path": name,
        "complaints": load.count,
        "reached_escalation": int(done),
        "seconds": round(elapsed, 2),
        "complaints_per_second": round(rate, 1),
        "steady_complaints_per_second": round(steady, 1) if steady else None,
        # The classifier alone: first send -> its last decision published (None: not within
        # the time; after the HTTP path also counts complaints the first path left).
        "classified_per_second": (
            round(load.count / classified_done_at, 1) if classified_done_at else None
        ),
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "cpu_ms_per_complaint": {k: round(1000 * v / max(done, 1), 2) for k, v in cpu.items()},
        "cpu_share_of_one_core": {k: round(v / elapsed, 2) for k, v in cpu.items()},
        "sender": {k: sent.get(k) for k in ("achieved_rate", "ok", "errors", "error_kinds")},
        "profiles": costs,
    }


def run(
    bootstrap: str, *, complaints: int, timeout: float, floor_messages: int, profile: bool
) -> dict[str, Any]:
    floor = floor_run(bootstrap, floor_messages, 1200)
    print(json.dumps(floor))
    stack = Stack(bootstrap=bootstrap, workdir=Path(tempfile.mkdtemp(prefix="bench-stack-")))
    profile_dir = RESULTS / "profiles" if profile else None
    paths = []
    try:
        stack.start()
        kafka = LoadConfig(via="kafka", bootstrap=bootstrap)
        batch = LoadConfig(
            via="http-batch",
            intake_url=stack.services["intake"].base_url,
            batch_size=500,
            concurrency=4,
            seed=8,
        )
        for load in (kafka, batch):  # as fast as it goes, no acks: intake to state only
            load.count, load.rate, load.seconds, load.progress = complaints, 1e6, timeout, False
            load.ack_share = 0.0
        for name, load in (("kafka", kafka), ("http-batch", batch)):
            result = measure_path(
                stack, name=name, load=load, timeout=timeout, profile_dir=profile_dir
            )
            result["ratio_to_floor"] = round(
                result["complaints_per_second"] / floor["messages_per_second"], 4
            )
            if result["classified_per_second"] is not None:
                result["classified_ratio_to_floor"] = round(
                    result["classified_per_second"] / floor["messages_per_second"], 4
                )
            print(json.dumps({k: v for k, v in result.items() if k != "profiles"}))
            paths.append(result)
    finally:
        stack.stop()
    return {
        "benchmark": "throughput",
        "floor": floor,
        "paths": paths,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--complaints", type=int, default=3000, help="per path")
    parser.add_argument("--timeout", type=float, default=75, help="seconds per path at most")
    parser.add_argument("--floor-messages", type=int, default=30_000)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "throughput.json")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with kafka_broker(Path(tempfile.mkdtemp(prefix="bench-kafka-"))) as bootstrap:
        result = run(
            bootstrap,
            complaints=args.complaints,
            timeout=args.timeout,
            floor_messages=args.floor_messages,
            profile=not args.no_profile,
        )
    command = (
        "uv run python -m bench.throughput "
        + f"--complaints {args.complaints} --timeout {args.timeout:g}"
    )
    result |= provenance(command, load_before=load_before)
    write(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k != "paths"}))


if __name__ == "__main__":
    main()
