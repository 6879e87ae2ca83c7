"""Intake settings from the environment (prefix INTAKE_)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from complaints_intake.domain.bounds import OccurredWindow
from complaints_kit.settings import OpsSettings

_DURATIONS = (
    "dedup_ttl",
    "dedup_sync_timeout",
    "delivery_timeout",
    "shutdown_timeout",
    "occurred_max_age",
    "occurred_max_ahead",
)


class IntakeSettings(OpsSettings):
    """The HTTP API and the ops endpoints share one server: http_host/http_port.

    Durations accept seconds ("86400") or ISO-8601 durations ("P1D").
    """

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    consumer_group: str = "intake"
    consume_submitted: bool = Field(
        default=True, description="Consume complaints.submitted.v1 (channels that use Kafka)."
    )
    provision_topics: bool = True
    dedup_ttl: timedelta = timedelta(hours=24)
    dedup_max_entries: int = Field(default=100_000, ge=1)
    # Read complaints.accepted.v1 back (from now - dedup_ttl at start, then tailed), so a resend
    # that reaches another intake process or comes after a restart is a duplicate too
    # (docs/decisions/0008-intake-dedup-across-processes.md). Off: this process's memory only.
    dedup_shared: bool = True
    # How long a complaint not seen here waits for that read to reach the broker's end; past
    # it, the complaint is published as new (a redelivery downstream if it was not).
    dedup_sync_timeout: timedelta = timedelta(seconds=2)
    batch_max_items: int = Field(default=500, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    delivery_timeout: timedelta = timedelta(seconds=30)
    retry_after_seconds: int = Field(default=1, ge=1)
    consumer_batch_size: int = Field(default=200, ge=1)
    shutdown_timeout: timedelta = timedelta(seconds=8)
    # occurred_at must lie within [now - max_age, now + max_ahead] (domain/bounds.py).
    occurred_max_age: timedelta = timedelta(days=1830)  # five years
    occurred_max_ahead: timedelta = timedelta(minutes=15)
    # A body over max_body_bytes is read and dropped up to this many bytes before the 413
    # (a connection closed with unread bytes is reset, and the client never sees the 413).
    drain_max_bytes: int = Field(default=64 * 1_048_576, ge=0)
    # The channels, their hashed API keys, allowed steps and rates (channels_file.py). Unset:
    # no authentication, for local development only (logged, and 0 on auth_enabled).
    channels_file: Path | None = None
    # Shared with the notifier, which signs the acknowledge links in its alerts; empty: disabled.
    ack_link_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("ACK_LINK_SECRET", "INTAKE_ACK_LINK_SECRET"),
    )

    def occurred_window(self) -> OccurredWindow:
        return OccurredWindow(max_age=self.occurred_max_age, max_ahead=self.occurred_max_ahead)

    # The console's base URL: GET /v1/complaints/{id} (the Location of an accepted complaint)
    # redirects to its page there. Empty: that route answers 404.
    console_url: str = Field(default="", pattern=r"^(https?://.*)?$")

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
