"""Settings from the environment: durations, secret validation, defaults."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from complaints_notifier.settings import NotifierSettings

from .factories import SECRET

REQUIRED = {
    "NOTIFIER_WEBHOOK_URL": "http://127.0.0.1:8099/hooks/escalations",
    "NOTIFIER_WEBHOOK_SECRET": SECRET,
}


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    settings = NotifierSettings()
    assert (settings.ops_host, settings.ops_port) == ("127.0.0.1", 9103)
    assert (settings.receiver, settings.consumer_group) == ("default", "notifier")
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == SECRET
    assert SECRET not in repr(settings)
    policy = settings.retry_policy()
    assert (policy.max_attempts, policy.base, policy.cap) == (
        8,
        timedelta(seconds=1),
        timedelta(seconds=60),
    )


@pytest.mark.parametrize(
    ("name", "value", "field", "expected"),
    [
        ("NOTIFIER_BACKOFF_BASE", "0.05", "backoff_base", timedelta(milliseconds=50)),
        ("NOTIFIER_BACKOFF_MAX", "PT2M", "backoff_max", timedelta(minutes=2)),
        ("NOTIFIER_REQUEST_TIMEOUT", "3", "request_timeout", timedelta(seconds=3)),
        ("NOTIFIER_MAX_ATTEMPTS", "3", "max_attempts", 3),
        ("NOTIFIER_CONCURRENCY", "4", "concurrency", 4),
        ("NOTIFIER_OPS_PORT", "0", "ops_port", 0),
    ],
)
def test_environment_overrides(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str, expected: object
) -> None:
    for key, val in {**REQUIRED, name: value}.items():
        monkeypatch.setenv(key, val)
    assert getattr(NotifierSettings(), field) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NOTIFIER_WEBHOOK_SECRET", "not-a-whsec"),
        ("NOTIFIER_WEBHOOK_SECRET", "whsec_%%%"),
        ("NOTIFIER_WEBHOOK_URL", "ftp://example.org/x"),
        ("NOTIFIER_BACKOFF_BASE", "0"),
        ("NOTIFIER_MAX_ATTEMPTS", "0"),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    for key, val in {**REQUIRED, name: value}.items():
        monkeypatch.setenv(key, val)
    with pytest.raises(ValidationError):
        NotifierSettings()


def test_webhook_required_without_routing_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFIER_WEBHOOK_URL", "http://127.0.0.1:8099/x")
    with pytest.raises(ValidationError, match="NOTIFIER_ROUTING_FILE"):
        NotifierSettings()
    monkeypatch.setenv("NOTIFIER_ROUTING_FILE", "config/notifier/routing.yaml")
    monkeypatch.setenv("ACK_LINK_SECRET", "shared")
    settings = NotifierSettings()
    assert settings.ack_link_secret.get_secret_value() == "shared"
