"""The notifier as a process over the real broker, delivering to a real local HTTP sink."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from complaints_kit.settings import KafkaSettings
from complaints_notifier.domain.notification import notification_id
from complaints_schemas.events import (
    ComplaintEscalated,
    ComplaintRejected,
    NotificationDelivered,
    NotificationFailed,
)
from complaints_schemas.topics import DELIVERED, ESCALATED, FAILED, REJECTED

from .broker_io import NotifierProcess, produce, produce_raw, read_all, wait_for
from .factories import SECRET, escalated
from .sink import ScriptedSink

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def sink() -> Iterator[ScriptedSink]:
    server = ScriptedSink(secret=SECRET).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def notifier(
    kafka_settings: KafkaSettings, sink: ScriptedSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NotifierProcess]:
    proc = NotifierProcess.configure(
        kafka_settings, tmp_path_factory.mktemp("notifier"), url=sink.url, secret=SECRET
    )
    proc.start()
    yield proc
    proc.stop_quietly()


def fresh_escalation() -> ComplaintEscalated:
    """Unique ids: the broker is shared by the whole test session."""
    suffix = uuid.uuid4().hex[:12]
    return escalated(f"esc-{suffix}", complaint_id=f"c-{suffix}", escalated_at=datetime.now(UTC))


def delivered_for(settings: KafkaSettings, escalation_id: str) -> list[NotificationDelivered]:
    return [
        e
        for e in read_all(settings, DELIVERED.name, NotificationDelivered)
        if e.escalation_id == escalation_id
    ]


def failed_for(settings: KafkaSettings, escalation_id: str) -> list[NotificationFailed]:
    return [
        e
        for e in read_all(settings, FAILED.name, NotificationFailed)
        if e.escalation_id == escalation_id
    ]


def test_an_escalation_is_posted_once_signed_and_recorded(
    kafka_settings: KafkaSettings, sink: ScriptedSink, notifier: NotifierProcess
) -> None:
    event = fresh_escalation()
    produce(kafka_settings, ESCALATED.name, [event])

    [delivered] = wait_for(
        lambda: delivered_for(kafka_settings, event.escalation_id),
        timeout=30,
        what="NotificationDelivered",
    )
    nid = notification_id(escalation_id=event.escalation_id, receiver="default", channel="webhook")
    assert delivered.notification_id == nid
    assert (delivered.complaint_id, delivered.attempts) == (event.complaint_id, 1)
    [post] = sink.received(event.escalation_id)
    assert post.signature_valid
    assert post.webhook_id == nid
    assert post.payload["type"] == "complaint.escalated"
    assert ComplaintEscalated.model_validate(post.payload["data"]) == event
    assert (
        notifier.metric(
            "complaints_notifier_deliveries_total", channel="webhook", outcome="delivered"
        )
        >= 1
    )
    assert notifier.metric("complaints_notifier_delivery_latency_seconds_count") >= 1


def test_a_sink_answering_500_then_200_gets_it_after_retries(
    kafka_settings: KafkaSettings, sink: ScriptedSink, notifier: NotifierProcess
) -> None:
    event = fresh_escalation()
    sink.script(event.escalation_id, [500, 503, 200])
    produce(kafka_settings, ESCALATED.name, [event])

    [delivered] = wait_for(
        lambda: delivered_for(kafka_settings, event.escalation_id),
        timeout=30,
        what="NotificationDelivered after retries",
    )
    assert delivered.attempts == 3
    posts = sink.received(event.escalation_id)
    assert [p.answered for p in posts] == [500, 503, 200]
    assert all(p.signature_valid for p in posts)
    assert len({p.webhook_id for p in posts}) == 1  # one webhook-id across retries
    assert notifier.metric("complaints_notifier_retries_total", channel="webhook") >= 2


def test_a_sink_answering_400_records_a_permanent_failure(
    kafka_settings: KafkaSettings, sink: ScriptedSink, notifier: NotifierProcess
) -> None:
    event = fresh_escalation()
    sink.script(event.escalation_id, [400])
    produce(kafka_settings, ESCALATED.name, [event])

    [failed] = wait_for(
        lambda: failed_for(kafka_settings, event.escalation_id),
        timeout=30,
        what="NotificationFailed",
    )
    assert (failed.retryable, failed.reason, failed.attempts) == (False, "HTTP 400", 1)
    assert len(sink.received(event.escalation_id)) == 1
    assert delivered_for(kafka_settings, event.escalation_id) == []
    assert (
        notifier.metric("complaints_notifier_deliveries_total", channel="webhook", outcome="failed")
        >= 1
    )


def test_an_undecodable_escalation_becomes_a_dead_letter_and_the_next_is_delivered(
    kafka_settings: KafkaSettings, sink: ScriptedSink, notifier: NotifierProcess
) -> None:
    garbage = json.dumps({"nonsense": uuid.uuid4().hex}).encode()
    produce_raw(kafka_settings, ESCALATED.name, key=b"c-garbage", value=garbage)
    event = fresh_escalation()
    produce(kafka_settings, ESCALATED.name, [event])

    [rejected] = wait_for(
        lambda: [
            r
            for r in read_all(kafka_settings, REJECTED.name, ComplaintRejected)
            if r.original == garbage
        ],
        timeout=30,
        what="ComplaintRejected",
    )
    assert rejected.reason == "invalid_envelope"
    assert (rejected.source, rejected.source_topic) == ("kafka", ESCALATED.name)
    assert rejected.offset is not None
    wait_for(
        lambda: delivered_for(kafka_settings, event.escalation_id),
        timeout=30,
        what="the next escalation delivered",
    )
    assert notifier.metric("complaints_notifier_rejected_total", reason="invalid_envelope") >= 1
