"""Deadline -> webhook accepted, p99: how late an alert reaches its receiver.

    uv run python -m bench.delivery [--rate 50] [--seconds 20] [--sla 10]

One command: starts a broker (or uses KAFKA_BOOTSTRAP_SERVERS) and the four services with
a short response SLA for red complaints (ESCALATION_RESPONSE_SLA_RED=--sla seconds; yellow
and green long enough not to fall due), the notifier posting to the stack's local webhook
sink. The load generator publishes realistic traffic at --rate for --seconds (about a third
of it red; acknowledgements after a lognormal delay for --ack-share of the complaints, so
some red ones are acknowledged in time and some never). Every red complaint still open at
its deadline breaches; for each breach the sink's receive time (after it verified the
signature and answered 2xx) minus the `deadline` in the payload is one sample. Also split:
deadline -> escalated_at (the escalation's fire lag, from the payload) and escalated_at ->
received (notifier and HTTP), and escalation's own complaints_escalation_fire_lag_seconds
histogram over the run. Same-run baseline: plain asyncio timers for the same deadlines
(same spread, shifted to now) on the same machine: how late a bare timer is here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.loadgen import LoadConfig, percentile
from bench.loadgen import run as loadgen_run
from bench.record import provenance, write
from complaints_cli.broker import kafka_broker
from complaints_cli.stack import Stack

RESULTS = Path(__file__).parent / "results"


def metric_values(text: str, name: str) -> dict[str, float]:
    """Every sample of a metric family from Prometheus text: {'<labels>': value}."""
    out = {}
    for match in re.finditer(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", text, re.M):
        out[match.group(1) or ""] = float(match.group(2))
    return out


def histogram_quantiles(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """p50/p99 upper bounds from the bucket counts a run added (le labels)."""
    buckets = []
    for labels, value in after.items():
        le = re.search(r'le="([^"]+)"', labels)
        if le:
            buckets.append((float(le.group(1)), value - before.get(labels, 0.0)))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0

    def bound(q: float) -> float | None:
        return next((le for le, n in buckets if n >= q * total), None) if total else None

    return {"count": int(total), "p50_at_most_s": bound(0.5), "p99_at_most_s": bound(0.99)}


async def timer_baseline(delays: list[float]) -> list[float]:
    """Lateness of plain asyncio timers for the same deadlines: the machine's own floor."""
    start = time.perf_counter()

    async def one(delay: float) -> float:
        await asyncio.sleep(delay)
        return time.perf_counter() - start - delay

    return list(await asyncio.gather(*(one(d) for d in delays)))


def _ms(values: list[float]) -> dict[str, Any]:
    def q(p: float) -> float | None:
        v = percentile(values, p)
        return None if v is None else round(v * 1000, 1)

    return {
        "count": len(values),
        "p50": q(50),
        "p99": q(99),
        "max": round(max(values) * 1000, 1) if values else None,
    }


def run(
    bootstrap: str, *, rate: float, seconds: float, sla: float, ack_share: float, wait: float
) -> dict[str, Any]:
    env = {
        "escalation": {
            "ESCALATION_RESPONSE_SLA_RED": str(sla),
            "ESCALATION_RESPONSE_SLA_YELLOW": "3600",
            "ESCALATION_RESPONSE_SLA_GREEN": "7200",
            "ESCALATION_LEVEL_INTERVAL": "3600",
        }
    }
    stack = Stack(
        bootstrap=bootstrap, workdir=Path(tempfile.mkdtemp(prefix="bench-stack-")), env=env
    )
    try:
        stack.start()
        assert stack.sink is not None
        lag_name = "complaints_escalation_fire_lag_seconds_bucket"
        lag_before = metric_values(stack.services["escalation"].metrics(), lag_name)
        load = LoadConfig(
            via="kafka",
            bootstrap=bootstrap,
            rate=rate,
            count=int(rate * seconds),
            seconds=seconds + 5,
            ack_share=ack_share,
            ack_median_seconds=sla * 0.6,  # some in time, some too late
            drain_seconds=sla * 2,
            seed=31,
            progress=False,
        )
        sent = loadgen_run(load)
        ours = set(sent["sent_at"])
        # Wait until the last possible deadline has passed and breaches stopped arriving.
        end = time.monotonic() + wait
        last_count, last_change = -1, time.monotonic()
        while time.monotonic() < end:
            count = len(stack.sink.received())
            if count != last_count:
                last_count, last_change = count, time.monotonic()
            elif time.monotonic() - last_change > max(5.0, sla):
                break
            time.sleep(0.5)
        lag_after = metric_values(stack.services["escalation"].metrics(), lag_name)
        escalations = metric_values(
            stack.services["escalation"].metrics(), "complaints_escalation_escalations_total"
        )
        deliveries = stack.sink.received()
    finally:
        stack.stop()
    to_receive, to_fire, fire_to_receive, seen = [], [], [], set()
    deadlines: list[float] = []
    for entry in deliveries:
        data = (entry.get("payload") or {}).get("data") or {}
        if data.get("kind") != "breach" or data.get("complaint_id") not in ours:
            continue
        if data["escalation_id"] in seen:
            continue  # a redelivery: the first arrival counts
        seen.add(data["escalation_id"])
        received = datetime.fromisoformat(entry["received_at"])
        deadline = datetime.fromisoformat(data["deadline"])
        escalated = datetime.fromisoformat(data["escalated_at"])
        deadlines.append(deadline.timestamp())
        to_receive.append((received - deadline).total_seconds())
        to_fire.append((escalated - deadline).total_seconds())
        fire_to_receive.append((received - escalated).total_seconds())
    # Baseline: plain asyncio timers on this machine for the same spread of deadlines.
    first = min(deadlines, default=0.0)
    baseline = asyncio.run(timer_baseline([d - first + 1.0 for d in deadlines]))
    result = {
        "benchmark": "delivery",
        "offered_rate": rate,
        "achieved_send_rate": sent["achieved_rate"],
        "complaints": sent["sent"],
        "acks_sent": sent["acks_sent"],
        "red_sla_seconds": sla,
        "breaches_delivered": len(to_receive),
        "webhook_posts_received": len(deliveries),
        "escalations_total": escalations,
        "deadline_to_webhook_accepted_ms": _ms(to_receive),
        "deadline_to_escalated_at_ms": _ms(to_fire),
        "escalated_at_to_webhook_accepted_ms": _ms(fire_to_receive),
        "escalation_fire_lag_histogram": histogram_quantiles(lag_before, lag_after),
        "baseline_asyncio_timer_lateness_ms": _ms(baseline),
    }
    p99 = result["deadline_to_webhook_accepted_ms"]["p99"]
    base = result["baseline_asyncio_timer_lateness_ms"]["p99"]
    result["ratio_p99_to_timer_baseline_p99"] = round(p99 / base, 1) if p99 and base else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=50, help="complaints/s offered")
    parser.add_argument("--seconds", type=float, default=20, help="sending time")
    parser.add_argument("--sla", type=float, default=10, help="red response SLA, seconds")
    parser.add_argument("--ack-share", type=float, default=0.5)
    parser.add_argument("--wait", type=float, default=90, help="at most, after the sends")
    parser.add_argument("--out", type=Path, default=RESULTS / "delivery.json")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with kafka_broker(Path(tempfile.mkdtemp(prefix="bench-kafka-"))) as bootstrap:
        result = run(
            bootstrap,
            rate=args.rate,
            seconds=args.seconds,
            sla=args.sla,
            ack_share=args.ack_share,
            wait=args.wait,
        )
    command = (
        f"uv run python -m bench.delivery --rate {args.rate:g} "
        f"--seconds {args.seconds:g} --sla {args.sla:g}"
    )
    result |= provenance(command, load_before=load_before)
    write(args.out, result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
