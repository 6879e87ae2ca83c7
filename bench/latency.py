"""Latency at fixed offered rates: accepted -> classified, and -> escalation state, p50/p99.

    uv run python -m bench.latency [--rates 25,100,1000] [--seconds 15]

25/s is a reference well below the pipeline's throughput: the latency of an idle pipeline.

One command: starts a broker (or uses KAFKA_BOOTSTRAP_SERVERS) and the four services, then
for each rate the open-loop load generator (bench/loadgen.py) publishes complaints to
complaints.submitted.v1 at that rate for --seconds (acknowledgements included, as in real
traffic), and a consumer on complaints.classified.v1 records every classification of the
run. Per complaint:
- accepted -> classified: the classified record's broker timestamp minus
  ComplaintAccepted.accepted_at (both this machine's clock; the payload carries accepted_at);
- sent -> classified seen: from the generator's send to this consumer seeing the record;
- accepted -> escalation state (estimate): escalation's
  complaints_escalation_events_total{source="classified"} is sampled every 0.1 s; the k-th
  classification of the run (in classified order) is taken to be in escalation state when
  the counter has grown by k. Escalation consumes each partition in order, so this is
  exact per partition and close overall.
The services are warmed up first (--warmup seconds at 50/s, not measured: faust workers
are slow for their first seconds). A complaint not classified within --drain seconds after
the last send counts as missing; when more than 1 % are missing the p99 is reported as at
least the drain time. Between rates the pipeline drains, so one rate's backlog does not
land in the next.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from bisect import bisect_left
from datetime import datetime
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, TopicPartition

from bench.floor import run as floor_run
from bench.loadgen import LoadConfig, percentile
from bench.loadgen import run as loadgen_run
from bench.record import provenance, write
from bench.throughput import classified_taken
from complaints_cli.broker import kafka_broker
from complaints_cli.stack import Stack
from complaints_schemas.topics import CLASSIFIED

RESULTS = Path(__file__).parent / "results"


class ClassifiedWatcher:
    """Reads complaints.classified.v1 from its end; keeps (accepted_at, broker ts, seen)."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-latency-{os.getpid()}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 10,
            }
        )
        self.consumer.assign(
            [TopicPartition(CLASSIFIED.name, p, OFFSET_END) for p in range(CLASSIFIED.partitions)]
        )
        # complaint id -> (channel event id, accepted_at, broker timestamp, seen here)
        self.seen: dict[str, tuple[str, float, float, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> ClassifiedWatcher:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            for msg in self.consumer.consume(500, 0.05):
                if msg.error():
                    continue
                now = time.time()
                data = json.loads(msg.value())
                complaint = data["complaint"]
                accepted = datetime.fromisoformat(complaint["accepted_at"]).timestamp()
                broker_ts = msg.timestamp()[1] / 1000
                # A redelivery keeps the first sighting.
                self.seen.setdefault(
                    data["complaint_id"], (complaint["channel_event_id"], accepted, broker_ts, now)
                )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.consumer.close()


def _ms_stats(values: list[float], *, missing: int, drain: float) -> dict[str, Any]:
    total = len(values) + missing
    p99: float | str | None = percentile(values, 99)
    if total and missing / total > 0.01:
        p99 = f">= {drain * 1000:.0f}"  # the slowest 1 % never arrived within the drain
    elif p99 is not None:
        p99 = round(p99 * 1000, 1)
    p50 = percentile(values, 50)
    return {
        "p50": round(p50 * 1000, 1) if p50 is not None else None,
        "p99": p99,
        "max": round(max(values) * 1000, 1) if values else None,
        "count": len(values),
    }


def measure_rate(
    stack: Stack, *, bootstrap: str, rate: float, seconds: float, drain: float, seed: int
) -> dict[str, Any]:
    watcher = ClassifiedWatcher(bootstrap).start()
    time.sleep(2)  # let the consumer's assignment settle at the log end
    load = LoadConfig(
        via="kafka",
        bootstrap=bootstrap,
        rate=rate,
        count=int(rate * seconds),
        seconds=seconds + 5,
        drain_seconds=0.0,  # acks due later than the sends are left out
        seed=seed,
        progress=False,
    )
    before = classified_taken(stack)
    counter: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            counter.append((time.time(), classified_taken(stack) - before))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    sent = loadgen_run(load)
    prefix = f"lg-{load.run_id}-"
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline:
        ours = sum(1 for v in list(watcher.seen.values()) if v[0].startswith(prefix))
        if ours >= sent["ok"]:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    stop.set()
    sampler.join(5)
    watcher.stop()
    by_cid = {k: v[1:] for k, v in watcher.seen.items() if v[0].startswith(prefix)}
    missing = max(0, sent["ok"] - len(by_cid))
    sent_at: dict[str, float] = sent["sent_at"]
    accepted_to_classified = [ts - acc for acc, ts, _ in by_cid.values()]
    sent_to_seen = [seen - sent_at[cid] for cid, (_, _, seen) in by_cid.items() if cid in sent_at]
    # Escalation state, estimated by rank: the k-th classification is in state when the
    # escalation counter has grown by k.
    ordered = sorted(by_cid.values(), key=lambda v: v[1])
    times = [t for t, _ in counter]
    counts = [n for _, n in counter]
    to_state = []
    for k, (accepted, _, _) in enumerate(ordered, start=1):
        i = bisect_left(counts, k)
        if i < len(times):
            to_state.append(times[i] - accepted)
    classified_times = sorted(v[1] for v in by_cid.values())
    span = classified_times[-1] - classified_times[0] if len(classified_times) > 1 else 0
    return {
        "offered_rate": rate,
        "achieved_send_rate": sent["achieved_rate"],
        "sent": sent["sent"],
        "published": sent["ok"],
        "classified": len(by_cid),
        "missing_after_drain": missing,
        "classified_rate": round((len(by_cid) - 1) / span, 1) if span else None,
        "acks_sent": sent["acks_sent"],
        "accepted_to_classified_ms": _ms_stats(
            accepted_to_classified, missing=missing, drain=drain
        ),
        "sent_to_classified_seen_ms": _ms_stats(sent_to_seen, missing=missing, drain=drain),
        "accepted_to_escalation_state_ms_estimate": _ms_stats(
            to_state, missing=missing + len(ordered) - len(to_state), drain=drain
        ),
    }


def warm_up(stack: Stack, *, bootstrap: str, seconds: float) -> None:
    """Traffic at 50/s until the faust workers are past their start-up; not measured."""
    if seconds <= 0:
        return
    before = classified_taken(stack)
    load = LoadConfig(
        via="kafka", bootstrap=bootstrap, rate=50, count=int(50 * seconds), ack_share=0.0
    )
    load.progress, load.seed = False, 99
    sent = loadgen_run(load)
    deadline = time.monotonic() + 60
    while classified_taken(stack) - before < sent["ok"] and time.monotonic() < deadline:
        time.sleep(0.2)


def run(
    bootstrap: str,
    *,
    rates: list[float],
    seconds: float,
    drain: float,
    floor_messages: int,
    warmup: float,
) -> dict[str, Any]:
    floor = floor_run(bootstrap, floor_messages, 1200)
    print(json.dumps(floor))
    stack = Stack(bootstrap=bootstrap, workdir=Path(tempfile.mkdtemp(prefix="bench-stack-")))
    results = []
    try:
        stack.start()
        warm_up(stack, bootstrap=bootstrap, seconds=warmup)
        for i, rate in enumerate(rates):
            result = measure_rate(
                stack, bootstrap=bootstrap, rate=rate, seconds=seconds, drain=drain, seed=20 + i
            )
            print(json.dumps(result))
            results.append(result)
    finally:
        stack.stop()
    return {"benchmark": "latency", "floor": floor, "rates": results}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rates", default="25,100,1000", help="complaints/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=15, help="sending time per rate")
    parser.add_argument("--drain", type=float, default=45, help="wait after the last send")
    parser.add_argument("--floor-messages", type=int, default=20_000)
    parser.add_argument("--warmup", type=float, default=10, help="seconds at 50/s first")
    parser.add_argument("--out", type=Path, default=RESULTS / "latency.json")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rates = [float(r) for r in args.rates.split(",")]
    with kafka_broker(Path(tempfile.mkdtemp(prefix="bench-kafka-"))) as bootstrap:
        result = run(
            bootstrap,
            rates=rates,
            seconds=args.seconds,
            drain=args.drain,
            floor_messages=args.floor_messages,
            warmup=args.warmup,
        )
    command = (
        f"uv run python -m bench.latency --rates {args.rates} "
        f"--seconds {args.seconds:g} --drain {args.drain:g}"
    )
    result |= provenance(command, load_before=load_before)
    write(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k != "floor"}))


if __name__ == "__main__":
    main()
