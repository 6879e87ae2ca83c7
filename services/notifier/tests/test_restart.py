"""Exactly one POST per notification across redeliveries and a restart, over the real broker.

In its own module so no other notifier (another consumer group) is delivering meanwhile.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from complaints_kit.settings import KafkaSettings
from complaints_schemas.events import NotificationDelivered
from complaints_schemas.topics import DELIVERED, ESCALATED

from .broker_io import NotifierProcess, produce, read_all, wait_for
from .factories import SECRET, escalated
from .sink import ScriptedSink

pytestmark = pytest.mark.kafka


def delivered_for(settings: KafkaSettings, escalation_id: str) -> list[NotificationDelivered]:
    return [
        e
        for e in read_all(settings, DELIVERED.name, NotificationDelivered)
        if e.escalation_id == escalation_id
    ]


def test_a_redelivered_escalation_is_not_posted_again_even_after_a_restart(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    sink = ScriptedSink(secret=SECRET).start()
    first = NotifierProcess.configure(kafka_settings, tmp_path, url=sink.url, secret=SECRET)
    second: NotifierProcess | None = None
    try:
        first.start()
        suffix = uuid.uuid4().hex[:12]
        now = datetime.now(UTC)
        event = escalated(f"esc-{suffix}", complaint_id=f"c-{suffix}", escalated_at=now)
        # The same escalation twice (an upstream redelivery), with different CloudEvents ids.
        produce(kafka_settings, ESCALATED.name, [event, event])
        wait_for(
            lambda: delivered_for(kafka_settings, event.escalation_id),
            timeout=30,
            what="NotificationDelivered",
        )
        wait_for(
            lambda: first.metric("complaints_notifier_deliveries_total", outcome="duplicate") >= 1,
            timeout=15,
            what="the second copy counted as a duplicate",
        )
        assert len(sink.received(event.escalation_id)) == 1
        assert first.terminate() < 10

        # A new consumer group reads complaints.escalated.v1 from the beginning: only the
        # dedup log, read back from notifications.delivered.v1, can stop a second POST.
        second = NotifierProcess.configure(kafka_settings, tmp_path, url=sink.url, secret=SECRET)
        second.start()
        marker = escalated(
            f"esc-marker-{uuid.uuid4().hex[:8]}",
            complaint_id=event.complaint_id,  # same key, same partition, after the copies
            escalated_at=datetime.now(UTC),
        )
        produce(kafka_settings, ESCALATED.name, [marker])
        wait_for(
            lambda: delivered_for(kafka_settings, marker.escalation_id),
            timeout=30,
            what="the marker delivered after the restart",
        )
        assert second.metric("complaints_notifier_deliveries_total", outcome="duplicate") >= 2
        assert len(sink.received(event.escalation_id)) == 1
        assert len(delivered_for(kafka_settings, event.escalation_id)) == 1
        assert second.terminate() < 10
    finally:
        first.stop_quietly()
        if second is not None:
            second.stop_quietly()
        sink.stop()


def test_sigterm_abandons_an_unfinished_delivery_uncommitted_and_a_restart_delivers_it(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    sink = ScriptedSink(secret=SECRET).start()
    group = f"notifier-{uuid.uuid4().hex[:8]}"
    slow = {"consumer_group": group, "max_attempts": "100", "backoff_base": "0.5"}
    first = NotifierProcess.configure(kafka_settings, tmp_path, url=sink.url, secret=SECRET, **slow)
    second = NotifierProcess.configure(
        kafka_settings, tmp_path, url=sink.url, secret=SECRET, consumer_group=group
    )
    try:
        first.start()
        suffix = uuid.uuid4().hex[:12]
        event = escalated(f"esc-{suffix}", complaint_id=f"c-{suffix}", escalated_at=now())
        sink.script(event.escalation_id, [503] * 1000)  # down until further notice
        produce(kafka_settings, ESCALATED.name, [event])
        wait_for(lambda: sink.received(event.escalation_id), timeout=30, what="a first attempt")

        assert first.terminate() < 10  # the grace period passes, the delivery is abandoned
        assert delivered_for(kafka_settings, event.escalation_id) == []

        sink.script(event.escalation_id, [])  # the sink is back
        second.start()  # same group: the uncommitted offset is consumed again
        [delivered] = wait_for(
            lambda: delivered_for(kafka_settings, event.escalation_id),
            timeout=30,
            what="delivery after the restart",
        )
        assert delivered.attempts == 1
        assert [p.answered for p in sink.received(event.escalation_id)][-1] == 204
    finally:
        first.stop_quietly()
        second.stop_quietly()
        sink.stop()


def now() -> datetime:
    return datetime.now(UTC)
