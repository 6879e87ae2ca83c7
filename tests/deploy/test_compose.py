"""docker-compose.yml agrees with the services: build contexts, healthchecks, ports, settings.

There is no Docker engine on the build machines, so the file is checked statically
against each service's own settings class.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from complaints_classifier.settings import ClassifierSettings
from complaints_escalation.settings import EscalationSettings
from complaints_intake.settings import IntakeSettings
from complaints_kit.settings import KafkaSettings
from complaints_notifier.settings import NotifierSettings
from complaints_schemas.ack_links import AckClaims, sign_ack_token, verify_ack_token

ROOT = Path(__file__).resolve().parents[2]
SERVICES: dict[str, tuple[type[BaseSettings], str]] = {
    "intake": (IntakeSettings, "INTAKE_HTTP_PORT"),
    "classifier": (ClassifierSettings, "CLASSIFIER_OPS_PORT"),
    "escalation": (EscalationSettings, "ESCALATION_OPS_PORT"),
    "notifier": (NotifierSettings, "NOTIFIER_OPS_PORT"),
}


def _interpolate(value: str) -> str:
    """Compose's `${VAR:-default}` with VAR unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


@pytest.mark.parametrize("name", SERVICES)
def test_service_is_built_from_its_own_target(compose: dict[str, Any], name: str) -> None:
    build = compose["services"][name]["build"]
    assert build["context"] == "."
    assert build["target"] == name
    dockerfile = (ROOT / build.get("dockerfile", "Dockerfile")).read_text()
    assert f"FROM runtime AS {name}\n" in dockerfile
    assert f"--package complaints-{name}" in dockerfile
    service = compose["services"][name]
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]


def _aliases(settings_cls: type[BaseSettings]) -> dict[str, str]:
    """Variables a field also answers to (e.g. ACK_LINK_SECRET, shared by two services)."""
    names: dict[str, str] = {}
    for field_name, field in settings_cls.model_fields.items():
        choices = getattr(field.validation_alias, "choices", ())
        names |= {str(c): field_name for c in choices}
    return names


@pytest.mark.parametrize("name", SERVICES)
def test_environment_names_real_settings(compose: dict[str, Any], name: str) -> None:
    settings_cls, _ = SERVICES[name]
    env = compose["services"][name]["environment"]
    prefix = settings_cls.model_config.get("env_prefix", "")
    aliases = _aliases(settings_cls)
    for key in env:
        if key.startswith("KAFKA_"):
            assert key.removeprefix("KAFKA_").lower() in KafkaSettings.model_fields, key
        elif key in aliases:
            continue
        else:
            assert key.startswith(prefix), key
            assert key.removeprefix(prefix).lower() in settings_cls.model_fields, key
    # The settings load from exactly this environment (compose defaults interpolated).
    settings_of(settings_cls, env)
    KafkaSettings.model_validate(
        {
            k.removeprefix("KAFKA_").lower(): _interpolate(str(v))
            for k, v in env.items()
            if k.startswith("KAFKA_")
        }
    )


def settings_of(settings_cls: type[BaseSettings], env: dict[str, Any]) -> Any:
    prefix = settings_cls.model_config.get("env_prefix", "")
    aliases = _aliases(settings_cls)
    values = {
        k.removeprefix(prefix).lower(): _interpolate(str(v))
        for k, v in env.items()
        if k.startswith(prefix)
    }
    values |= {aliases[k]: _interpolate(str(v)) for k, v in env.items() if k in aliases}
    return settings_cls.model_validate(values)


def test_acknowledge_links_work_in_the_compose_stack(compose: dict[str, Any]) -> None:
    """What the notifier signs with its settings, intake redeems with its own."""
    services = compose["services"]
    notifier = settings_of(NotifierSettings, services["notifier"]["environment"])
    intake = settings_of(IntakeSettings, services["intake"]["environment"])
    assert notifier.ack_link_secret.get_secret_value()
    assert intake.ack_link_secret.get_secret_value() == notifier.ack_link_secret.get_secret_value()
    # The base URL is intake's published port, reached from a browser on the host.
    assert notifier.ack_base_url == "http://localhost:8080/v1/ack/"
    assert "8080:8080" in services["intake"]["ports"]
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    claims = AckClaims(
        complaint_id="CMP-1",
        escalation_id="ESC-1",
        receiver="ops",
        expires_at=now + timedelta(hours=1),
    )
    token = sign_ack_token(claims, secret=notifier.ack_link_secret.get_secret_value())
    redeemed = verify_ack_token(token, secret=intake.ack_link_secret.get_secret_value(), now=now)
    assert redeemed == claims


def test_topics_are_created_once_and_verified_by_the_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["topics"]["environment"]["KAFKA_TOPICS"] == "create"
    for name in SERVICES:
        assert services[name]["environment"]["KAFKA_TOPICS"] == "verify", name


@pytest.mark.parametrize("name", SERVICES)
def test_port_healthcheck_and_readiness_agree(compose: dict[str, Any], name: str) -> None:
    _, port_key = SERVICES[name]
    service = compose["services"][name]
    port = service["environment"][port_key]
    assert f"{port}:{port}" in service["ports"]
    probe = " ".join(service["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/readyz" in probe
    host_key = port_key.replace("_PORT", "_HOST")
    assert service["environment"][host_key] == "0.0.0.0"
    assert (
        compose["services"][name]["depends_on"]["topics"]["condition"]
        == "service_completed_successfully"
    )


def test_prometheus_scrapes_each_service_on_its_port(compose: dict[str, Any]) -> None:
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"][0] for job in scrape["scrape_configs"]
    }
    for name, (_, port_key) in SERVICES.items():
        assert targets[name] == f"{name}:{compose['services'][name]['environment'][port_key]}"
    for name in SERVICES:
        assert (
            compose["services"]["prometheus"]["depends_on"][name]["condition"] == "service_healthy"
        )
