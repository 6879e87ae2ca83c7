"""Notifier settings from the environment (prefix NOTIFIER_)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
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
    "ack_link_ttl",
)


class NotifierSettings(OpsSettings):
    """Durations accept seconds ("0.5") or ISO-8601 durations ("PT1M")."""

    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    ops_port: int = Field(default=9103, ge=0, le=65535)
    # Required unless a routing file is given (then the file's webhook channels may use them).
    webhook_url: str | None = Field(
        default=None, pattern=r"^https?://", description="Where escalations are POSTed."
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="Standard Webhooks secret, whsec_<base64>."
    )
    routing_file: Path | None = Field(
        default=None, description="config/notifier/routing.yaml; without it all go to the webhook."
    )
    # The escalation policy whose chain targets the routing file's directory.roles must cover
    # (read at start only for that check); required when the routing file has roles.
    policy_file: Path | None = Field(
        default=None, description="config/escalation/policy.yaml, as escalation reads it."
    )
    # Signed acknowledge links to intake's GET /v1/ack/{token}; the secret is shared with intake.
    ack_base_url: str = Field(default="", pattern=r"^(https?://.*)?$")
    ack_link_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("ACK_LINK_SECRET", "NOTIFIER_ACK_LINK_SECRET"),
    )
    ack_link_ttl: timedelta = timedelta(hours=24)
    status_url_template: str = Field(default="", description="e.g. https://crm/c/{complaint_id}")
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
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if not secret.startswith("whsec_"):
            raise ValueError("must start with 'whsec_'")
        secret_key(secret)  # raises a ValueError naming the problem
        return value

    @model_validator(mode="after")
    def _webhook_or_routing(self) -> NotifierSettings:
        if self.routing_file is None and (self.webhook_url is None or self.webhook_secret is None):
            raise ValueError(
                "NOTIFIER_WEBHOOK_URL and NOTIFIER_WEBHOOK_SECRET are required "
                "unless NOTIFIER_ROUTING_FILE is set"
            )
        return self

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base=self.backoff_base,
            cap=max(self.backoff_max, self.backoff_base),
            max_retry_after=self.max_retry_after,
        )
