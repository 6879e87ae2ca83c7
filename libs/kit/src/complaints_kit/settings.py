"""Settings shared by every service, read from the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from complaints_schemas.topics import COMPLAINT_PARTITIONS


class KafkaSettings(BaseSettings):
    """How to reach the broker: `KAFKA_BOOTSTRAP_SERVERS` and, for secured clusters, SASL/TLS."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None
    # How topics are laid out on the cluster (docs/decisions/0001-topic-provisioning.md).
    # A laptop's single broker takes the defaults; the production overlay sets 3 and 2.
    topic_replication_factor: int = Field(default=1, ge=1, le=32)
    topic_min_insync_replicas: int = Field(default=1, ge=1, le=32)
    # Per-complaint topics and the services' co-partitioned internal topics.
    topic_partitions: int = Field(default=COMPLAINT_PARTITIONS, ge=1, le=1024)
    # create: a service creates what is missing at start (local runs); verify: it only
    # checks that the provisioning Job (`complaints topics`) laid the topics out as above.
    topics: Literal["create", "verify"] = "create"

    @model_validator(mode="after")
    def _insync_within_replicas(self) -> KafkaSettings:
        if self.topic_min_insync_replicas > self.topic_replication_factor:
            raise ValueError(
                f"KAFKA_TOPIC_MIN_INSYNC_REPLICAS ({self.topic_min_insync_replicas}) is more than "
                f"KAFKA_TOPIC_REPLICATION_FACTOR ({self.topic_replication_factor}): "
                "no write could ever succeed"
            )
        return self


class OpsSettings(BaseSettings):
    """Base for a service's own settings: where it serves /metrics, /healthz and /readyz."""

    model_config = SettingsConfigDict(extra="ignore")

    ops_host: str = "127.0.0.1"
    ops_port: int = Field(default=9100, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
