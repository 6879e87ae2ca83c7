"""The stream layer over the real broker: state survives a SIGKILL, one hot key still flows,
and each batch writes a key's state once."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import Producer

from complaints_kit.kafka import producer_config, read_topic
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import encode
from complaints_schemas.events import ComplaintAccepted, ComplaintClassified, Scope
from complaints_schemas.topics import ACCEPTED, CLASSIFIED

from .factories import complaint
from .worker import Records, decisions_in, read_until, start_classifier

pytestmark = pytest.mark.kafka

OUTPUT_TIMEOUT_S = 60.0


def similar(run: str, n: int, *, at: datetime) -> ComplaintAccepted:
    """Reports of one problem (same product and text) from different customers."""
    return complaint(
        f"{run}-L{n}",
        title="物流不更新",
        description="订单物流三天没有更新",
        customer_id=f"cust-{run}-{n}",
        product_id=f"P-{run}",
        region="上海",
        accepted_at=at,
        language="zh",
    )


def publish(settings: KafkaSettings, complaints: list[ComplaintAccepted]) -> None:
    producer = Producer(producer_config(settings))
    for accepted in complaints:
        record = encode(
            accepted, source="/services/intake", id=accepted.complaint_id, time=accepted.accepted_at
        )
        producer.produce(ACCEPTED.name, key=record.key, value=record.value, headers=record.headers)
    assert producer.flush(10) == 0


def decisions(records: Records, wanted: set[str]) -> list[ComplaintClassified]:
    return [e for e, _ in decisions_in(records) if e.complaint_id in wanted]


def classified(settings: KafkaSettings, wanted: set[str]) -> list[ComplaintClassified]:
    records = read_until(
        settings.bootstrap_servers,
        CLASSIFIED.name,
        done=lambda r: {e.complaint_id for e in decisions(r, wanted)} == wanted,
        timeout=OUTPUT_TIMEOUT_S,
    )
    return decisions(records, wanted)


def test_a_sigkilled_worker_is_replaced_with_its_state(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    run, now = uuid.uuid4().hex[:8], datetime.now(UTC)
    app_id = f"classifier-kill-{run}"
    reports = [similar(run, n, at=now + timedelta(seconds=n)) for n in range(1, 6)]
    first = start_classifier(kafka_settings, tmp_path / "first", app_id=app_id)
    publish(kafka_settings, reports[:3])
    early = classified(kafka_settings, {r.complaint_id for r in reports[:3]})
    first.kill()  # no commit, no leaving the group: the next worker restores from the changelogs

    second = start_classifier(kafka_settings, tmp_path / "second", app_id=app_id)
    try:
        publish(kafka_settings, reports[3:])
        found = classified(kafka_settings, {r.complaint_id for r in reports})
    finally:
        second.stop()
    assert {e.scope for e in early} == {Scope.INDIVIDUAL}
    # A record read again after the kill gets the answer it got the first time.
    answers = {(e.complaint_id, e.scope, e.cluster_id) for e in found}
    assert len(answers) == len(reports), answers
    # Whichever of the last two reaches the window second (they come from two customers'
    # partitions, in either order) is the fifth: it counts the three seen before the kill,
    # so the window was restored.
    after = [e for e in found if e.complaint_id in {r.complaint_id for r in reports[3:]}]
    assert sorted((e.scope, e.cluster_size or 0) for e in after) == [
        (Scope.COMMON, 5),
        (Scope.INDIVIDUAL, 0),
    ], second.tail()


def test_one_hot_key_flows_in_batches_and_writes_its_state_once_a_batch(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    run, now = uuid.uuid4().hex[:8], datetime.now(UTC)
    app_id = f"classifier-hot-{run}"
    count = 300
    reports = [similar(run, n, at=now + timedelta(milliseconds=10 * n)) for n in range(count)]
    worker = start_classifier(kafka_settings, tmp_path, app_id=app_id)
    try:
        publish(kafka_settings, reports)
        found = classified(kafka_settings, {r.complaint_id for r in reports})
        metrics = worker.metrics()
    finally:
        worker.stop()
    assert {e.complaint_id for e in found} == {r.complaint_id for r in reports}
    assert len({e.fingerprint for e in found}) == 1  # one key, one partition, one owner
    assert len({e.cluster_id for e in found if e.cluster_id is not None}) == 1
    (batches,) = re.findall(r"^complaints_classifier_batch_messages_count (\S+)$", metrics, re.M)
    # Three stages' records (900) in far fewer batches.
    assert float(batches) < count
    changelog = read_topic(kafka_settings, f"{app_id}-windows-changelog")
    assert 0 < len(changelog) < count // 3  # the key's state once per batch, not per record
