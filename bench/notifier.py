"""Notifier delivery benchmark: deliveries per second to a local webhook sink, and latency.

A real broker, the notifier as its own process (`python -m complaints_notifier`), and a local
HTTP sink that answers 204 and notes when each escalation arrived. Two phases:

  burst   --burst N escalations produced at once: deliveries/s from the first produce to
          the last arrival (every one signed, POSTed, recorded on notifications.delivered.v1
          and committed).
  paced   --rate R escalations/s for --seconds S: escalated_at -> arrival at the sink,
          p50/p99/max (the escalation instant is stamped when the record is produced).

Baseline in the same run: the same sink driven directly by an httpx client with the same
concurrency (no Kafka, no signing, no outcome records): the ceiling of the sink itself.

    uv run python bench/notifier.py --burst 3000 --rate 50 --seconds 10 [--bootstrap HOST:PORT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Producer

from complaints_cli.broker import free_port, kafka_broker, kafka_version
from complaints_kit.kafka import provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import encode
from complaints_schemas.events import ComplaintEscalated, EscalationKind, Scope, Severity
from complaints_schemas.topics import ALL_TOPICS, ESCALATED

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Sink:
    """Answers 204; records the arrival time of each escalation id (first arrival only)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.posts = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                arrived = time.time()
                try:
                    key = json.loads(body)["data"]["escalation_id"]
                except (ValueError, KeyError, TypeError):
                    key = uuid.uuid4().hex
                with sink.lock:
                    sink.posts += 1
                    sink.arrivals.setdefault(key, arrived)
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/escalations"


def escalation(run: str, i: int, at: datetime) -> ComplaintEscalated:
    return ComplaintEscalated(
        escalation_id=f"bench-{run}-{i}",
        complaint_id=f"c-{run}-{i}",
        kind=EscalationKind.BREACH,
        clock="response",
        level=1,
        deadline=at - timedelta(seconds=1),
        escalated_at=at,
        severity=Severity.RED,
        scope=Scope.INDIVIDUAL,
        category="payment",
        department="payments",
        title="支付失败但银行卡已扣款",
    )


def produce(producer: Producer, events: list[ComplaintEscalated]) -> None:
    for event in events:
        record = encode(event, source="/bench", id=uuid.uuid4().hex, time=event.escalated_at)
        while True:
            try:
                producer.produce(
                    ESCALATED.name, key=record.key, value=record.value, headers=record.headers
                )
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(30)


def wait_all(sink: Sink, ids: list[str], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sink.lock:
            if all(i in sink.arrivals for i in ids):
                return
        time.sleep(0.02)
    raise SystemExit(f"timed out: {sum(i in sink.arrivals for i in ids)}/{len(ids)} arrived")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def direct_baseline(url: str, n: int, concurrency: int) -> float:
    """The sink's own ceiling: n POSTs of a similar body, `concurrency` at a time."""
    body = json.dumps(
        {"type": "x", "data": escalation("direct", 0, datetime.now(UTC)).model_dump(mode="json")}
    ).encode()
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient() as client:

        async def one() -> None:
            async with limit:
                await client.post(url, content=body, headers={"content-type": "application/json"})

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.perf_counter() - started)


def run(bootstrap: str, args: argparse.Namespace) -> dict[str, Any]:
    provision_topics(KafkaSettings(bootstrap_servers=bootstrap), ALL_TOPICS)
    sink = Sink()
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "NOTIFIER_OPS_PORT": str(port),
        "NOTIFIER_WEBHOOK_URL": sink.url,
        "NOTIFIER_WEBHOOK_SECRET": SECRET,
        "NOTIFIER_CONCURRENCY": str(args.concurrency),
        "NOTIFIER_CONSUMER_GROUP": f"bench-{uuid.uuid4().hex[:8]}",
        "NOTIFIER_LOG_LEVEL": "WARNING",
    }
    log = open(Path(tempfile.gettempdir()) / f"bench-notifier-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "complaints_notifier"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"notifier not ready; log: {log.name}")
            time.sleep(0.2)
        producer = Producer(
            {"bootstrap.servers": bootstrap, "linger.ms": 5, "partitioner": "murmur2_random",
             "acks": "all", "enable.idempotence": True}
        )  # fmt: skip
        run_id = uuid.uuid4().hex[:8]

        # Warm-up: connections, first commits.
        warm = [escalation(f"{run_id}w", i, datetime.now(UTC)) for i in range(50)]
        produce(producer, warm)
        wait_all(sink, [e.escalation_id for e in warm], timeout=60)

        # Burst.
        now = datetime.now(UTC)
        burst = [escalation(f"{run_id}b", i, now) for i in range(args.burst)]
        started = time.time()
        produce(producer, burst)
        ids = [e.escalation_id for e in burst]
        wait_all(sink, ids, timeout=600)
        last = max(sink.arrivals[i] for i in ids)
        burst_rate = args.burst / (last - started)

        # Paced: one escalation every 1/rate s, stamped as it is produced.
        paced: list[ComplaintEscalated] = []
        interval = 1 / args.rate
        t0 = time.monotonic()
        for i in range(int(args.rate * args.seconds)):
            target = t0 + i * interval
            if (pause := target - time.monotonic()) > 0:
                time.sleep(pause)
            event = escalation(f"{run_id}p", i, datetime.now(UTC))
            produce_one = encode(
                event, source="/bench", id=uuid.uuid4().hex, time=event.escalated_at
            )
            producer.produce(ESCALATED.name, key=produce_one.key, value=produce_one.value,
                             headers=produce_one.headers)  # fmt: skip
            producer.poll(0)
            paced.append(event)
        producer.flush(30)
        wait_all(sink, [e.escalation_id for e in paced], timeout=120)
        latencies = [sink.arrivals[e.escalation_id] - e.escalated_at.timestamp() for e in paced]
        total_ids = len(warm) + len(burst) + len(paced)
        posts = sink.posts  # before the baseline adds its own
        direct = asyncio.run(direct_baseline(sink.url, args.burst, args.concurrency))
        return {
            "benchmark": "notifier",
            "date": datetime.now(UTC).date().isoformat(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "kafka": kafka_version(),
            "concurrency": args.concurrency,
            "burst": args.burst,
            "burst_deliveries_per_second": round(burst_rate, 1),
            "direct_posts_per_second": round(direct, 1),
            "ratio_to_direct": round(burst_rate / direct, 3),
            "paced_rate": args.rate,
            "paced_count": len(paced),
            "latency_p50_seconds": round(statistics.median(latencies), 4),
            "latency_p99_seconds": round(percentile(latencies, 0.99), 4),
            "latency_max_seconds": round(max(latencies), 4),
            "posts_per_escalation": round(posts / total_ids, 4),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        sink.server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "notifier.json"
    )
    args = parser.parse_args()
    if args.bootstrap:
        result = run(args.bootstrap, args)
    else:
        with tempfile.TemporaryDirectory() as state, kafka_broker(Path(state)) as bootstrap:
            result = run(bootstrap, args)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
