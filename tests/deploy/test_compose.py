"""docker-compose.yml agrees with the services: build contexts, healthchecks, ports, settings.

There is no Docker engine on the build machines, so the file is checked statically
against each service's own settings class.
"""

from __future__ import annotations

import re
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
def test_service_is_built_from_its_own_dockerfile(compose: dict[str, Any], name: str) -> None:
    build = compose["services"][name]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    assert build["dockerfile"] == f"services/{name}/Dockerfile"
    dockerfile = (ROOT / build["dockerfile"]).read_text()
    assert f"complaints_{name}" in dockerfile or f"complaints-{name}" in dockerfile


@pytest.mark.parametrize("name", SERVICES)
def test_environment_names_real_settings(compose: dict[str, Any], name: str) -> None:
    settings_cls, _ = SERVICES[name]
    env = compose["services"][name]["environment"]
    prefix = settings_cls.model_config.get("env_prefix", "")
    for key in env:
        if key.startswith("KAFKA_"):
            assert key.removeprefix("KAFKA_").lower() in KafkaSettings.model_fields, key
        else:
            assert key.startswith(prefix), key
            assert key.removeprefix(prefix).lower() in settings_cls.model_fields, key
    # The settings load from exactly this environment (compose defaults interpolated).
    settings_cls.model_validate(
        {
            k.removeprefix(prefix).lower(): _interpolate(str(v))
            for k, v in env.items()
            if k.startswith(prefix)
        }
    )


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
