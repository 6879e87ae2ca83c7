"""Settings parse seconds and ISO-8601 durations; the documented policy matches the defaults."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from complaints_escalation.app import STATE_TABLE, build_service
from complaints_escalation.domain.calendar import CALENDAR_24X7
from complaints_escalation.domain.policy import ClockSpec, EscalationPolicy, Subject
from complaints_escalation.settings import EscalationSettings
from complaints_kit.settings import KafkaSettings
from complaints_schemas.events import Scope, Severity

from .factories import T0

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
    assert response_target(EscalationSettings().policy(), Severity.RED) == expected


@pytest.mark.parametrize("raw", ["0", "-5", "soon"])
def test_bad_durations_refused(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("ESCALATION_LEVEL_INTERVAL", raw)
    with pytest.raises(ValidationError):
        EscalationSettings()


def test_defaults_match_the_documented_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "RESPONSE_SLA_RED",
        "RESPONSE_SLA_YELLOW",
        "RESPONSE_SLA_GREEN",
        "LEVEL_INTERVAL",
        "MAX_LEVEL",
        "POLICY_FILE",
    ):
        monkeypatch.delenv(f"ESCALATION_{name}", raising=False)
    settings = EscalationSettings()
    assert settings.ops_port == 9102
    assert settings.policy_path() is not None
    policy = settings.policy()
    assert policy.version == yaml.safe_load(POLICY_YAML.read_text())["version"]
    # The settings' defaults are the file's default response clock: overriding changes nothing.
    assert {s: response_target(policy, s) for s in Severity} == {
        Severity.RED: settings.response_sla_red,
        Severity.YELLOW: settings.response_sla_yellow,
        Severity.GREEN: settings.response_sla_green,
    }
    chain = response_spec(policy, Severity.RED).chain
    assert len(chain.levels) == settings.max_level
    assert chain.levels[1].after - chain.levels[0].after == settings.level_interval


def test_env_overrides_the_response_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESCALATION_LEVEL_INTERVAL", "30")
    monkeypatch.setenv("ESCALATION_MAX_LEVEL", "2")
    policy = EscalationSettings().policy()
    chain = response_spec(policy, Severity.RED).chain
    assert [lv.after for lv in chain.levels] == [timedelta(0), timedelta(seconds=30)]
    assert [lv.targets for lv in chain.levels] == [("handler",), ("team_lead",)]
    assert policy.version.endswith("+env")


def test_unknown_complaint_grace_from_the_file_kept_under_overrides_or_set_by_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ESCALATION_UNKNOWN_COMPLAINT_GRACE", raising=False)
    monkeypatch.setenv("ESCALATION_LEVEL_INTERVAL", "30")
    assert EscalationSettings().policy().unknown_complaint_grace == timedelta(minutes=15)
    monkeypatch.setenv("ESCALATION_UNKNOWN_COMPLAINT_GRACE", "4")
    assert EscalationSettings().policy().unknown_complaint_grace == timedelta(seconds=4)


def response_spec(policy: EscalationPolicy, severity: Severity) -> ClockSpec:
    subject = Subject(severity=severity, scope=Scope.INDIVIDUAL, category="x", department="x")
    return next(s for s in policy.clocks_for(subject) if s.name == "response")


def response_target(policy: EscalationPolicy, severity: Severity) -> timedelta:
    return response_spec(policy, severity).target.budget(T0, CALENDAR_24X7)


@pytest.mark.parametrize(("store", "kind"), [("rocksdb://", "rocksdb"), ("memory://", "memory")])
def test_the_state_table_uses_the_configured_store(tmp_path: Path, store: str, kind: str) -> None:
    settings = EscalationSettings(data_dir=tmp_path, state_store=store)  # type: ignore[arg-type]
    service = build_service(settings, KafkaSettings())
    data = service.app.tables[STATE_TABLE].data
    assert type(data).__module__ == f"faust.stores.{kind}"


def test_a_group_instance_id_makes_the_worker_a_static_member(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ESCALATION_GROUP_INSTANCE_ID", "escalation-0")
    settings = EscalationSettings(data_dir=tmp_path)
    assert settings.group_instance_id == "escalation-0"
    service = build_service(settings, KafkaSettings())
    assert service.app.conf.consumer_group_instance_id == "escalation-0"
