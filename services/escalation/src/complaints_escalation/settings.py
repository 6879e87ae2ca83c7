"""Escalation settings from the environment (prefix ESCALATION_)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from complaints_escalation.domain.calendar import HolidayData
from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.outbound.holidays import load_chinese_holidays
from complaints_escalation.outbound.policy_file import load_policy
from complaints_kit.settings import OpsSettings
from complaints_schemas.events import Severity

_DURATIONS = (
    "response_sla_red",
    "response_sla_yellow",
    "response_sla_green",
    "level_interval",
    "unknown_complaint_grace",
)
_RESPONSE = ("response_sla_red", "response_sla_yellow", "response_sla_green")
# The repository's policy when run from a checkout (tests, `complaints dev`, the image's /src).
DEFAULT_POLICY_FILE = Path("config/escalation/policy.yaml")
_REPO_POLICY_FILE = Path(__file__).resolve().parents[4] / DEFAULT_POLICY_FILE


class EscalationSettings(OpsSettings):
    """Durations accept seconds ("600") or ISO-8601 durations ("PT10M")."""

    model_config = SettingsConfigDict(env_prefix="ESCALATION_", extra="ignore")

    ops_port: int = Field(default=9102, ge=0, le=65535)
    response_sla_red: timedelta = timedelta(minutes=10)
    response_sla_yellow: timedelta = timedelta(minutes=30)
    response_sla_green: timedelta = timedelta(hours=2)
    level_interval: timedelta = timedelta(minutes=10)
    max_level: int = Field(default=3, ge=1, le=20)
    # Set: replaces the policy file's unknown_complaint_grace (demos and e2e tests).
    unknown_complaint_grace: timedelta | None = None
    data_dir: Path = Path(tempfile.gettempdir()) / "complaints-escalation"
    app_id: str = "complaints-escalation"
    # Static group membership: a stable name per worker (the StatefulSet's pod name). A
    # worker restarted under it within the session timeout keeps its partitions and its
    # local state without a rebalance. Empty: dynamic membership (a restart waits out the
    # session timeout of its old member). Two live workers must never share one.
    group_instance_id: str | None = None
    # Empty: config/escalation/policy.yaml from the working directory or the checkout.
    policy_file: Path | None = None
    # Operator holiday files (*.yaml, one per region and year); empty: config/calendars.
    holiday_dir: Path | None = None
    # rocksdb:// (the rocksdict binding): states on local disk under data_dir, so RSS stays
    # small and a restarted worker replays only the changelog's tail. memory://: in RAM, the
    # whole changelog re-read at every start.
    state_store: Literal["rocksdb://", "memory://"] = "rocksdb://"
    # RocksDB memory per partition (6): block cache, and each of its 2 write buffers.
    store_cache_bytes: int = Field(default=8 * 1024 * 1024, ge=1024 * 1024)
    store_write_buffer_bytes: int = Field(default=4 * 1024 * 1024, ge=1024 * 1024)
    # Retention of closed complaints (outbound/retention.py): unset keeps them forever. With
    # retention_after_group (the console projector's consumer group) a state is deleted only
    # once that group has read the complaint's closing.
    closed_retention: timedelta | None = None
    retention_after_group: str | None = None
    retention_sweep_interval: timedelta = timedelta(minutes=10)

    @field_validator("closed_retention", "retention_sweep_interval", mode="before")
    @classmethod
    def _retention_seconds(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                return timedelta(seconds=float(value))
            except ValueError:
                return value
        return value

    @field_validator("closed_retention", "retention_sweep_interval")
    @classmethod
    def _retention_positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be a positive duration")
        return value

    # Publish each complaint's clocks after every change (complaints.clocks-updated.v1) for
    # the console's read model; off saves one send per record where no read model runs.
    publish_clocks: bool = True
    # Bearer token for the ops port's /v1/complaints and /v1/reports; empty: those are off.
    status_token: SecretStr = SecretStr("")

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
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be a positive duration")
        return value

    def policy_path(self) -> Path | None:
        if self.policy_file is not None:
            return self.policy_file
        for candidate in (DEFAULT_POLICY_FILE, _REPO_POLICY_FILE):
            if candidate.is_file():
                return candidate
        return None

    def policy(self, *, holiday_data: HolidayData | None = None) -> EscalationPolicy:
        """The policy file (validated) with the response overrides set in the environment."""
        path = self.policy_path()
        base = (
            EscalationPolicy.response_only()
            if path is None
            else load_policy(
                path, holiday_data=holiday_data or load_chinese_holidays(self.holiday_dir)
            )
        )
        explicit = self.model_fields_set
        response = None
        if any(name in explicit for name in _RESPONSE):
            response = {
                Severity.RED: self.response_sla_red,
                Severity.YELLOW: self.response_sla_yellow,
                Severity.GREEN: self.response_sla_green,
            }
        policy = base.with_response_override(
            response_sla=response,
            level_interval=self.level_interval if "level_interval" in explicit else None,
            max_level=self.max_level if "max_level" in explicit else None,
        )
        if self.unknown_complaint_grace is not None:
            policy = replace(policy, unknown_complaint_grace=self.unknown_complaint_grace)
        return policy
