"""Producing to and reading from the real broker, and running the service as a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from confluent_kafka import Consumer, Producer, TopicPartition

from complaints_kit.kafka import producer_config
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import Event

E = TypeVar("E", bound=Event)
T = TypeVar("T")


STATUS_TOKEN = "escalation-tests-status-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def produce(
    settings: KafkaSettings, records: list[tuple[str, Event]], *, source: str = "/tests"
) -> None:
    """Send (topic, event) pairs in order with one producer."""
    producer = Producer(producer_config(settings))
    for topic, event in records:
        record = cloudevents.encode(
            event, source=source, id=uuid.uuid4().hex, time=datetime.now(UTC)
        )
        producer.produce(topic, key=record.key, value=record.value, headers=record.headers)
    assert producer.flush(10) == 0


def produce_raw(settings: KafkaSettings, topic: str, *, key: bytes, value: bytes) -> None:
    producer = Producer(producer_config(settings))
    producer.produce(topic, key=key, value=value)
    assert producer.flush(10) == 0


def read_all(settings: KafkaSettings, topic: str, model: type[E]) -> list[E]:
    """Every record of the topic from the beginning to its current end, decoded."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.bootstrap_servers,
            "group.id": f"escalation-test-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=10)
        tps = [TopicPartition(topic, p, 0) for p in meta.topics[topic].partitions]
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in tps}
        todo = {p for p, end in ends.items() if end > 0}
        consumer.assign(tps)
        out: list[E] = []
        deadline = time.monotonic() + 15
        while todo and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            out.append(cloudevents.decode(model, msg.value(), msg.headers()).data)
            if msg.offset() + 1 >= ends[msg.partition()]:
                todo.discard(msg.partition())
        return out
    finally:
        consumer.close()


def wait_for(predicate: Callable[[], T], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class ServiceProcess:
    """`python -m complaints_escalation` with its own ops port and log file."""

    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def configure(cls, settings: KafkaSettings, tmp: Path, **overrides: str) -> ServiceProcess:
        port = free_port()
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
            "ESCALATION_OPS_PORT": str(port),
            "ESCALATION_LOG_JSON": "true",
            "ESCALATION_DATA_DIR": str(tmp / "data"),
            "ESCALATION_STATUS_TOKEN": STATUS_TOKEN,  # the ledger routes answer only with it
            **{f"ESCALATION_{k.upper()}": v for k, v in overrides.items()},
        }
        return cls(env=env, log_path=tmp / "escalation.log", port=port)

    def start(self) -> float:
        """Start and wait for /readyz; return the seconds it took."""
        started = time.monotonic()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "complaints_escalation"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.ready, timeout=90, what=f"/readyz (log: {self.log_path})")
        return time.monotonic() - started

    def get(self, path: str) -> tuple[int, str]:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}{path}",
                headers={"Authorization": f"Bearer {STATUS_TOKEN}"},
            )
            with urllib.request.urlopen(request, timeout=2) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except OSError:
            return 0, ""

    def ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"service exited early; see {self.log_path}")
        return self.get("/readyz")[0] == 200

    def metric(self, name: str) -> float:
        _, body = self.get("/metrics")
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in body.splitlines()
            if line.startswith(name) and not line.startswith("#")
        )

    def terminate(self, *, timeout: float = 15) -> float:
        """SIGTERM; return the seconds until the process exited."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop_quietly(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
