"""The README's run command, end to end: `complaints dev` brings the pipeline up and a demo
escalation reaches the local webhook sink within a minute."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.e2e


def test_dev_delivers_a_demo_escalation_to_the_sink(kafka_bootstrap: str) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "complaints_cli.main",
            "dev",
            "--until-delivered",
            "--exit-after",
            "150",
        ],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Complaint escalation pipeline is up" in result.stdout
    assert "webhook breach level 1" in result.stdout
    assert "signature valid" in result.stdout
    assert "/queue" in result.stdout  # the console's URL
    assert "wang / demo" in result.stdout  # and a demo sign-in
    print(f"complaints dev: first escalation at the sink after {elapsed:.1f}s (incl. start-up)")
