"""The physical floor: a three-hop pass-through pipeline of bare confluent-kafka clients.

Messages of the size of a real ComplaintAccepted go producer -> hop 1 -> hop 2 -> hop 3 ->
sink, each hop a consumer and a producer in its own process, on the same broker the
pipeline uses. Every pipeline figure in BENCHMARKS.md is quoted as a ratio to this one,
measured in the same run.

    uv run python bench/floor.py --messages 200000 [--bootstrap HOST:PORT]

Without --bootstrap (or KAFKA_BOOTSTRAP_SERVERS) a local broker is started for the run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from complaints_cli.broker import kafka_broker, kafka_version

PARTITIONS = 6


def _producer(bootstrap: str) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",
        }
    )


def _consumer(bootstrap: str, group: str, topic: str) -> Consumer:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
        }
    )
    consumer.subscribe([topic])
    return consumer


def hop(bootstrap: str, source: str, target: str, count: int) -> None:
    consumer = _consumer(bootstrap, f"floor-{source}", source)
    producer = _producer(bootstrap)
    seen = 0
    while seen < count:
        for msg in consumer.consume(500, 0.5):
            if msg.error():
                continue
            producer.produce(target, key=msg.key(), value=msg.value(), headers=msg.headers())
            seen += 1
        producer.poll(0)
    producer.flush(60)
    consumer.close()


def run(bootstrap: str, messages: int, size: int) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    names = [f"floor.{run_id}.{i}" for i in range(4)]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names]).values():
        future.result(30)
    hops = [
        mp.Process(target=hop, args=(bootstrap, names[i], names[i + 1], messages)) for i in range(3)
    ]
    for process in hops:
        process.start()
    sink = _consumer(bootstrap, f"floor-sink-{run_id}", names[3])
    payload = os.urandom(size // 2).hex().encode()
    producer = _producer(bootstrap)
    started = time.perf_counter()
    for i in range(messages):
        while True:
            try:
                producer.produce(names[0], key=f"c-{i}".encode(), value=payload)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)
    received = 0
    while received < messages:
        received += sum(1 for m in sink.consume(1000, 1.0) if not m.error())
    elapsed = time.perf_counter() - started
    sink.close()
    for process in hops:
        process.join(60)
    return {
        "benchmark": "floor",
        "messages": messages,
        "message_bytes": size,
        "seconds": round(elapsed, 3),
        "messages_per_second": round(messages / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=1200, help="bytes per message")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "floor.json"
    )
    args = parser.parse_args()
    if args.bootstrap:
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = args.bootstrap
    with kafka_broker(Path(tempfile.mkdtemp(prefix="bench-kafka-"))) as bootstrap:
        result = run(bootstrap, args.messages, args.size)
    result |= {
        "kafka": kafka_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": datetime.now(UTC).date().isoformat(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
