"""SIGKILL mid-batch, and a sink that is away for a while, over the real broker.

In its own module (like test_restart) so no other notifier delivers meanwhile.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
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


def delivered_ids(settings: KafkaSettings, ids: set[str]) -> set[str]:
    return {
        e.escalation_id
        for e in read_all(settings, DELIVERED.name, NotificationDelivered)
        if e.escalation_id in ids
    }


def test_sigkill_mid_batch_then_restart_delivers_each_step_exactly_once(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    sink = ScriptedSink(secret=SECRET).start()
    sink.delay = 0.05  # so the kill lands mid-batch
    group = f"notifier-{uuid.uuid4().hex[:8]}"
    first = NotifierProcess.configure(
        kafka_settings, tmp_path, url=sink.url, secret=SECRET, consumer_group=group, concurrency="4"
    )
    second = NotifierProcess.configure(
        kafka_settings, tmp_path, url=sink.url, secret=SECRET, consumer_group=group
    )
    try:
        first.start()
        suffix = uuid.uuid4().hex[:8]
        events = [
            escalated(f"esc-{suffix}-{i}", complaint_id=f"c-{suffix}-{i}", escalated_at=now())
            for i in range(60)
        ]
        ids = {e.escalation_id for e in events}
        produce(kafka_settings, ESCALATED.name, events)
        wait_for(
            lambda: len([r for r in sink.all_received() if r.escalation_id in ids]) >= 10,
            timeout=30,
            what="the batch under way",
        )
        assert first.process is not None
        first.process.kill()  # SIGKILL: no drain, no commit
        first.process.wait(timeout=10)
        before = len([r for r in sink.all_received() if r.escalation_id in ids])
        assert before < len(events), "the kill came too late to test anything"

        second.start()
        wait_for(
            lambda: delivered_ids(kafka_settings, ids) == ids,
            timeout=60,
            what=f"all 60 delivered after the restart (log: {second.log_path})",
        )
        time.sleep(1)  # anything still coming would arrive now
        received = [r for r in sink.all_received() if r.escalation_id in ids]
        assert all(r.signature_valid for r in received)
        # One webhook-id per step; a receiver deduping on it sees each step exactly once.
        by_step = {r.escalation_id: set() for r in received}  # type: ignore[var-annotated]
        for r in received:
            by_step[r.escalation_id].add(r.webhook_id)
        assert set(by_step) == ids
        assert all(len(webhook_ids) == 1 for webhook_ids in by_step.values())
        # Only the few in flight at the kill (at most the concurrency) may have been re-POSTed.
        repeats = [k for k, n in Counter(r.escalation_id for r in received).items() if n > 1]
        assert len(repeats) <= 4, repeats
    finally:
        first.stop_quietly()
        second.stop_quietly()
        sink.stop()


def test_a_sink_down_for_a_while_receives_everything_after_it_returns(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    sink = ScriptedSink(secret=SECRET).start()
    sink.down = True
    notifier = NotifierProcess.configure(
        kafka_settings,
        tmp_path,
        url=sink.url,
        secret=SECRET,
        max_attempts="100",
        backoff_base="0.1",
        backoff_max="0.5",
    )
    try:
        notifier.start()
        suffix = uuid.uuid4().hex[:8]
        events = [
            escalated(f"esc-{suffix}-{i}", complaint_id=f"c-{suffix}-{i}", escalated_at=now())
            for i in range(20)
        ]
        ids = {e.escalation_id for e in events}
        produce(kafka_settings, ESCALATED.name, events)
        wait_for(
            lambda: notifier.metric("complaints_notifier_retries_total") >= 20,
            timeout=30,
            what="retries while the sink is down",
        )
        time.sleep(2)
        assert delivered_ids(kafka_settings, ids) == set()
        sink.down = False
        wait_for(
            lambda: delivered_ids(kafka_settings, ids) == ids,
            timeout=60,
            what="everything delivered once the sink is back",
        )
        accepted = {r.escalation_id for r in sink.all_received() if r.answered == 204}
        assert ids <= accepted
    finally:
        notifier.stop_quietly()
        sink.stop()


def now() -> datetime:
    return datetime.now(UTC)
