"""The broker restarted under a running pipeline: the services reconnect and nothing is lost.

Runs its own broker (a restart would disturb the session's), so it needs the local one:
skipped when KAFKA_BOOTSTRAP_SERVERS names an external broker.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from complaints_cli.broker import LocalKafka
from complaints_cli.stack import Stack
from complaints_kit.kafka import provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import ALL_TOPICS
from tests.faults.conftest import FAULT_ENV
from tests.faults.deliveries import settle
from tests.faults.test_sink_outage import publish

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")), reason="restarts its own local broker"
    ),
]


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalKafka]:
    broker = LocalKafka(state_dir=tmp_path / "kafka")
    broker.start()
    provision_topics(KafkaSettings(bootstrap_servers=broker.bootstrap_servers), ALL_TOPICS)
    try:
        yield broker
    finally:
        broker.stop()


def test_a_broker_restart_loses_and_doubles_nothing(
    own_broker: LocalKafka, tmp_path: Path, report: Callable[..., None]
) -> None:
    stack = Stack(bootstrap=own_broker.bootstrap_servers, workdir=tmp_path / "stack", env=FAULT_ENV)
    stack.start()
    try:
        marker = uuid.uuid4().hex
        expected = publish(stack, marker, range(0, 20))
        time.sleep(2)  # classified, clocks running: the deadlines fall due around the restart
        started = time.monotonic()
        own_broker.restart()
        down_s = time.monotonic() - started
        expected |= publish(stack, marker, range(20, 40))
        counts, lost, duplicates = settle(
            stack, expected, timeout=150, what="every breach after the broker restart"
        )
        report(
            f"broker restarted ({down_s:.1f} s): escalations expected {len(expected)}, "
            f"delivered {len(set(counts) & set(expected))}, duplicates {len(duplicates)}, "
            f"lost {len(lost)}"
        )
        assert lost == []
        assert duplicates == {}
        for name, proc in stack.services.items():
            assert proc.running(), name
    finally:
        stack.stop()
