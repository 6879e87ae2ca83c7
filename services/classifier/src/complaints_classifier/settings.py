"""Classifier settings from the environment (prefix CLASSIFIER_)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from complaints_kit.settings import OpsSettings

# services/classifier/src/complaints_classifier/settings.py -> the repository root.
REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_RULES_FILE = Path("config/classifier/rules.yaml")


class ClassifierSettings(OpsSettings):
    model_config = SettingsConfigDict(env_prefix="CLASSIFIER_", extra="ignore")

    ops_port: int = Field(default=9101, ge=0, le=65535)
    rules_file: Path = DEFAULT_RULES_FILE
    data_dir: Path = Field(
        default=Path(tempfile.gettempdir()) / "complaints-classifier",
        description="Unused since the state lives only in the changelog topics; still accepted.",
    )
    max_batch: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Records handled per batch: one delivery wait and one commit per batch.",
    )
    rules_poll_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How often to look at the rules file's mtime; 0: only on SIGHUP.",
    )
    # Customers also match on normalised phone or email, compared as HMAC-SHA256 keyed hashes
    # with this key (domain/identity.py); unset: by the channel's customer id only. Changing it
    # starts every customer's history afresh (the hashes change).
    identity_key: SecretStr | None = Field(default=None, min_length=16)
    # Static group membership (KIP-345): a stable name per worker (the StatefulSet's pod name).
    # A worker restarted under it within the session timeout gets its partitions back at once
    # instead of waiting out its old member's session. Two live workers must never share one.
    group_instance_id: str | None = None
    app_id: str = Field(
        default="complaints-classifier",
        description="The consumer group and the prefix of the internal topics.",
    )

    def rules_path(self) -> Path:
        """Absolute as given; relative to the working directory, else to the repository."""
        if self.rules_file.is_absolute():
            return self.rules_file
        in_cwd = Path.cwd() / self.rules_file
        if in_cwd.exists():
            return in_cwd
        return REPO_ROOT / self.rules_file
