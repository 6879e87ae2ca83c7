"""Open-loop load generator: realistic complaint traffic at a target rate, to intake or Kafka.

Sends are scheduled by the clock (send i at start + i / rate) and never wait for an
answer before the next one, so a slow pipeline shows up as latency and as a lower
achieved rate, not as a politely slowed generator. Traffic: Chinese and English complaints
across the categories (bench/complaint_text.py), bursts of alike complaints (same product,
problem and region: common clusters in the making), a VIP share, and acknowledgements a
realistic delay after a complaint (lognormal), some never.

    uv run python -m bench.loadgen --via http --rate 200 --count 2000 --intake-url URL
    uv run python -m bench.loadgen --via http-batch --batch-size 100 --rate 1000 ...
    uv run python -m bench.loadgen --via kafka --rate 1000 --count 10000 --bootstrap HOST:PORT

Bounded in count and time (--count, --seconds); loopback targets only. Prints and writes
a JSON result: requested and achieved rate, how far sends slipped behind their schedule,
answer latency (measured from the scheduled instant), errors, VIPs, bursts, acks.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import ipaddress
import json
import math
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from confluent_kafka import KafkaError, Message, Producer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench.complaint_text import complaint_body, random_cluster
from complaints_kit.kafka import producer_config
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import ComplaintLifecycleEvent, ComplaintSubmitted, LifecycleAction
from complaints_schemas.topics import LIFECYCLE, SUBMITTED

MAX_COUNT = 1_000_000
MAX_SECONDS = 600.0


@dataclass
class LoadConfig:
    """What to send, how fast, and where."""

    via: str = "http"  # http | http-batch | kafka
    rate: float = 100.0  # complaints per second
    count: int = 1000
    seconds: float = 60.0  # hard bound on the sending phase
    batch_size: int = 100
    intake_url: str = "http://127.0.0.1:8080"
    bootstrap: str = "127.0.0.1:9092"
    vip_share: float = 0.05
    burst_share: float = 0.2  # share of complaints that arrive in bursts of alike ones
    burst_size: int = 8  # >= the classifier's common threshold (5)
    ack_share: float = 0.7  # the others are never acknowledged
    ack_median_seconds: float = 5.0
    ack_sigma: float = 0.8
    concurrency: int = 256  # HTTP requests in flight at most
    drain_seconds: float = 30.0  # time allowed after the last send for answers and acks
    seed: int = 7
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    progress: bool = True


@dataclass
class Tally:
    """What happened, filled in while sending."""

    scheduled: int = 0
    sent: int = 0
    ok: int = 0
    duplicates: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    vip: int = 0
    bursts: int = 0
    in_bursts: int = 0
    acks_planned: int = 0
    acks_sent: int = 0
    acks_ok: int = 0
    acks_unsent: int = 0  # planned but due after the run's bound
    never_acked: int = 0
    slip: list[float] = field(default_factory=list)  # actual send - scheduled, seconds
    latency: list[float] = field(default_factory=list)  # answer - scheduled, seconds
    first_send: float = 0.0
    last_send: float = 0.0
    sent_at: dict[str, float] = field(default_factory=dict)  # complaint id -> wall clock

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


def require_loopback(host: str) -> None:
    """Refuse any target that is not this machine: a benchmark must never load a real system."""
    if host in {"localhost", "127.0.0.1", "::1"}:
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing non-loopback target {host!r}: the load generator is local only")


def check_targets(config: LoadConfig) -> None:
    if config.via == "kafka":
        for server in config.bootstrap.split(","):
            require_loopback(server.rsplit(":", 1)[0].strip("[]"))
    else:
        require_loopback(urlsplit(config.intake_url).hostname or "")
    if not (0 < config.count <= MAX_COUNT and 0 < config.seconds <= MAX_SECONDS):
        raise SystemExit(f"count must be 1..{MAX_COUNT}, seconds 0..{MAX_SECONDS}")


def complaint_id(channel: str, channel_event_id: str) -> str:
    """Intake's documented id rule (deterministic, so a resend is a duplicate): CMP-uuid5."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "urn:complaints:intake")
    return "CMP-" + uuid.uuid5(namespace, f"{channel}\x1f{channel_event_id}").hex


class Traffic:
    """The stream of complaint bodies: bursts of alike ones, a VIP share, random otherwise."""

    def __init__(self, config: LoadConfig, tally: Tally) -> None:
        self.config = config
        self.tally = tally
        self.rng = random.Random(config.seed)
        self._burst_left = 0
        self._cluster = random_cluster(self.rng)
        self._seq = 0

    def next_body(self) -> dict[str, Any]:
        cfg, rng = self.config, self.rng
        if self._burst_left == 0 and rng.random() < cfg.burst_share / cfg.burst_size:
            self._burst_left = cfg.burst_size
            self._cluster = random_cluster(rng)
            self.tally.bursts += 1
        cluster = None
        if self._burst_left:
            self._burst_left -= 1
            self.tally.in_bursts += 1
            cluster = self._cluster
        vip = rng.random() < cfg.vip_share
        self.tally.vip += vip
        body = complaint_body(
            rng,
            seq=self._seq,
            run_id=cfg.run_id,
            occurred_at=datetime.now(UTC).isoformat(),
            vip=vip,
            cluster=cluster,
        )
        self._seq += 1
        return body

    def ack_delay(self) -> float | None:
        """Seconds until this complaint is acknowledged, or None: never."""
        if self.rng.random() >= self.config.ack_share:
            return None
        return self.rng.lognormvariate(
            math.log(self.config.ack_median_seconds), self.config.ack_sigma
        )


class Sender:
    """Where complaints and acknowledgements go: intake over HTTP, or Kafka."""

    async def send(self, bodies: list[dict[str, Any]], scheduled: float) -> None:
        raise NotImplementedError

    async def ack(self, complaint: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Wait for what is in flight (bounded by the drain time)."""


class HttpSender(Sender):
    def __init__(self, config: LoadConfig, tally: Tally) -> None:
        self.config, self.tally = config, tally
        limits = httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=64)
        self.client = httpx.AsyncClient(
            base_url=config.intake_url, limits=limits, timeout=httpx.Timeout(30.0)
        )
        self.inflight: set[asyncio.Task[None]] = set()
        self.slots = asyncio.Semaphore(config.concurrency)

    async def send(self, bodies: list[dict[str, Any]], scheduled: float) -> None:
        await self.slots.acquire()  # the only back pressure: a cap on open requests
        task = asyncio.create_task(self._post(bodies, scheduled))
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)

    async def _post(self, bodies: list[dict[str, Any]], scheduled: float) -> None:
        tally = self.tally
        try:
            if self.config.via == "http-batch":
                response = await self.client.post("/v1/complaints/batch", json=bodies)
            else:
                response = await self.client.post("/v1/complaints", json=bodies[0])
        except httpx.HTTPError as exc:
            for _ in bodies:
                tally.error(type(exc).__name__)
            return
        finally:
            self.slots.release()
        tally.latency.append(time.perf_counter() - scheduled)
        if response.status_code != 202:
            for _ in bodies:
                tally.error(f"http_{response.status_code}")
            return
        answer = response.json()
        if self.config.via == "http-batch":
            for item in answer["results"]:
                if item["status"] == 202:
                    tally.ok += 1
                    tally.duplicates += bool(item.get("duplicate"))
                else:
                    tally.error(f"batch_item_{item['status']}")
        else:
            tally.ok += 1
            tally.duplicates += bool(answer.get("duplicate"))

    async def ack(self, complaint: str) -> None:
        self.tally.acks_sent += 1
        await self.slots.acquire()
        task = asyncio.create_task(self._post_ack(complaint))
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)

    async def _post_ack(self, complaint: str) -> None:
        body = {"action": "acknowledged", "actor": "loadgen-agent"}
        try:
            response = await self.client.post(f"/v1/complaints/{complaint}/events", json=body)
        except httpx.HTTPError:
            return
        finally:
            self.slots.release()
        self.tally.acks_ok += response.status_code == 202

    async def close(self) -> None:
        if self.inflight:
            await asyncio.wait(set(self.inflight), timeout=self.config.drain_seconds)
        await self.client.aclose()


class KafkaSender(Sender):
    """Publishes as a channel does: CloudEvents binary mode on complaints.submitted.v1."""

    def __init__(self, config: LoadConfig, tally: Tally) -> None:
        self.config, self.tally = config, tally
        self.producer = Producer(producer_config(KafkaSettings(bootstrap_servers=config.bootstrap)))

    def _produce(
        self, topic: str, record: cloudevents.KafkaRecord, on_done: Callable[..., None]
    ) -> None:
        while True:
            try:
                self.producer.produce(
                    topic,
                    key=record.key,
                    value=record.value,
                    headers=record.headers,
                    on_delivery=on_done,
                )
                return
            except BufferError:
                self.producer.poll(0.01)

    async def send(self, bodies: list[dict[str, Any]], scheduled: float) -> None:
        now = datetime.now(UTC)
        for body in bodies:
            event = ComplaintSubmitted.model_validate(body)
            record = cloudevents.encode(
                event, source="/bench/loadgen", id=event.channel_event_id, time=now
            )
            self._produce(SUBMITTED.name, record, self._delivered(scheduled))
        self.producer.poll(0)

    def _delivered(self, scheduled: float) -> Callable[[KafkaError | None, Message], None]:
        def done(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                self.tally.error(f"kafka_{err.name()}")
                return
            self.tally.ok += 1
            self.tally.latency.append(time.perf_counter() - scheduled)

        return done

    async def ack(self, complaint: str) -> None:
        self.tally.acks_sent += 1
        now = datetime.now(UTC)
        event = ComplaintLifecycleEvent(
            event_id=f"lg-ack-{uuid.uuid4().hex}",
            complaint_id=complaint,
            action=LifecycleAction.ACKNOWLEDGED,
            occurred_at=now,
            actor="loadgen-agent",
        )
        record = cloudevents.encode(event, source="/bench/loadgen", id=event.event_id, time=now)

        def done(err: KafkaError | None, _msg: Message) -> None:
            self.tally.acks_ok += err is None

        self._produce(LIFECYCLE.name, record, done)
        self.producer.poll(0)

    async def close(self) -> None:
        # Delivery reports of what was sent are always awaited (bounded), even with no drain.
        deadline = time.monotonic() + max(self.config.drain_seconds, 15.0)
        while len(self.producer) and time.monotonic() < deadline:
            self.producer.poll(0.05)
            await asyncio.sleep(0)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


async def generate(config: LoadConfig) -> dict[str, Any]:
    """Send the configured traffic; return the JSON result (and sent_at per complaint id)."""
    check_targets(config)
    tally = Tally()
    traffic = Traffic(config, tally)
    sender: Sender = (
        KafkaSender(config, tally) if config.via == "kafka" else HttpSender(config, tally)
    )
    per_send = config.batch_size if config.via == "http-batch" else 1
    sends = math.ceil(config.count / per_send)
    interval = per_send / config.rate
    acks: list[tuple[float, str]] = []  # (due, complaint id), a heap
    progress = Progress(
        TextColumn(f"[bold]{config.via}[/] @ {config.rate:g}/s"),
        BarColumn(),
        TextColumn(
            "{task.completed}/{task.total} sent, {task.fields[ok]} ok, {task.fields[err]} errors"
        ),
        TimeElapsedColumn(),
        disable=not config.progress,
        transient=False,
    )
    bar = progress.add_task("send", total=config.count, ok=0, err=0)
    started = time.perf_counter()
    end_by = started + config.seconds
    with progress:
        for i in range(sends):
            scheduled = started + i * interval
            if scheduled > end_by:
                break
            await _flush_acks(acks, sender, until=scheduled)
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            bodies = [
                traffic.next_body() for _ in range(min(per_send, config.count - i * per_send))
            ]
            tally.scheduled += len(bodies)
            now = time.perf_counter()
            tally.slip.append(now - scheduled)
            if not tally.sent:
                tally.first_send = now
            await sender.send(bodies, scheduled)
            tally.last_send = time.perf_counter()
            tally.sent += len(bodies)
            wall = time.time()
            for body in bodies:
                cid = complaint_id(str(body["channel"]), str(body["channel_event_id"]))
                tally.sent_at[cid] = wall
                delay_ack = traffic.ack_delay()
                if delay_ack is None:
                    tally.never_acked += 1
                else:
                    tally.acks_planned += 1
                    heapq.heappush(acks, (now + delay_ack, cid))
            progress.update(bar, completed=tally.sent, ok=tally.ok, err=tally.errors)
        # Acks still due within the drain time go out; later ones are counted, not sent.
        drain_end = time.perf_counter() + config.drain_seconds
        while acks and acks[0][0] <= drain_end:
            await _flush_acks(acks, sender, until=acks[0][0])
            await asyncio.sleep(max(0.0, acks[0][0] - time.perf_counter()) if acks else 0)
            progress.update(bar, completed=tally.sent, ok=tally.ok, err=tally.errors)
        tally.acks_unsent = len(acks)
        await sender.close()
        progress.update(bar, completed=tally.sent, ok=tally.ok, err=tally.errors)
    span = tally.last_send - tally.first_send
    achieved = (tally.sent - per_send) / span if span > 0 else None
    return {
        "benchmark": "loadgen",
        "via": config.via,
        "run_id": config.run_id,
        "requested_rate": config.rate,
        "achieved_rate": round(achieved, 1) if achieved else None,
        "count": config.count,
        "sent": tally.sent,
        "ok": tally.ok,
        "duplicates": tally.duplicates,
        "errors": tally.errors,
        "error_kinds": tally.error_kinds,
        "send_seconds": round(span, 3),
        "schedule_slip_ms": {
            "p50": _ms(percentile(tally.slip, 50)),
            "p99": _ms(percentile(tally.slip, 99)),
            "max": _ms(max(tally.slip, default=None)),
        },
        "answer_latency_ms": {
            "p50": _ms(percentile(tally.latency, 50)),
            "p99": _ms(percentile(tally.latency, 99)),
            "max": _ms(max(tally.latency, default=None)),
        },
        "vip": tally.vip,
        "bursts": tally.bursts,
        "complaints_in_bursts": tally.in_bursts,
        "acks_planned": tally.acks_planned,
        "acks_sent": tally.acks_sent,
        "acks_ok": tally.acks_ok,
        "acks_due_after_run": tally.acks_unsent,
        "never_acked": tally.never_acked,
        "sent_at": tally.sent_at,
    }


async def _flush_acks(acks: list[tuple[float, str]], sender: Sender, *, until: float) -> None:
    while acks and acks[0][0] <= min(until, time.perf_counter()):
        _, complaint = heapq.heappop(acks)
        await sender.ack(complaint)


def run(config: LoadConfig) -> dict[str, Any]:
    return asyncio.run(generate(config))


def parse_args(argv: list[str] | None = None) -> tuple[LoadConfig, Path]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    defaults = LoadConfig()
    parser.add_argument("--via", choices=["http", "http-batch", "kafka"], default=defaults.via)
    parser.add_argument("--rate", type=float, default=defaults.rate, help="complaints/s")
    parser.add_argument("--count", type=int, default=defaults.count)
    parser.add_argument("--seconds", type=float, default=defaults.seconds, help="send bound")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--intake-url", default=os.environ.get("INTAKE_URL", defaults.intake_url))
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", defaults.bootstrap)
    )
    parser.add_argument("--vip-share", type=float, default=defaults.vip_share)
    parser.add_argument("--burst-share", type=float, default=defaults.burst_share)
    parser.add_argument("--burst-size", type=int, default=defaults.burst_size)
    parser.add_argument("--ack-share", type=float, default=defaults.ack_share)
    parser.add_argument("--ack-median", type=float, default=defaults.ack_median_seconds)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--drain", type=float, default=defaults.drain_seconds)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "loadgen.json"
    )
    args = parser.parse_args(argv)
    config = LoadConfig(
        via=args.via,
        rate=args.rate,
        count=args.count,
        seconds=args.seconds,
        batch_size=args.batch_size,
        intake_url=args.intake_url,
        bootstrap=args.bootstrap,
        vip_share=args.vip_share,
        burst_share=args.burst_share,
        burst_size=args.burst_size,
        ack_share=args.ack_share,
        ack_median_seconds=args.ack_median,
        concurrency=args.concurrency,
        drain_seconds=args.drain,
        seed=args.seed,
        progress=not args.no_progress,
    )
    return config, args.out


def main() -> None:
    config, out = parse_args()
    result = run(config)
    result.pop("sent_at")
    result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
