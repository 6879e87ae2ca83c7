"""Over the real broker: warning, breach and two more levels arrive in order at their times;
an acknowledgement stops the chain."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from complaints_kit.settings import KafkaSettings
from complaints_schemas.events import ComplaintEscalated, LifecycleAction
from complaints_schemas.topics import CLASSIFIED, ESCALATED, LIFECYCLE

from .broker_io import ServiceProcess, produce, read_all, wait_for
from .factories import classified, lifecycle

pytestmark = pytest.mark.kafka

POLICY = """
version: "it-chain"
policies:
  - name: default
    match: {}
    clocks:
      - name: response
        target: 4 seconds
        stop: [acknowledged, responded, resolved, closed]
        pause: []
        warnings: [{lead: 2 seconds}]
        chain:
          levels:
            - {after: 0, targets: [handler]}
            - {after: 6, targets: [team_lead]}
            - {after: 12, targets: [department_owner]}
"""


def steps_for(settings: KafkaSettings, complaint_id: str) -> list[ComplaintEscalated]:
    return [
        e
        for e in read_all(settings, ESCALATED.name, ComplaintEscalated)
        if e.complaint_id == complaint_id
    ]


def test_warning_breach_levels_in_order_and_ack_stops_the_chain(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    # Its own consumer group and internal topics: no other test's worker shares partitions.
    service = ServiceProcess.configure(
        kafka_settings,
        tmp_path,
        policy_file=str(policy),
        app_id=f"it-chain-{uuid.uuid4().hex[:8]}",
    )
    try:
        service.start()
        late, acked = (f"CHAIN-{n}-{uuid.uuid4().hex[:10]}" for n in ("late", "ack"))
        now = datetime.now(UTC)
        produce(
            kafka_settings,
            [(CLASSIFIED.name, classified(c, accepted_at=now)) for c in (late, acked)],
        )
        # `acked` is acknowledged once its first breach level has gone out.
        wait_for(
            lambda: [e for e in steps_for(kafka_settings, acked) if e.level == 1],
            timeout=30,
            what="the first breach of the complaint to acknowledge",
        )
        produce(
            kafka_settings,
            [
                (
                    LIFECYCLE.name,
                    lifecycle(acked, LifecycleAction.ACKNOWLEDGED, at=datetime.now(UTC)),
                )
            ],
        )
        got = wait_for(
            lambda: s if len(s := steps_for(kafka_settings, late)) >= 4 else None,
            timeout=60,
            what="warning and three breach levels",
        )
        time.sleep(2)  # a duplicate or a level after the acknowledgement would show up now
        assert [(e.kind.value, e.level) for e in got] == [
            ("warning", 0),
            ("breach", 1),
            ("breach", 2),
            ("breach", 3),
        ]
        due = [now + timedelta(seconds=s) for s in (2, 4, 10, 16)]
        lags = [(e.escalated_at - d).total_seconds() for e, d in zip(got, due, strict=True)]
        print(f"fire lags (s): {lags}")
        assert all(0 <= lag < 5 for lag in lags), lags
        assert [e.targets for e in got] == [(), ("handler",), ("team_lead",), ("department_owner",)]
        assert len(steps_for(kafka_settings, late)) == 4
        assert [(e.kind.value, e.level) for e in steps_for(kafka_settings, acked)] == [
            ("warning", 0),
            ("breach", 1),
        ]
        assert (
            service.metric('complaints_escalation_steps_total{clock="response",kind="warning"}')
            >= 2
        )
        assert service.terminate() < 10
    finally:
        service.stop_quietly()
