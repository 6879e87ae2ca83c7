"""The pipeline with the projector and the console, and a real headless Chromium.

Chromium comes from Debian's packages (/usr/bin/chromium, scripts/ensure-system-deps.sh);
Playwright drives it and never downloads a browser of its own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from complaints_cli.stack import Stack

CHROMIUM = os.environ.get("CONSOLE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RED_SLA_SECONDS = 6.0
# Long enough for the owner to acknowledge before the second level under a loaded machine.
LEVEL_INTERVAL_SECONDS = 40.0
CONSOLE_ENV = {
    "escalation": {
        "ESCALATION_RESPONSE_SLA_RED": str(RED_SLA_SECONDS),
        "ESCALATION_RESPONSE_SLA_YELLOW": "600",
        "ESCALATION_RESPONSE_SLA_GREEN": "600",
        "ESCALATION_LEVEL_INTERVAL": str(LEVEL_INTERVAL_SECONDS),
    },
}


@pytest.fixture(scope="package")
def console_stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    workdir: Path = tmp_path_factory.mktemp("console-e2e")
    pipeline = Stack(bootstrap=kafka_bootstrap, workdir=workdir, env=CONSOLE_ENV, console=True)
    try:
        ready = pipeline.start()
        print(f"services ready after (s): {ready}")
        yield pipeline
    finally:
        for name, proc in pipeline.services.items():
            print(f"----- {name} log tail -----\n{proc.log_tail(20)}")
        pipeline.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/ensure-system-deps.sh (apt chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()
