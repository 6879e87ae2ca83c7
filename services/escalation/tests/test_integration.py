"""The service as a subprocess over the real broker: escalations at their instant, once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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
