"""Notifier settings from the environment (prefix NOTIFIER_)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from complaints_kit.settings import OpsSettings
from complaints_notifier.domain.retry import RetryPolicy
from complaints_notifier.domain.webhook_signature import secret_key

_DURATIONS = (
    "backoff_base",
    "backoff_max",
    "max_retry_after",
    "request_timeout",
    "shutdown_grace",
)


class NotifierSettings(OpsSettings):
    """Durations accept seconds ("0.5") or ISO-8601 durations ("PT1M")."""

    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    ops_port: int = Field(default=9103, ge=0, le=65535)
    webhook_url: str = Field(pattern=r"^https?://", description="Where escalations are POSTed.")
    webhook_secret: SecretStr = Field(description="Standard Webhooks secret, whsec_<base64>.")
    receiver: str = Field(default="default", min_length=1, max_length=128)
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base: timedelta = timedelta(seconds=1)
    backoff_max: timedelta = timedelta(seconds=60)
    max_retry_after: timedelta = timedelta(minutes=5)
    request_timeout: timedelta = timedelta(seconds=10)
    concurrency: int = Field(default=16, ge=1, le=1024)
    consumer_group: str = Field(default="notifier", min_length=1)
    # Seconds SIGTERM waits for in-flight deliveries before abandoning them (uncommitted).
    shutdown_grace: timedelta = timedelta(seconds=5)

    @field_validator(*_DURATIONS, mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        """A bare number in the environment is seconds."""
        if isinstance(value, str):
            try:
                return timedelta(seconds=float(value))
            except ValueError:
                return value
        return value

    @field_validator(*_DURATIONS)
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be a positive duration")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _whsec(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if not secret.startswith("whsec_"):
            raise ValueError("must start with 'whsec_'")
        secret_key(secret)  # raises a ValueError naming the problem
        return value

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base=self.backoff_base,
            cap=max(self.backoff_max, self.backoff_base),
            max_retry_after=self.max_retry_after,
        )
