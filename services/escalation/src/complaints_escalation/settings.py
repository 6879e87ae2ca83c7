"""Escalation settings from the environment (prefix ESCALATION_)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from complaints_escalation.domain.policy import EscalationPolicy
from complaints_kit.settings import OpsSettings
from complaints_schemas.events import Severity

_DURATIONS = ("response_sla_red", "response_sla_yellow", "response_sla_green", "level_interval")


class EscalationSettings(OpsSettings):
    """Durations accept seconds ("600") or ISO-8601 durations ("PT10M")."""

    model_config = SettingsConfigDict(env_prefix="ESCALATION_", extra="ignore")

    ops_port: int = Field(default=9102, ge=0, le=65535)
    response_sla_red: timedelta = timedelta(minutes=10)
    response_sla_yellow: timedelta = timedelta(minutes=30)
    response_sla_green: timedelta = timedelta(hours=2)
    level_interval: timedelta = timedelta(minutes=10)
    max_level: int = Field(default=3, ge=1, le=20)
    data_dir: Path = Path(tempfile.gettempdir()) / "complaints-escalation"
    app_id: str = "complaints-escalation"

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

    def policy(self) -> EscalationPolicy:
        return EscalationPolicy(
            response_sla={
                Severity.RED: self.response_sla_red,
                Severity.YELLOW: self.response_sla_yellow,
                Severity.GREEN: self.response_sla_green,
            },
            level_interval=self.level_interval,
            max_level=self.max_level,
        )
