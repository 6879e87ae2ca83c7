"""Alert rules are valid and behave as their unit tests say (promtool, Debian's prometheus)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool missing: scripts/ensure-system-deps.sh installs Debian's prometheus"
    return path


def test_rules_are_valid(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES / "complaints.rules.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_unit_tests_pass(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "test", "rules", "complaints.tests.yml"],
        cwd=RULES,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_summary_runbook_and_a_test() -> None:
    import yaml

    rules = yaml.safe_load((RULES / "complaints.rules.yml").read_text())
    tests = (RULES / "complaints.tests.yml").read_text()
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    assert alerts
    for rule in alerts:
        assert rule["annotations"].get("summary"), rule["alert"]
        assert rule["annotations"].get("runbook"), rule["alert"]
        assert f"alertname: {rule['alert']}" in tests, f"{rule['alert']} has no promtool test"
