"""The service as a subprocess over the real broker: escalations at their instant, once."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from complaints_escalation.domain.transitions import escalation_id
from complaints_kit.settings import KafkaSettings
from complaints_schemas.events import (
    ComplaintEscalated,
    ComplaintRejected,
    EscalationKind,
    LifecycleAction,
    Severity,
)
from complaints_schemas.topics import CLASSIFIED, ESCALATED, LIFECYCLE, REJECTED

from .broker_io import ServiceProcess, produce, produce_raw, read_all, wait_for
from .factories import classified, lifecycle

pytestmark = pytest.mark.kafka

SLA_RED = 2


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def escalations_for(settings: KafkaSettings, complaint_id: str) -> list[ComplaintEscalated]:
    return [
        e
        for e in read_all(settings, ESCALATED.name, ComplaintEscalated)
        if e.complaint_id == complaint_id
    ]


@pytest.fixture
def service(kafka_settings: KafkaSettings, tmp_path: Path) -> Iterator[ServiceProcess]:
    proc = ServiceProcess.configure(
        kafka_settings,
        tmp_path,
        response_sla_red=str(SLA_RED),
        response_sla_yellow="PT30M",
        level_interval="600",
    )
    yield proc
    proc.stop_quietly()


def test_unacknowledged_red_escalates_once_and_acknowledged_does_not(
    kafka_settings: KafkaSettings, service: ServiceProcess
) -> None:
    ready_s = service.start()
    print(f"startup to ready: {ready_s:.1f}s")
    late, on_time, early_ack = unique("INT-late"), unique("INT-ack"), unique("INT-early")
    now = datetime.now(UTC)
    produce_raw(kafka_settings, CLASSIFIED.name, key=b"INT-bad", value=b"{not json")
    produce(
        kafka_settings,
        [
            # The acknowledgement for `early_ack` overtakes its classification.
            (LIFECYCLE.name, lifecycle(early_ack, LifecycleAction.ACKNOWLEDGED, at=now)),
            *[
                (CLASSIFIED.name, classified(c, severity=Severity.RED, accepted_at=now))
                for c in (late, on_time, early_ack)
            ],
            (LIFECYCLE.name, lifecycle(on_time, LifecycleAction.ACKNOWLEDGED, at=now)),
        ],
    )

    (escalated,) = wait_for(
        lambda: escalations_for(kafka_settings, late), timeout=30, what="the escalation"
    )
    arrived = datetime.now(UTC)
    assert escalated.kind is EscalationKind.BREACH
    assert (escalated.clock, escalated.level) == ("response", 1)
    assert escalated.deadline == now + timedelta(seconds=SLA_RED)
    assert escalated.escalated_at >= escalated.deadline
    assert escalated.escalation_id == escalation_id(
        complaint_id=late, clock="response", kind="breach", level=1, repeat=0
    )
    print(
        f"escalation arrived {(arrived - escalated.deadline).total_seconds():.2f}s after deadline"
    )

    time.sleep(2)  # give a duplicate or a wrong escalation time to show up
    assert len(escalations_for(kafka_settings, late)) == 1
    assert escalations_for(kafka_settings, on_time) == []
    assert escalations_for(kafka_settings, early_ack) == []

    rejected = wait_for(
        lambda: [
            r
            for r in read_all(kafka_settings, REJECTED.name, ComplaintRejected)
            if r.original == b"{not json"
        ],
        timeout=15,
        what="the rejected record",
    )
    assert rejected[0].reason == "invalid_envelope"  # no CloudEvents headers
    assert rejected[0].source_topic == CLASSIFIED.name
    assert service.metric('complaints_escalation_rejected_total{reason="invalid_envelope"}') >= 1
    assert service.metric("complaints_escalation_fire_lag_seconds_count") >= 1
    assert service.metric('complaints_escalation_open_complaints{severity="red"}') >= 3

    stop_s = service.terminate()
    print(f"SIGTERM to exit: {stop_s:.1f}s")
    assert stop_s < 10


def test_killed_worker_escalates_after_restart(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    service = ServiceProcess.configure(
        kafka_settings, tmp_path, response_sla_red="6", level_interval="600"
    )
    try:
        service.start()
        complaint = unique("INT-kill")
        now = datetime.now(UTC)
        produce(kafka_settings, [(CLASSIFIED.name, classified(complaint, accepted_at=now))])
        wait_for(
            lambda: (
                service.metric(
                    'complaints_escalation_transitions_total{outcome="classified",source="classified"}'
                )
                >= 1
            ),
            timeout=30,
            what="the classification to be processed",
        )
        time.sleep(0.5)  # let the changelog record leave the producer
        service.kill()
        assert escalations_for(kafka_settings, complaint) == []
        restarted = time.monotonic()
        ready_s = service.start()
        (escalated,) = wait_for(
            lambda: escalations_for(kafka_settings, complaint), timeout=60, what="the escalation"
        )
        print(
            f"restart to ready: {ready_s:.1f}s; restart to escalation: "
            f"{time.monotonic() - restarted:.1f}s"
        )
        assert escalated.level == 1
        time.sleep(2)
        assert len(escalations_for(kafka_settings, complaint)) == 1
        assert service.terminate() < 10
    finally:
        service.stop_quietly()


def _changelog_tombstones(settings: KafkaSettings, topic: str, key: bytes) -> list[int]:
    """Offsets of the tombstones (null values) for `key` in a changelog, start to end."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.bootstrap_servers,
            "group.id": f"tombstones-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    metadata = consumer.list_topics(topic, timeout=10).topics[topic]
    found: list[int] = []
    for partition in metadata.partitions:
        tp = TopicPartition(topic, partition)
        low, high = consumer.get_watermark_offsets(tp, timeout=10)
        if high <= low:
            continue
        consumer.assign([TopicPartition(topic, partition, low)])
        position = low
        while position < high:
            message = consumer.poll(5)
            if message is None:
                break
            position = message.offset() + 1
            if message.error() is None and message.key() == key and message.value() is None:
                found.append(message.offset())
    consumer.close()
    return found


def test_a_closed_complaint_is_tombstoned_after_retention_once_the_console_read_it(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    console = f"console-projector-{uuid.uuid4().hex[:8]}"
    service = ServiceProcess.configure(
        kafka_settings,
        tmp_path,
        closed_retention="60",
        retention_sweep_interval="0.5",
        retention_after_group=console,
    )
    service.start()
    try:
        cid = unique("RET-closed")
        open_cid = unique("RET-open")
        closed_long_ago = datetime.now(UTC) - timedelta(hours=1)
        produce(
            kafka_settings,
            [
                (CLASSIFIED.name, classified(cid, accepted_at=closed_long_ago)),
                (CLASSIFIED.name, classified(open_cid, severity=Severity.GREEN)),
                (LIFECYCLE.name, lifecycle(cid, LifecycleAction.CLOSED, at=closed_long_ago)),
            ],
        )
        changelog = "complaints-escalation-complaint-state-changelog"
        key = json.dumps(cid).encode()
        wait_for(
            lambda: service.metric("complaints_escalation_retention_closed_states") >= 1,
            timeout=30,
            what="the closed complaint noted",
        )
        time.sleep(3)  # several sweeps: the console has read nothing, so nothing goes
        assert _changelog_tombstones(kafka_settings, changelog, key) == []
        # The console's projector commits past the closing (its whole lifecycle topic).
        reader = Consumer(
            {"bootstrap.servers": kafka_settings.bootstrap_servers, "group.id": console}
        )
        partitions = reader.list_topics(LIFECYCLE.name, timeout=10).topics[LIFECYCLE.name]
        ends = [
            TopicPartition(
                LIFECYCLE.name,
                p,
                reader.get_watermark_offsets(TopicPartition(LIFECYCLE.name, p), timeout=10)[1],
            )
            for p in partitions.partitions
        ]
        reader.commit(offsets=ends, asynchronous=False)
        reader.close()
        (_tombstone,) = wait_for(
            lambda: _changelog_tombstones(kafka_settings, changelog, key),
            timeout=30,
            what="the closed complaint's tombstone",
        )
        assert service.metric("complaints_escalation_retention_purged_total") >= 1
        open_key = json.dumps(open_cid).encode()
        assert _changelog_tombstones(kafka_settings, changelog, open_key) == []
        assert service.get(f"/v1/complaints/{cid}")[0] == 404
        assert service.get(f"/v1/complaints/{open_cid}")[0] == 200
    finally:
        service.stop_quietly()
