"""One running pipeline for the end-to-end tests: four service processes over the real broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complaints_cli.stack import Stack

RED_SLA_SECONDS = 6.0
E2E_ENV = {
    "escalation": {
        "ESCALATION_RESPONSE_SLA_RED": str(RED_SLA_SECONDS),
        "ESCALATION_RESPONSE_SLA_YELLOW": "600",
        "ESCALATION_RESPONSE_SLA_GREEN": "600",
        "ESCALATION_LEVEL_INTERVAL": "3600",
    },
    "notifier": {"NOTIFIER_MAX_ATTEMPTS": "8"},
}


# Package scope: its four processes stop before the fault tests start theirs (2 cores).
@pytest.fixture(scope="package")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp("e2e")
    pipeline = Stack(bootstrap=kafka_bootstrap, workdir=workdir, env=E2E_ENV)
    try:
        ready = pipeline.start()
        print(f"services ready after (s): {ready}")
        yield pipeline
    finally:
        for name, proc in pipeline.services.items():
            print(f"----- {name} log tail -----\n{proc.log_tail(30)}")
        pipeline.stop()


@pytest.fixture
def intake_url(stack: Stack) -> str:
    return stack.services["intake"].base_url
