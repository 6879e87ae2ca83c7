"""A pipeline of its own for the fault tests: they kill its services and feed it garbage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complaints_cli.stack import Stack
from tests.e2e.conftest import E2E_ENV

MAX_RECORD_BYTES = 65_536  # intake's cap, small enough to exceed without hitting the broker's
FAULT_ENV = {**E2E_ENV, "intake": {"INTAKE_MAX_BODY_BYTES": str(MAX_RECORD_BYTES)}}


@pytest.fixture(scope="session")
def fault_stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp("faults")
    pipeline = Stack(bootstrap=kafka_bootstrap, workdir=workdir, env=FAULT_ENV)
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
