"""The classifier as a separate process over the real broker, for the Kafka tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from confluent_kafka import Consumer

from complaints_cli.broker import free_port
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import DecodeError, decode
from complaints_schemas.events import ComplaintClassified

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0

Records = list[tuple[bytes | None, list[tuple[str, bytes]]]]


def decisions_in(records: Records) -> Iterator[tuple[ComplaintClassified, list[tuple[str, bytes]]]]:
    """The decisions on the shared classified topic, with their headers; records that are not
    events (the bad-input fault tests plant some there) are skipped."""
    for value, headers in records:
        try:
            yield decode(ComplaintClassified, value, headers).data, headers
        except DecodeError:
            continue


class Classifier:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log
        self.ready_after_s: float | None = None

    def ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM; the exit status (SIGKILL and an AssertionError if it does not stop)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"classifier did not stop on SIGTERM:\n{self.tail()}") from None


def start_classifier(
    kafka_settings: KafkaSettings, workdir: Path, *, app_id: str | None = None, **env: str
) -> Classifier:
    """Start `python -m complaints_classifier` and wait until /readyz answers 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "CLASSIFIER_OPS_PORT": str(port),
        "CLASSIFIER_LOG_JSON": "true",
        # Own consumer group: other tests' classifiers on this session broker do not interfere.
        "CLASSIFIER_APP_ID": app_id or f"classifier-it-{uuid.uuid4().hex[:8]}",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    log = workdir / f"classifier-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "complaints_classifier"],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Classifier(process, port, log)
    started = time.monotonic()
    while not service.ready():
        if process.poll() is not None:
            raise AssertionError(f"classifier exited:\n{service.tail()}")
        if time.monotonic() - started > READY_TIMEOUT_S:
            service.kill()
            raise AssertionError(f"not ready:\n{service.tail()}")
        time.sleep(0.2)
    service.ready_after_s = time.monotonic() - started
    return service


def read_until(
    bootstrap: str, topic: str, *, done: Callable[[Records], bool], timeout: float
) -> Records:
    """Records of `topic` from the beginning until done(records) is true or the time is up."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"classifier-test-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    records: Records = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done(records):
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                records.append((msg.value(), list(msg.headers() or [])))
        return records
    finally:
        consumer.close()
