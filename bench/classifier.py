"""Classifier throughput: the pure domain path and one worker over the real broker.

Both figures are events per second per worker (one process). The floor of bench/floor.py
(a three-hop pass-through of bare confluent-kafka clients) is measured in the same run, on
the same broker, and the worker figure is quoted as a ratio to it. Complaints are the
corpus writers' single complaints with fresh ids, customers and times.

    uv run python bench/classifier.py [--pure 20000] [--messages 5000] [--floor 50000]

Without --bootstrap (or KAFKA_BOOTSTRAP_SERVERS) a local broker is started for the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from complaints_classifier.domain.content import ContentClassifier
from complaints_classifier.domain.pipeline import InMemoryPipeline
from complaints_classifier.evaluation import load_corpus
from complaints_classifier.live_rules import build_classifier
from complaints_classifier.rules_file import load_rules
from complaints_cli.broker import free_port, kafka_broker, kafka_version
from complaints_kit.kafka import producer_config, provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import encode
from complaints_schemas.events import ComplaintAccepted, Customer
from complaints_schemas.topics import ACCEPTED, ALL_TOPICS, CLASSIFIED

sys.path.insert(0, str(Path(__file__).parent))
import floor

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "config" / "classifier" / "rules.yaml"
CORPUS = REPO / "config" / "classifier" / "corpus"


def complaints(count: int, *, run: str, start: datetime) -> list[ComplaintAccepted]:
    """`count` complaints cycling through the corpus writers' single complaints (more texts
    than the signal cache holds, so no text is met again warm); 2,000 customers, 10 ms apart."""
    texts = [item.complaint for part in ("train", "holdout") for item in load_corpus(CORPUS, part)]
    out = []
    for i in range(count):
        base = texts[i % len(texts)]
        at = start + timedelta(milliseconds=10 * i)
        out.append(
            base.model_copy(
                update={
                    "complaint_id": f"{run}-{i}",
                    "channel_event_id": f"{run}-{i}",
                    "customer": Customer(
                        id=f"{run}-cust-{i % 2000}",
                        tier=base.customer.tier,
                        region=base.customer.region,
                    ),
                    "accepted_at": at,
                    "occurred_at": at,
                }
            )
        )
    return out


def pure(count: int) -> dict[str, Any]:
    """The three stages in memory, with the shipped model, and without it (phrase rules only);
    CPU time (process_time), not wall time, per complaint."""
    items = complaints(count, run="pure", start=datetime(2025, 6, 1, tzinfo=UTC))
    rules = load_rules(RULES)
    figures: dict[str, Any] = {"events": count}
    for name, classifier in (
        ("model", build_classifier(rules, rules_path=RULES)),
        ("rules_only", ContentClassifier(rules.model_copy(update={"model": None}))),
    ):
        pipeline = InMemoryPipeline(rules, classifier)
        pipeline.classify(items[0])  # warm: jieba's dictionary, OpenCC's tables
        started = time.process_time()
        for item in items:
            pipeline.classify(item)
        cpu = time.process_time() - started
        figures[name] = {
            "cpu_ms_per_complaint": round(cpu * 1000 / count, 4),
            "per_second_one_core": round(count / cpu, 1),
        }
    figures["per_second"] = figures["model"]["per_second_one_core"]
    return figures


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rules_only_file(workdir: Path) -> Path:
    """A copy of the shipped rules without the model: the worker's own cost shows better."""
    text = RULES.read_text()
    start = text.index("\nmodel:\n")
    end = text.index("\n\n", start + 1)
    path = workdir / "rules-only.yaml"
    path.write_text(text[:start] + text[end:])
    return path


def worker(
    bootstrap: str, count: int, workdir: Path, *, rules_file: Path | None = None
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    port = free_port()
    extra = {"CLASSIFIER_RULES_FILE": str(rules_file)} if rules_file else {}
    env = {
        **extra,
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "CLASSIFIER_OPS_PORT": str(port),
        "CLASSIFIER_LOG_JSON": "true",
        "CLASSIFIER_DATA_DIR": str(workdir / "data"),
        "CLASSIFIER_APP_ID": f"bench-classifier-{run}",
    }
    start_group_at_end(bootstrap, env["CLASSIFIER_APP_ID"])
    log = (workdir / f"classifier-{run}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "complaints_classifier"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_ready(port, process)
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-sink-{run}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([CLASSIFIED.name])
        producer = Producer(producer_config(KafkaSettings(bootstrap_servers=bootstrap)))
        items = complaints(count, run=run, start=datetime.now(UTC))
        records = [encode(c, source="/bench", id=c.complaint_id, time=c.accepted_at) for c in items]
        cpu_before = cpu_seconds(process.pid)
        started = time.perf_counter()
        for record in records:
            while True:
                try:
                    producer.produce(
                        ACCEPTED.name,
                        key=record.key,
                        value=record.value,
                        headers=[(k, v) for k, v in record.headers if v is not None],
                    )
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
        producer.flush(60)
        prefix = f"{run}-".encode()
        seen: set[bytes] = set()
        deadline = time.monotonic() + 600
        while len(seen) < count and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 1.0):
                key = msg.key()
                if not msg.error() and key is not None and key.startswith(prefix):
                    seen.add(key)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(process.pid) - cpu_before
        consumer.close()
        if len(seen) < count:
            raise SystemExit(f"only {len(seen)} of {count} classified; see {log.name}")
        return {
            "events": count,
            "seconds": round(elapsed, 3),
            "per_second": round(count / elapsed, 1),
            "cpu_ms_per_complaint": round(1000 * cpu / count, 3),
            "cpu_share_of_one_core": round(cpu / elapsed, 2),
        }
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def start_group_at_end(bootstrap: str, group: str) -> None:
    """Commit the end of complaints.accepted.v1 for a new group: a worker run counts only
    its own complaints, not those an earlier run left on the topic."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        meta = consumer.list_topics(ACCEPTED.name, timeout=10).topics[ACCEPTED.name]
        ends = [TopicPartition(ACCEPTED.name, p, _end(consumer, p)) for p in meta.partitions]
        consumer.commit(offsets=ends, asynchronous=False)
    finally:
        consumer.close()


def _end(consumer: Consumer, partition: int) -> int:
    """The partition's high watermark, asking again while a new topic elects its leaders."""
    for attempt in range(60):
        try:
            return consumer.get_watermark_offsets(
                TopicPartition(ACCEPTED.name, partition), timeout=10
            )[1]
        except KafkaException:
            if attempt == 59:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    started = time.monotonic()
    while time.monotonic() - started < 90:
        if process.poll() is not None:
            raise SystemExit("classifier exited before it was ready")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("classifier not ready within 90 s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pure", type=int, default=20_000, help="events on the domain path")
    parser.add_argument("--messages", type=int, default=5_000, help="events through the worker")
    parser.add_argument("--floor", type=int, default=50_000, help="messages for the floor")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "classifier.json"
    )
    args = parser.parse_args()
    if args.bootstrap:
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = args.bootstrap
    load_before = os.getloadavg()[0]
    result: dict[str, Any] = {"benchmark": "classifier", "pure": pure(args.pure)}
    workdir = Path(tempfile.mkdtemp(prefix="bench-classifier-"))
    with kafka_broker(workdir / "kafka") as bootstrap:
        provision_topics(KafkaSettings(bootstrap_servers=bootstrap), ALL_TOPICS)
        result["worker"] = worker(bootstrap, args.messages, workdir)
        result["worker_rules_only"] = worker(
            bootstrap, args.messages, workdir, rules_file=rules_only_file(workdir)
        )
        result["floor"] = floor.run(bootstrap, args.floor, 1200)
    floor_rate = result["floor"]["messages_per_second"]
    pure_figures = result["pure"]
    for name, pure_name in (("worker", "model"), ("worker_rules_only", "rules_only")):
        figures = result[name]
        figures["to_floor"] = round(figures["per_second"] / floor_rate, 4)
        # What the stream layer costs on top of the classification itself, same run.
        figures["stream_cpu_ms_per_complaint"] = round(
            figures["cpu_ms_per_complaint"] - pure_figures[pure_name]["cpu_ms_per_complaint"], 3
        )
    result["worker_to_floor"] = result["worker"]["to_floor"]
    result |= {
        "kafka": kafka_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": datetime.now(UTC).date().isoformat(),
        "load_average_before": round(load_before, 1),
        "load_average_after": round(os.getloadavg()[0], 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
