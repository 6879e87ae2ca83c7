"""Garbage on the Kafka path: no crash, and every record is counted accepted or rejected."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer

from complaints_cli.stack import Stack
from complaints_schemas import cloudevents, topics
from complaints_schemas.events import ComplaintLifecycleEvent, ComplaintRejected, LifecycleAction
from tests.faults.conftest import MAX_RECORD_BYTES, counter
from tests.kafka_reader import read_events, wait_for

pytestmark = pytest.mark.e2e


def complaint(marker: str, n: int, **overrides: Any) -> dict[str, Any]:
    return {
        "channel": "app",
        "channel_event_id": f"{marker}-{n}",
        "customer": {"id": f"cust-{marker[:6]}-{n}"},
        "title": "快递三天没有更新",
        "description": "Parcel stuck for three days, nobody answers.",
        "occurred_at": datetime.now(UTC).isoformat(),
        **overrides,
    }


def test_garbage_on_kafka_is_counted_and_dead_lettered_and_nothing_crashes(
    fault_stack: Stack, report: Callable[..., None]
) -> None:
    stack, marker = fault_stack, uuid.uuid4().hex
    m = marker.encode()
    bad_submitted: list[tuple[str, bytes]] = [
        ("random bytes", os.urandom(300) + m),
        ("invalid JSON", b'{"channel": "app", "title": ' + m),
        ("invalid UTF-8", b'{"title": "\xff\xfe\xfd", "marker": "' + m + b'"}'),
        ("wrong types", json.dumps(complaint(marker, 90, title=123, occurred_at=[])).encode()),
        ("missing fields", json.dumps({"channel_event_id": f"{marker}-91"}).encode()),
        ("a JSON array", json.dumps([complaint(marker, 92)]).encode()),
        (
            "naive timestamp",
            json.dumps(complaint(marker, 93, occurred_at="2025-03-01T09:00:00")).encode(),
        ),
        (
            "too large",
            json.dumps(complaint(marker, 94, description="x" * MAX_RECORD_BYTES)).encode(),
        ),
    ]
    good = [json.dumps(complaint(marker, n)).encode() for n in range(20)]
    duplicate = good[3]  # the same channel event again: one complaint
    before = {
        "accepted": counter(stack, "intake", "complaints_intake_accepted_total", source="kafka"),
        "rejected": counter(stack, "intake", "complaints_intake_rejected_total", source="kafka"),
        "duplicates": counter(
            stack, "intake", "complaints_intake_duplicates_total", source="kafka"
        ),
        "escalation_rejected": counter(stack, "escalation", "complaints_escalation_rejected_total"),
        "lifecycle_duplicates": counter(
            stack, "escalation", "complaints_escalation_transitions_total", outcome="duplicate"
        ),
    }

    producer = Producer({"bootstrap.servers": stack.bootstrap, "message.max.bytes": 1_000_000})
    records = [value for _, value in bad_submitted] + good + [duplicate]
    for n, value in enumerate(records):
        producer.produce(topics.SUBMITTED.name, key=f"{marker}-{n}".encode(), value=value)
    # Lifecycle: garbage, a step for a complaint never seen, the same step twice, and steps
    # out of order (resolved before acknowledged).
    cid = f"CMP-{marker[:12]}"
    t0 = datetime.now(UTC)

    def step(event_id: str, action: str, at: datetime) -> tuple[bytes, list[tuple[str, bytes]]]:
        event = ComplaintLifecycleEvent(
            event_id=event_id, complaint_id=cid, action=LifecycleAction(action), occurred_at=at
        )
        record = cloudevents.encode(event, source="/tests/faults", id=event_id, time=at)
        return record.value, [
            (k, v if isinstance(v, bytes) else v.encode()) for k, v in record.headers
        ]

    lifecycle_garbage: list[tuple[bytes, list[tuple[str, bytes]]]] = [
        (b"\x00\x01 not an event " + m, []),
        (b'{"action": "acknowledged"}', []),  # no CloudEvents envelope
    ]
    lifecycle_good = [
        step(f"{marker}-r", "resolved", t0 + timedelta(seconds=2)),
        step(f"{marker}-a", "acknowledged", t0),
        step(f"{marker}-a", "acknowledged", t0),  # redelivered
    ]
    for value, headers in lifecycle_garbage + lifecycle_good:
        producer.produce(topics.LIFECYCLE.name, key=cid.encode(), value=value, headers=headers)
    assert producer.flush(30) == 0

    sent = len(records)
    expected_rejected = len(bad_submitted)

    def settled() -> dict[str, float] | None:
        now = {
            "accepted": counter(
                stack, "intake", "complaints_intake_accepted_total", source="kafka"
            ),
            "rejected": counter(
                stack, "intake", "complaints_intake_rejected_total", source="kafka"
            ),
            "duplicates": counter(
                stack, "intake", "complaints_intake_duplicates_total", source="kafka"
            ),
        }
        delta = {k: now[k] - before[k] for k in now}
        return delta if sum(delta.values()) >= sent else None

    delta = wait_for(settled, timeout=60, what="intake to count every record")
    report(
        f"kafka path: sent {sent}, accepted {delta['accepted']:.0f}, rejected "
        f"{delta['rejected']:.0f}, duplicates {delta['duplicates']:.0f}"
    )
    assert delta == {"accepted": len(good), "rejected": expected_rejected, "duplicates": 1}

    def dead_letters() -> list[ComplaintRejected] | None:
        found = [
            r
            for r in read_events(stack.bootstrap, topics.REJECTED.name, ComplaintRejected)
            if r.source_topic == topics.SUBMITTED.name and m in r.original
        ]
        return found if len(found) >= expected_rejected else None

    letters = wait_for(dead_letters, timeout=30, what="a dead letter for each bad record")
    assert len(letters) == expected_rejected
    assert all(r.reason and r.detail for r in letters)
    reasons = sorted(r.reason for r in letters)
    report(f"dead letters by reason: {reasons}")
    assert "too_large" in reasons

    def lifecycle_settled() -> bool:
        rejected = counter(stack, "escalation", "complaints_escalation_rejected_total")
        duplicates = counter(
            stack, "escalation", "complaints_escalation_transitions_total", outcome="duplicate"
        )
        return (
            rejected - before["escalation_rejected"] >= len(lifecycle_garbage)
            and duplicates - before["lifecycle_duplicates"] >= 1
        )

    wait_for(lifecycle_settled, timeout=30, what="escalation to count the lifecycle records")
    report(
        f"lifecycle: sent {len(lifecycle_garbage) + len(lifecycle_good)}, rejected "
        f"{len(lifecycle_garbage)}, one redelivered step counted as a duplicate"
    )
    assert counter(stack, "escalation", "complaints_escalation_rejected_total") - before[
        "escalation_rejected"
    ] == len(lifecycle_garbage)
    for name, proc in stack.services.items():
        assert proc.running(), name
        assert httpx.get(f"{proc.base_url}/healthz", timeout=5).status_code == 200, name
