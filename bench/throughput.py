"""Sustained complaints per second through intake -> classifier -> escalation state, on the
Kafka path, as a ratio to the floor pipeline measured in the same run on the same broker.

    uv run python bench/throughput.py --complaints 5000

Complaints are published as channels do, to complaints.submitted.v1 (CloudEvents binary
mode), all at once; the figure is complaints / seconds from the first publish until the
escalation service has taken in the last classification (its
complaints_escalation_events_total{source="classified"}).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from bench.floor import run as floor_run
from complaints_cli.broker import kafka_broker, kafka_version
from complaints_cli.demo import demo_complaints
from complaints_cli.stack import Stack
from complaints_kit.kafka import producer_config
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import ComplaintSubmitted
from complaints_schemas.topics import SUBMITTED


def classified_taken(stack: Stack) -> float:
    text = stack.services["escalation"].metrics()
    found = re.findall(
        r'^complaints_escalation_events_total\{source="classified"\} (\S+)$', text, re.M
    )
    return float(found[0]) if found else 0.0


def publish(bootstrap: str, count: int) -> None:
    producer = Producer(producer_config(KafkaSettings(bootstrap_servers=bootstrap)))
    now = datetime.now(UTC)
    templates = demo_complaints(run_id="t", now=now)
    for i in range(count):
        item = dict(templates[i % len(templates)])
        item["channel_event_id"] = f"bench-{uuid.uuid4().hex}"
        item["customer"] = {**item["customer"], "id": f"bench-{i}"}
        event = ComplaintSubmitted.model_validate(item)
        record = cloudevents.encode(event, source="/bench", id=event.channel_event_id, time=now)
        while True:
            try:
                producer.produce(
                    SUBMITTED.name, key=record.key, value=record.value, headers=record.headers
                )
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)


def run(bootstrap: str, complaints: int, timeout: float) -> dict[str, Any]:
    floor = floor_run(bootstrap, max(complaints * 4, 20_000), 1200)
    stack = Stack(bootstrap=bootstrap, workdir=Path(tempfile.mkdtemp(prefix="bench-stack-")))
    try:
        stack.start()
        before = classified_taken(stack)
        started = time.perf_counter()
        publish(bootstrap, complaints)
        deadline = started + timeout
        while classified_taken(stack) - before < complaints and time.perf_counter() < deadline:
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        done = classified_taken(stack) - before
    finally:
        stack.stop()
    rate = done / elapsed
    return {
        "benchmark": "throughput-kafka-path",
        "complaints": complaints,
        "reached_escalation": int(done),
        "seconds": round(elapsed, 2),
        "complaints_per_second": round(rate, 1),
        "floor_messages_per_second": floor["messages_per_second"],
        "ratio_to_floor": round(rate / floor["messages_per_second"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--complaints", type=int, default=5000)
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "throughput.json"
    )
    args = parser.parse_args()
    with kafka_broker(Path(tempfile.mkdtemp(prefix="bench-kafka-"))) as bootstrap:
        result = run(bootstrap, args.complaints, args.timeout)
    result |= {
        "kafka": kafka_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": round(os.getloadavg()[0], 1),
        "date": datetime.now(UTC).date().isoformat(),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
