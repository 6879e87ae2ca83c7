"""End to end over the real broker, the four services running as separate processes."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer

from complaints_cli.stack import Stack
from complaints_schemas import topics
from complaints_schemas.events import ComplaintAccepted, ComplaintRejected
from tests.e2e.conftest import RED_SLA_SECONDS
from tests.kafka_reader import read_events, read_raw, wait_for

pytestmark = pytest.mark.e2e

# Long enough after a deadline for a wrongly sent second alert to have arrived.
QUIET_PERIOD = 4.0


def red_complaint(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "app",
        "channel_event_id": f"e2e-{uuid.uuid4().hex}",
        "customer": {"id": f"cust-{uuid.uuid4().hex[:8]}", "phone": "13812341234"},
        "title": "支付失败但银行卡已扣款",
        "description": "提示支付失败，但是银行卡已经扣款 399 元。Payment failed, I was charged.",
        "product_id": f"P-{uuid.uuid4().hex[:6]}",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    data.update(overrides)
    return data


def post(intake_url: str, complaint: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{intake_url}/v1/complaints", json=complaint, timeout=10)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def deliveries_for(stack: Stack, complaint_id: str) -> list[dict[str, Any]]:
    assert stack.sink is not None
    return [
        d
        for d in stack.sink.received()
        if (d["payload"] or {}).get("data", {}).get("complaint_id") == complaint_id
    ]


def escalation_events_seen(stack: Stack) -> float:
    total = 0.0
    for line in stack.services["escalation"].metrics().splitlines():
        if line.startswith("complaints_escalation_events_total") and 'source="classified"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_unacknowledged_red_complaint_escalates_once_with_a_valid_signature(
    stack: Stack, intake_url: str
) -> None:
    complaint_id = post(intake_url, red_complaint())["complaint_id"]

    delivered = wait_for(
        lambda: deliveries_for(stack, complaint_id),
        timeout=RED_SLA_SECONDS + 30,
        what="escalation webhook",
    )
    time.sleep(QUIET_PERIOD)

    delivered = deliveries_for(stack, complaint_id)
    assert len(delivered) == 1
    assert delivered[0]["signature_valid"] is True
    data = delivered[0]["payload"]["data"]
    assert (data["kind"], data["clock"], data["level"], data["severity"]) == (
        "breach",
        "response",
        1,
        "red",
    )
    escalated_at = datetime.fromisoformat(data["escalated_at"])
    deadline = datetime.fromisoformat(data["deadline"])
    assert escalated_at >= deadline
    [(_, _, headers)] = [
        r for r in read_raw(stack.bootstrap, topics.ESCALATED.name) if r[0] == complaint_id.encode()
    ]
    attributes = dict(headers)
    assert attributes["ce_type"] == b"com.complaints.complaint.escalated.v1"
    assert attributes["ce_id"].decode() == data["escalation_id"]


def test_complaint_acknowledged_in_time_does_not_escalate(stack: Stack, intake_url: str) -> None:
    complaint_id = post(intake_url, red_complaint())["complaint_id"]
    ack = httpx.post(
        f"{intake_url}/v1/complaints/{complaint_id}/events",
        json={"action": "acknowledged", "actor": "agent-7"},
        timeout=10,
    )
    assert ack.status_code == 202, ack.text
    # A control complaint sent just after, never acknowledged, proves the deadline window passed.
    control_id = post(intake_url, red_complaint())["complaint_id"]

    wait_for(
        lambda: deliveries_for(stack, control_id),
        timeout=RED_SLA_SECONDS + 30,
        what="control escalation",
    )
    time.sleep(QUIET_PERIOD)

    assert deliveries_for(stack, complaint_id) == []


def test_same_channel_event_id_twice_is_one_complaint(stack: Stack, intake_url: str) -> None:
    complaint = red_complaint(
        title="Refund not received", description="Refund has not arrived after a week."
    )
    first = post(intake_url, complaint)
    second = post(intake_url, complaint)

    assert second["complaint_id"] == first["complaint_id"]
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    accepted = read_events(stack.bootstrap, topics.ACCEPTED.name, ComplaintAccepted)
    assert [a.complaint_id for a in accepted].count(first["complaint_id"]) == 1


def test_malformed_kafka_input_is_rejected_and_the_next_complaint_flows(stack: Stack) -> None:
    marker = uuid.uuid4().hex
    producer = Producer({"bootstrap.servers": stack.bootstrap})
    producer.produce(
        topics.SUBMITTED.name,
        key=f"bad-{marker}".encode(),
        value=b"\xff{not json " + marker.encode(),
    )
    good = red_complaint(channel="web")
    producer.produce(
        topics.SUBMITTED.name,
        key=good["channel_event_id"].encode(),
        value=json.dumps(good).encode(),
    )
    producer.flush(10)

    def rejected() -> list[ComplaintRejected]:
        found = read_events(stack.bootstrap, topics.REJECTED.name, ComplaintRejected)
        return [r for r in found if marker.encode() in r.original]

    [dead_letter] = wait_for(rejected, timeout=30, what="dead letter")
    assert dead_letter.reason == "undecodable"
    assert dead_letter.source_topic == topics.SUBMITTED.name
    assert dead_letter.offset is not None

    def accepted() -> list[ComplaintAccepted]:
        found = read_events(stack.bootstrap, topics.ACCEPTED.name, ComplaintAccepted)
        return [a for a in found if a.channel_event_id == good["channel_event_id"]]

    [complaint] = wait_for(accepted, timeout=30, what="the valid complaint accepted")
    assert complaint.title == good["title"]
    assert stack.services["intake"].running()


def test_escalation_worker_killed_before_a_deadline_still_escalates_once(
    stack: Stack, intake_url: str
) -> None:
    before = escalation_events_seen(stack)
    complaint_id = post(intake_url, red_complaint())["complaint_id"]
    wait_for(
        lambda: escalation_events_seen(stack) > before,
        timeout=30,
        what="escalation holding the clock",
    )

    stack.services["escalation"].kill()
    assert deliveries_for(stack, complaint_id) == []
    stack.restart("escalation")

    wait_for(
        lambda: deliveries_for(stack, complaint_id), timeout=60, what="escalation after restart"
    )
    time.sleep(QUIET_PERIOD)
    assert len(deliveries_for(stack, complaint_id)) == 1
