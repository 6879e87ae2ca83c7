"""Timers at scale: 1,000,000 open clocks on one escalation worker, over the real broker.

    uv run python -m bench.timers [--clocks 1000000] [--burst 10000] [--lead 60]

One command (a local broker is started unless KAFKA_BOOTSTRAP_SERVERS names one):
1. Open complaints are written to escalation's state changelog exactly as the worker
   writes them: built by the domain from the shipped policy (acknowledged, waiting on
   resolution and T+3 closure: next steps hours away), encoded by the state codec, keyed
   and partitioned like the worker's own records. That is `--clocks - --burst` of them.
2. One escalation worker starts and recovers them: time to ready (first start), RSS.
3. `--burst` red complaints go through the real path (complaints.classified.v1 -> the
   worker), all with their 10-minute response deadline in the same second, `--lead`
   seconds ahead. Fire lag per escalation: its escalated_at, and the broker's timestamp of
   the escalation record, minus the deadline; plus the worker's own fire-lag histogram.
   Escalations are built ahead of their instant, so escalated_at is the instant they were
   built for: the broker's timestamp is the figure that says when each really went out.
4. The worker is killed with SIGKILL and restarted: recovery time to ready.
Baselines in the same run: the same burst on bare asyncio timers (how late a timer is on
this machine), and a bare confluent consumer reading the whole changelog (the floor for
recovery).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import multiprocessing as mp
import os
import pstats
import random
import re
import signal
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka.partitioner import murmur2
from confluent_kafka import Consumer, Producer, TopicPartition

from bench.record import provenance, write
from bench.sim_history import CATEGORIES
from complaints_cli.broker import free_port, kafka_broker
from complaints_cli.processes import ServiceProcess
from complaints_escalation.app import STATE_TABLE, internal_topics
from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.domain.transitions import on_classified, on_lifecycle
from complaints_escalation.outbound import state_codec
from complaints_escalation.outbound.holidays import load_chinese_holidays
from complaints_escalation.outbound.policy_file import load_policy
from complaints_escalation.settings import EscalationSettings
from complaints_kit.kafka import producer_config, provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import decode, encode
from complaints_schemas.events import (
    ComplaintClassified,
    ComplaintEscalated,
    ComplaintLifecycleEvent,
    LifecycleAction,
)
from complaints_schemas.topics import ALL_TOPICS, CLASSIFIED, COMPLAINT_PARTITIONS, ESCALATED

RESULTS = Path(__file__).parent / "results"
POLICY = Path(__file__).resolve().parents[1] / "config" / "escalation" / "policy.yaml"
APP_ID = "complaints-escalation"
CHANGELOG = f"{APP_ID}-{STATE_TABLE}-changelog"


def partition_of(complaint_id: str) -> int:
    """Where the pipeline's producers (murmur2) put this complaint's records."""
    return (murmur2(complaint_id.encode()) & 0x7FFFFFFF) % COMPLAINT_PARTITIONS


def classified_event(cid: str, *, at: datetime, severity: str, n: int) -> ComplaintClassified:
    category, department = CATEGORIES[n % len(CATEGORIES)]
    iso = at.isoformat()
    return ComplaintClassified.model_validate(
        {
            "complaint_id": cid,
            "classified_at": iso,
            "severity": severity,
            "scope": "individual",
            "category": category,
            "department": department,
            "fingerprint": f"{category}.{n % 50}",
            "reasons": [{"decision": "severity", "rule": "bench", "detail": "generated"}],
            "complaint": {
                "channel": "app",
                "channel_event_id": f"ch-{cid}",
                "customer": {"id": f"cust-{n}", "tier": "vip" if n % 20 == 0 else "standard"},
                "title": f"{category} problem",
                "description": "generated for the timer benchmark",
                "occurred_at": iso,
                "complaint_id": cid,
                "accepted_at": iso,
                "language": "zh",
            },
        }
    )


def templates(now: datetime, count: int = 400) -> list[ComplaintState]:
    """Acknowledged open complaints accepted within the last hour, varied in kind and time."""
    policy = load_policy(POLICY, holiday_data=load_chinese_holidays())
    rng = random.Random(7)
    out = []
    for n in range(count):
        at = now - timedelta(seconds=rng.uniform(0, 3600))
        severity = rng.choice(["red", "yellow", "green"])
        state = on_classified(
            None, classified_event("T", at=at, severity=severity, n=n), policy=policy
        ).state
        ack = ComplaintLifecycleEvent(
            event_id=f"ack-{n}",
            complaint_id="T",
            action=LifecycleAction.ACKNOWLEDGED,
            occurred_at=at + timedelta(minutes=3),
        )
        out.append(on_lifecycle(state, ack, policy=policy).state)
    return out


def write_states(bootstrap: str, run_id: str, start: int, stop: int, now_ts: float) -> int:
    """One generator process: encode and produce states [start, stop) to the changelog."""
    shapes = templates(datetime.fromtimestamp(now_ts, UTC))
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "acks": "all",
            "compression.type": "lz4",
            "queue.buffering.max.messages": 500_000,
        }
    )
    for n in range(start, stop):
        cid = f"{run_id}-{n:07d}"
        state = dataclasses.replace(shapes[n % len(shapes)], complaint_id=cid)
        partition = partition_of(cid)
        value = state_codec.encode(state, partition=partition)
        while True:
            try:
                producer.produce(
                    CHANGELOG, key=json.dumps(cid).encode(), value=value, partition=partition
                )
                break
            except BufferError:
                producer.poll(0.05)
        if n % 1000 == 0:
            producer.poll(0)
    producer.flush(120)
    return stop - start


def read_changelog(bootstrap: str) -> tuple[int, float]:
    """The recovery floor: a bare consumer reading the whole changelog."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"floor-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    parts = [TopicPartition(CHANGELOG, p, 0) for p in range(COMPLAINT_PARTITIONS)]
    ends = {
        p: consumer.get_watermark_offsets(TopicPartition(CHANGELOG, p), timeout=10)[1]
        for p in range(COMPLAINT_PARTITIONS)
    }
    started = time.monotonic()
    consumer.assign(parts)
    remaining, count = {p for p, end in ends.items() if end > 0}, 0
    while remaining:
        for msg in consumer.consume(5000, 1.0):
            if msg.error():
                continue
            count += 1
            if msg.offset() >= ends[msg.partition()] - 1:
                remaining.discard(msg.partition())
    elapsed = time.monotonic() - started
    consumer.close()
    return count, elapsed


def bare_timer_lag(burst: int) -> list[float]:
    """How late plain asyncio timers are here: `burst` of them due in the same second."""

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        due0 = time.time() + 1.0
        lags: list[float] = []
        done = loop.create_future()

        def fire(due: float) -> None:
            lags.append(time.time() - due)
            if len(lags) == burst and not done.done():
                done.set_result(None)

        rng = random.Random(3)
        for _ in range(burst):
            due = due0 + rng.random()
            loop.call_at(loop.time() + (due - time.time()), fire, due)
        await done
        return lags

    return asyncio.run(main())


def rss_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def metric(worker: ServiceProcess, name: str) -> float:
    for _ in range(5):
        try:
            text = worker.metrics()
            break
        except httpx.HTTPError:
            time.sleep(1)
    else:
        return float("nan")
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def fire_lag_histogram(worker: ServiceProcess) -> dict[str, float]:
    out = {}
    for line in worker.metrics().splitlines():
        m = re.match(r'complaints_escalation_fire_lag_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def run(args: argparse.Namespace, bootstrap: str, workdir: Path) -> dict[str, Any]:
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    settings = EscalationSettings(app_id=APP_ID, data_dir=workdir / "escalation")
    provision_topics(kafka, [*ALL_TOPICS, *internal_topics(settings)])
    run_id = f"TB{uuid.uuid4().hex[:6]}"
    background = args.clocks - args.burst

    print(f"writing {background:,} open complaints to {CHANGELOG} ...", flush=True)
    started = time.monotonic()
    now_ts = time.time()
    procs = max(1, os.cpu_count() or 1)
    bounds = [background * i // procs for i in range(procs + 1)]
    with mp.get_context("spawn").Pool(procs) as pool:
        written = sum(
            pool.starmap(
                write_states,
                [(bootstrap, run_id, bounds[i], bounds[i + 1], now_ts) for i in range(procs)],
            )
        )
    write_s = time.monotonic() - started
    print(f"  {written:,} states in {write_s:.1f} s", flush=True)
    floor_count, floor_s = read_changelog(bootstrap)
    print(
        f"  bare consumer read the changelog ({floor_count:,} records) in {floor_s:.1f} s",
        flush=True,
    )

    worker = ServiceProcess(
        name="escalation",
        module="escalation",
        port=free_port(),
        env={
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "ESCALATION_DATA_DIR": str(settings.data_dir),
            "ESCALATION_APP_ID": APP_ID,
            "ESCALATION_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            # Static membership: the restarted worker rejoins as the same member at once.
            "ESCALATION_GROUP_INSTANCE_ID": "bench-timers-0",
            **(profile_env(args.profile) if args.profile else {}),
        },
        log_dir=args.logs or workdir,
    )
    worker.start()
    first_ready = worker.wait_ready(timeout=args.timeout)
    assert worker.process is not None
    pid = worker.process.pid
    rebuild_s = metric(worker, "complaints_escalation_index_rebuild_seconds")
    recovered = metric(worker, "complaints_escalation_recovered_states")
    pending = metric(worker, "complaints_escalation_pending_timers")
    memory_ready = rss_mb(pid)
    print(
        f"worker ready after {first_ready:.1f} s (rebuild {rebuild_s:.2f} s, "
        f"{recovered:,.0f} states), "
        f"RSS {memory_ready['VmRSS']:.0f} MB",
        flush=True,
    )

    # The burst through the real path.
    deadline = datetime.fromtimestamp(time.time() + args.lead, UTC).replace(microsecond=0)
    producer = Producer(producer_config(kafka))
    rng = random.Random(11)
    for n in range(args.burst):
        cid = f"{run_id}-B{n:06d}"
        at = deadline - timedelta(minutes=10) + timedelta(microseconds=rng.randrange(1_000_000))
        record = encode(
            classified_event(cid, at=at, severity="red", n=n),
            source="/bench/timers",
            id=f"e-{cid}",
            time=at,
        )
        while True:
            try:
                producer.produce(
                    CLASSIFIED.name, key=record.key, value=record.value, headers=record.headers
                )
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(60)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{run_id}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([ESCALATED.name])
    while metric(worker, 'complaints_escalation_events_total{source="classified"}') < args.burst:
        if time.time() > deadline.timestamp():
            print("  WARNING: the burst was not all classified before its deadline", flush=True)
            break
        consumer.poll(0.5)
    ingested_before_deadline = deadline.timestamp() - time.time()
    print(
        f"  burst of {args.burst:,} ingested, {ingested_before_deadline:.1f} s before the deadline",
        flush=True,
    )

    lags_handled: list[float] = []
    lags_record: list[float] = []
    give_up = time.time() + args.lead + 120
    while len(lags_handled) < args.burst and time.time() < give_up:
        for msg in consumer.consume(1000, 1.0):
            if msg.error():
                continue
            event = decode(ComplaintEscalated, msg.value(), msg.headers() or []).data
            if not event.complaint_id.startswith(f"{run_id}-B"):
                continue
            lags_handled.append((event.escalated_at - event.deadline).total_seconds())
            lags_record.append(msg.timestamp()[1] / 1000 - event.deadline.timestamp())
    consumer.close()
    memory_burst = rss_mb(pid)
    if args.profile:
        print_profile(pid, args.profile)
    histogram = fire_lag_histogram(worker)

    # kill -9 and recover.
    worker.kill()
    worker.start()
    recovery_s = worker.wait_ready(timeout=args.timeout)
    recovered_after_kill = metric(worker, "complaints_escalation_recovered_states")
    assert worker.process is not None
    memory_after = rss_mb(worker.process.pid)
    worker.stop()
    print(
        f"recovered {recovered_after_kill:,.0f} states {recovery_s:.1f} s after SIGKILL", flush=True
    )

    bare = bare_timer_lag(args.burst)
    open_clocks = pending + args.burst  # complaints with a pending step on the worker
    return {
        "benchmark": "timers",
        "clocks": args.clocks,
        "background_states_written": written,
        "write_seconds": round(write_s, 1),
        "first_start_ready_seconds": round(first_ready, 1),
        "index_rebuild_seconds": round(rebuild_s, 2),
        "states_recovered": recovered,
        "pending_timers_at_ready": pending,
        "rss_mb_ready": round(memory_ready["VmRSS"]),
        "rss_mb_after_burst": round(memory_burst["VmRSS"]),
        "rss_mb_peak": round(memory_burst["VmHWM"]),
        "open_complaints_per_gb_rss": round(open_clocks / (memory_burst["VmRSS"] / 1024)),
        "burst": args.burst,
        "burst_escalations_seen": len(lags_handled),
        "burst_ingested_seconds_before_deadline": round(ingested_before_deadline, 1),
        "fire_lag_ms_escalated_at": _summary(lags_handled),
        "fire_lag_ms_record_timestamp": _summary(lags_record),
        "worker_fire_lag_histogram": histogram,
        "recovery_after_sigkill_seconds": round(recovery_s, 1),
        "states_recovered_after_sigkill": recovered_after_kill,
        "rss_mb_after_recovery": round(memory_after["VmRSS"]),
        "baseline_bare_asyncio_timer_lag_ms": _summary(bare),
        "baseline_bare_changelog_read_seconds": round(floor_s, 1),
        "baseline_bare_changelog_records": floor_count,
        "recovery_ratio_to_bare_read": round(recovery_s / floor_s, 1) if floor_s else None,
    }


def profile_env(out: Path) -> dict[str, str]:
    """Run the worker under cProfile (bench/profile_hook); SIGRTMIN+3 writes the statistics."""
    hook = Path(__file__).parent / "profile_hook"
    path = os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {"PYTHONPATH": path, "BENCH_PROFILE_OUT": str(out)}


def print_profile(pid: int, out: Path) -> None:
    """The worker's profile up to the end of the burst (cProfile slows it: figures of a
    profiled run are not the benchmark's)."""
    out.unlink(missing_ok=True)
    os.kill(pid, signal.SIGRTMIN + 3)
    give_up = time.time() + 60
    while not out.exists() and time.time() < give_up:
        time.sleep(0.2)
    if not out.exists():
        print("  WARNING: no profile written", flush=True)
        return
    stats = pstats.Stats(str(out))
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


def _summary(values: list[float]) -> dict[str, float | int]:
    ms = [v * 1000 for v in values]
    if not ms:
        return {"count": 0}
    return {
        "count": len(ms),
        "p50": round(percentile(ms, 50), 1),
        "p99": round(percentile(ms, 99), 1),
        "max": round(max(ms), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument(
        "--lead", type=float, default=60.0, help="seconds from ingest to the burst's deadline"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds a worker may take to be ready"
    )
    parser.add_argument(
        "--logs", type=Path, default=None, help="keep the worker's logs in this directory"
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="profile the worker; statistics to this path"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-timers-") as tmp:
        workdir = Path(tmp)
        with kafka_broker(workdir / "kafka") as bootstrap:
            result = run(args, bootstrap, workdir)
    command = (
        "uv run python -m bench.timers "
        f"--clocks {args.clocks} --burst {args.burst} --lead {args.lead:g}"
    )
    result |= provenance(command, load_before=load_before)
    write(RESULTS / "timers.json", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
