"""A pipeline of its own for the fault tests: they kill its services and feed it garbage."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from complaints_cli.broker import kafka_broker
from complaints_cli.stack import Stack
from complaints_kit.kafka import provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import ALL_TOPICS
from tests.e2e.conftest import E2E_ENV

MAX_RECORD_BYTES = 65_536  # intake's cap, small enough to exceed without hitting the broker's
FAULT_ENV = {**E2E_ENV, "intake": {"INTAKE_MAX_BODY_BYTES": str(MAX_RECORD_BYTES)}}


@pytest.fixture(scope="package")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Four services on a broker of their own: the faults must not reach other tests' services
    (consumer groups are shared per broker) and other tests' records must not reach these."""
    workdir: Path = tmp_path_factory.mktemp("faults")
    with kafka_broker(workdir / "kafka") as bootstrap:
        env = FAULT_ENV
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):  # a shared broker: groups of our own
            env = {
                **FAULT_ENV,
                "intake": {**FAULT_ENV["intake"], "INTAKE_CONSUMER_GROUP": "faults-intake"},
                "classifier": {"CLASSIFIER_APP_ID": "faults-classifier"},
                "escalation": {**FAULT_ENV["escalation"], "ESCALATION_APP_ID": "faults-escalation"},
                "notifier": {**FAULT_ENV["notifier"], "NOTIFIER_CONSUMER_GROUP": "faults-notifier"},
            }
        provision_topics(KafkaSettings(bootstrap_servers=bootstrap), ALL_TOPICS)
        pipeline = Stack(bootstrap=bootstrap, workdir=workdir, env=env)
        try:
            pipeline.start()
            yield pipeline
        finally:
            for name, proc in pipeline.services.items():
                print(f"----- {name} log tail -----\n{proc.log_tail(20)}")
            pipeline.stop()


def counter(stack: Stack, service: str, name: str, **labels: str) -> float:
    """Sum of a counter's samples whose labels include `labels`."""
    total = 0.0
    for line in stack.services[service].metrics().splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[..., None]:
    """print() for the fault tests' figures (sent, accepted, rejected, expected, delivered,
    duplicates, lost), past pytest's capture so that CI's log carries them."""

    def write(*parts: object) -> None:
        with capsys.disabled():
            print(*parts)

    return write
