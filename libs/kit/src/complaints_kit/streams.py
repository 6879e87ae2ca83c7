"""What the faust services (classifier, escalation) share: the App and the worker.

Imported only by services that depend on faust-streaming; the kit itself does not.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

import faust

from complaints_kit.logs import configure_logging
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import COMPLAINT_PARTITIONS


def faust_app(
    app_id: str, kafka: KafkaSettings, *, data_dir: Path, store: str = "memory://"
) -> faust.App:
    """A faust App on our conventions: raw bytes in and out (we decode CloudEvents
    ourselves), co-partitioned topics, a 10 s session so a dead worker's partitions move
    quickly, and no faust web server (each service serves its own ops endpoints)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        app_id,
        broker=[f"kafka://{host}" for host in kafka.bootstrap_servers.split(",")],
        store=store,
        web_enabled=False,
        autodiscover=False,
        topic_partitions=COMPLAINT_PARTITIONS,
        topic_replication_factor=1,
        broker_session_timeout=10,
        consumer_auto_offset_reset="earliest",
        datadir=str(data_dir),
        broker_credentials=faust_credentials(kafka),
        key_serializer="raw",
        value_serializer="raw",
        stream_publish_on_commit=False,
    )


def faust_credentials(kafka: KafkaSettings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    """The same SASL/TLS settings the confluent clients get (KAFKA_SECURITY_PROTOCOL, ...)."""
    tls = kafka.security_protocol in ("SSL", "SASL_SSL")
    context = ssl.create_default_context(cafile=kafka.ssl_ca_location) if tls else None
    if kafka.security_protocol.startswith("SASL_"):
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.get_secret_value() if kafka.sasl_password else None,
            ssl_context=context,
            mechanism=kafka.sasl_mechanism or "PLAIN",
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


RAW: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}


class JsonLoggingWorker(faust.Worker):
    """A faust worker that keeps our structured logging (mode replaces the root handlers)."""

    def __init__(
        self, *args: Any, service: str, log_level: str, log_json: bool, **kwargs: Any
    ) -> None:
        self._service = service
        self._log_level = log_level
        self._log_json = log_json
        super().__init__(*args, **kwargs)

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        configure_logging(self._service, level=self._log_level, json_lines=self._log_json)
