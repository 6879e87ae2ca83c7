"""Projector (PROJECTOR_) and console (CONSOLE_) settings; both name the read model's database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from complaints_kit.settings import OpsSettings

DEFAULT_DATABASE = "sqlite:///.local/console/readmodel.db"
DATABASE_ALIASES = AliasChoices("CONSOLE_DATABASE_URL", "PROJECTOR_DATABASE_URL")


def _seconds(value: object) -> object:
    if isinstance(value, str):
        try:
            return timedelta(seconds=float(value))
        except ValueError:
            return value
    return value


class ProjectorSettings(OpsSettings):
    """The projector: topics into the database. Durations: seconds or ISO 8601."""

    model_config = SettingsConfigDict(
        env_prefix="PROJECTOR_", extra="ignore", populate_by_name=True
    )

    ops_port: int = Field(default=9104, ge=0, le=65535)
    database_url: str = Field(default=DEFAULT_DATABASE, validation_alias=DATABASE_ALIASES)
    consumer_group: str = Field(default="console-projector", min_length=1)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    # Closed complaints older than this are deleted from the read model (its history).
    retention: timedelta = timedelta(days=3 * 365)
    purge_every: timedelta = timedelta(hours=1)

    _durations = field_validator("retention", "purge_every", mode="before")(_seconds)


class ConsoleSettings(OpsSettings):
    """The web console: its port, the database, sign-in, and intake for the actions."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", populate_by_name=True)

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8090, ge=0, le=65535)
    database_url: str = Field(default=DEFAULT_DATABASE, validation_alias=DATABASE_ALIASES)
    # Who may sign in: users with argon2 password hashes, roles and departments (users_file.py).
    users_file: Path = Path("config/console/users.example.yaml")
    session_secret: SecretStr = Field(default=SecretStr(""), min_length=0)
    session_max_age: timedelta = timedelta(hours=8)
    secure_cookies: bool = Field(default=False, description="Set behind HTTPS.")
    # Where actions go: intake's lifecycle API, with the console's channel API key.
    intake_url: str = Field(default="http://127.0.0.1:8080", pattern=r"^https?://")
    intake_api_key: SecretStr = SecretStr("")
    # This console's own address, for links (alerts point at {public_url}/complaints/{id}).
    public_url: str = Field(default="http://127.0.0.1:8090", pattern=r"^https?://")
    page_size: int = Field(default=50, ge=1, le=500)

    _durations = field_validator("session_max_age", mode="before")(_seconds)

    @field_validator("session_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (or empty: random per start)")
        return value
