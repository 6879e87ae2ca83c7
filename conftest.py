"""Fixtures shared by every test folder: the real Kafka broker for the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complaints_cli.broker import kafka_broker
from complaints_kit.kafka import provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import ALL_TOPICS


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real broker: KAFKA_BOOTSTRAP_SERVERS if set, else a local KRaft broker for the session."""
    state_dir: Path = tmp_path_factory.mktemp("kafka")
    with kafka_broker(state_dir) as bootstrap:
        provision_topics(KafkaSettings(bootstrap_servers=bootstrap), ALL_TOPICS)
        yield bootstrap


@pytest.fixture(scope="session")
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap)
