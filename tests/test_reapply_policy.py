"""`complaints reapply-policy` publishes a keyed lifecycle step per complaint (real broker)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from confluent_kafka import Producer
from typer.testing import CliRunner

from complaints_cli.main import app
from complaints_escalation.app import state_changelog
from complaints_escalation.domain.transitions import on_classified
from complaints_escalation.outbound import state_codec
from complaints_escalation.outbound.holidays import load_chinese_holidays
from complaints_escalation.outbound.policy_file import load_policy
from complaints_kit.kafka import provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.events import (
    Channel,
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintLifecycleEvent,
    Customer,
    LifecycleAction,
    Scope,
    Severity,
)
from complaints_schemas.topics import LIFECYCLE, Topic
from tests.kafka_reader import read_events

POLICY_FILE = Path(__file__).resolve().parents[1] / "config" / "escalation" / "policy.yaml"


def classified(cid: str, *, accepted_at: datetime) -> ComplaintClassified:
    complaint = ComplaintAccepted(
        channel=Channel.APP,
        channel_event_id=cid,
        customer=Customer(id="c-1"),
        title="t",
        description="d",
        occurred_at=accepted_at,
        complaint_id=cid,
        accepted_at=accepted_at,
        language="en",
    )
    return ComplaintClassified(
        complaint_id=cid,
        classified_at=accepted_at,
        severity=Severity.YELLOW,
        scope=Scope.INDIVIDUAL,
        category="other",
        department="ops",
        fingerprint="fp",
        reasons=(),
        complaint=complaint,
    )


@pytest.mark.kafka
def test_reapply_policy_publishes_a_step_per_complaint(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    ids = ["OPS-1", "OPS-2"]
    result = CliRunner().invoke(
        app, ["reapply-policy", *ids, "--operator", "sre-on-call", "--note", "policy 2026.1"]
    )
    assert result.exit_code == 0, result.output
    steps = [
        e
        for e in read_events(kafka_bootstrap, LIFECYCLE.name, ComplaintLifecycleEvent)
        if e.complaint_id in ids
    ]
    assert sorted(e.complaint_id for e in steps) == ids
    assert {(e.action, e.actor, e.note) for e in steps} == {
        (LifecycleAction.POLICY_REAPPLIED, "sre-on-call", "policy 2026.1")
    }
    assert len({e.event_id for e in steps}) == 2


@pytest.mark.kafka
def test_recompute_calendars_selects_provisional_complaints_from_the_state_changelog(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    app_id = f"recompute-{uuid.uuid4().hex[:8]}"
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    changelog = state_changelog(app_id)
    provision_topics(kafka, [Topic(changelog, 2, key="complaint_id", description="test")])
    policy = load_policy(POLICY_FILE, holiday_data=load_chinese_holidays())
    shanghai = ZoneInfo("Asia/Shanghai")
    states = {
        f"{app_id}-dec": datetime(2026, 12, 30, 10, tzinfo=shanghai),  # T+3 reaches 2027
        f"{app_id}-nov": datetime(2026, 11, 2, 10, tzinfo=shanghai),
        f"{app_id}-gone": datetime(2026, 12, 31, 10, tzinfo=shanghai),  # then a tombstone
    }
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for cid, accepted in states.items():
        state = on_classified(None, classified(cid, accepted_at=accepted), policy=policy).state
        producer.produce(
            changelog, key=json.dumps(cid), value=state_codec.encode(state, partition=0)
        )
    producer.produce(changelog, key=json.dumps(f"{app_id}-gone"), value=None)
    assert producer.flush(10) == 0

    args = ["recompute-calendars", "--provisional", "--operator", "ops.li", "--app-id", app_id]
    dry = CliRunner().invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"{app_id}-dec" in dry.output
    assert "1 complaint(s) selected; --dry-run: nothing published." in dry.output
    result = CliRunner().invoke(app, [*args, "--note", "2027 notice loaded"])
    assert result.exit_code == 0, result.output
    steps = [
        e
        for e in read_events(kafka_bootstrap, LIFECYCLE.name, ComplaintLifecycleEvent)
        if e.complaint_id.startswith(app_id)
    ]
    assert [(e.complaint_id, e.action, e.actor, e.note) for e in steps] == [
        (f"{app_id}-dec", LifecycleAction.CALENDAR_RECOMPUTED, "ops.li", "2027 notice loaded")
    ]
    refused = CliRunner().invoke(app, ["recompute-calendars", "--operator", "ops.li"])
    assert refused.exit_code == 2
    assert "name complaint ids, or select them" in refused.output
