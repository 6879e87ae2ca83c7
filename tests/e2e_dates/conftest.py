"""A pipeline whose services all run on 30 December 2026 (COMPLAINTS_CLOCK_START): the year
whose T+3 deadlines first reach past the holiday library's last year."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from complaints_cli.processes import SERVICES
from complaints_cli.stack import Stack
from complaints_kit.clock import CLOCK_START_ENV

YEAR_END = "2026-12-30T10:00:00+08:00"
RED_SLA_SECONDS = 6.0


@pytest.fixture(scope="package")
def year_end_stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    # The notifier keeps real time: webhook receivers check the signature's timestamp.
    env = {name: {CLOCK_START_ENV: YEAR_END} for name in SERVICES if name != "notifier"}
    env["escalation"] |= {
        "ESCALATION_RESPONSE_SLA_RED": str(RED_SLA_SECONDS),
        "ESCALATION_LEVEL_INTERVAL": "3600",
    }
    pipeline = Stack(bootstrap=kafka_bootstrap, workdir=tmp_path_factory.mktemp("dates"), env=env)
    try:
        pipeline.start()
        yield pipeline
    finally:
        for name, proc in pipeline.services.items():
            print(f"----- {name} log tail -----\n{proc.log_tail(20)}")
        pipeline.stop()
