"""docker-compose.yml's read model agrees with the console's settings and the links point at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from complaints_console.settings import ConsoleSettings, ProjectorSettings
from tests.deploy.test_compose import _interpolate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


@pytest.mark.parametrize(
    ("name", "settings_cls", "port_key"),
    [
        ("projector", ProjectorSettings, "PROJECTOR_OPS_PORT"),
        ("console", ConsoleSettings, "CONSOLE_HTTP_PORT"),
    ],
)
def test_read_model_services_use_real_settings(
    compose: dict[str, Any], name: str, settings_cls: type[BaseSettings], port_key: str
) -> None:
    service = compose["services"][name]
    assert service["build"]["dockerfile"] == "services/console/Dockerfile"
    env = service["environment"]
    prefix = str(settings_cls.model_config.get("env_prefix", ""))
    values = {
        k.removeprefix(prefix).lower(): _interpolate(str(v))
        for k, v in env.items()
        if k.startswith(prefix)
    }
    for key in values:
        assert key in settings_cls.model_fields, key
    settings = settings_cls.model_validate(values)
    assert settings.database_url.startswith("postgresql://")  # type: ignore[attr-defined]
    port = env[port_key]
    assert f"{port}:{port}" in service["ports"]
    assert f"127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])


def test_alerts_and_locations_link_to_the_console(compose: dict[str, Any]) -> None:
    console_port = compose["services"]["console"]["environment"]["CONSOLE_HTTP_PORT"]
    template = compose["services"]["notifier"]["environment"]["NOTIFIER_STATUS_URL_TEMPLATE"]
    assert template == f"http://127.0.0.1:{console_port}/complaints/{{complaint_id}}"
    assert compose["services"]["intake"]["environment"]["INTAKE_CONSOLE_URL"].endswith(
        f":{console_port}"
    )
    assert (
        compose["services"]["projector"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    )
