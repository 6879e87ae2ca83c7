"""Settings parse seconds and ISO-8601 durations; the documented policy matches the defaults."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from complaints_escalation.settings import EscalationSettings
from complaints_schemas.events import Severity

POLICY_YAML = Path(__file__).resolve().parents[3] / "config" / "escalation" / "policy.yaml"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", timedelta(seconds=3)),
        ("2.5", timedelta(seconds=2.5)),
        ("PT10M", timedelta(minutes=10)),
        ("P1DT2H", timedelta(days=1, hours=2)),
    ],
)
def test_durations_from_env(monkeypatch: pytest.MonkeyPatch, raw: str, expected: timedelta) -> None:
    monkeypatch.setenv("ESCALATION_RESPONSE_SLA_RED", raw)
    assert EscalationSettings().policy().response_sla[Severity.RED] == expected


@pytest.mark.parametrize("raw", ["0", "-5", "soon"])
def test_bad_durations_refused(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("ESCALATION_LEVEL_INTERVAL", raw)
    with pytest.raises(ValidationError):
        EscalationSettings()


def test_defaults_match_the_documented_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RESPONSE_SLA_RED", "RESPONSE_SLA_YELLOW", "RESPONSE_SLA_GREEN"):
        monkeypatch.delenv(f"ESCALATION_{name}", raising=False)
    settings = EscalationSettings()
    assert settings.ops_port == 9102
    clock = yaml.safe_load(POLICY_YAML.read_text())["policies"][0]["clocks"][0]
    durations = TypeAdapter(timedelta)
    documented = {
        Severity(k): durations.validate_python(v) for k, v in clock["target_by_severity"].items()
    }
    assert dict(settings.policy().response_sla) == documented
    assert durations.validate_python(clock["escalation"]["level_interval"]) == (
        settings.level_interval
    )
    assert clock["escalation"]["max_level"] == settings.max_level
