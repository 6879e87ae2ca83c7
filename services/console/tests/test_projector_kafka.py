"""The projector on the real broker: applies every topic, resumes from the database's offsets,
and keeps a closed complaint's whole history after its topics' records are gone."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, func, select

from complaints_console.metrics import ProjectorMetrics
from complaints_console.projector.consumer import TOPICS, Projector
from complaints_console.readmodel.queries import timeline
from complaints_console.readmodel.tables import complaints, steps
from complaints_kit.kafka import consumer_config, producer_config, provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import encode
from complaints_schemas.events import ComplaintRejected, Event, LifecycleAction
from complaints_schemas.topics import Cleanup

from .factories import (
    MIN,
    T0,
    TOPIC_OF,
    breach,
    classified,
    delivered,
    response_clock,
    sqlite_engine,
    step,
)

pytestmark = pytest.mark.kafka


def copies(kafka: KafkaSettings) -> dict[str, str]:
    """The projector's topics under names of this test's own (other tests share the broker,
    and this one deletes records): copy name -> the pipeline topic it plays."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    provision_topics(kafka, [replace(t, name=prefix + t.name) for t in TOPICS])
    return {prefix + t.name: t.name for t in TOPICS}


def publish(kafka: KafkaSettings, names: dict[str, str], *events: Event) -> None:
    real = {v: k for k, v in names.items()}
    producer = Producer(producer_config(kafka))
    for event in events:
        record = encode(event, source="/tests", id=uuid.uuid4().hex, time=datetime.now(UTC))
        producer.produce(
            real[TOPIC_OF[type(event)]], key=record.key, value=record.value, headers=record.headers
        )
    assert producer.flush(30) == 0


def projector(
    kafka: KafkaSettings,
    engine: Engine,
    rejected: list[ComplaintRejected],
    names: dict[str, str],
) -> Projector:
    consumer = Consumer(
        consumer_config(
            kafka,
            f"projector-test-{uuid.uuid4().hex}",
            **{"partition.assignment.strategy": "range"},
        )
    )
    p = Projector(
        consumer=consumer,
        engine=engine,
        metrics=ProjectorMetrics(CollectorRegistry()),
        now=lambda: datetime.now(UTC),
        reject=lambda _id, event: rejected.append(event),
        topics=names,
    )
    p.subscribe()
    return p


def run_until(p: Projector, done: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p.poll_once(0.2)
        if done():  # type: ignore[operator]
            return
    raise AssertionError("projector did not get there in time")


def steps_of(engine: Engine, cid: str) -> list[str]:
    with engine.connect() as conn:
        return [s["kind"] for s in timeline(conn, cid)]


def delete_all_records(kafka: KafkaSettings, names: dict[str, str]) -> list[str]:
    """What retention does after 7 days, now: each delete-policy topic emptied to its end."""
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap_servers})
    reader = Consumer({"bootstrap.servers": kafka.bootstrap_servers, "group.id": "wm"})
    plays = {t.name: t for t in TOPICS}
    wanted = []
    for name, role in names.items():
        topic = plays[role]
        if topic.cleanup is Cleanup.COMPACT:
            continue  # compacted: kept by design (the newest clocks and deliveries per key)
        for partition in range(topic.partitions):
            _, high = reader.get_watermark_offsets(TopicPartition(name, partition), timeout=10)
            wanted.append(TopicPartition(name, partition, high))
    for future in admin.delete_records(wanted).values():
        future.result(timeout=30)
    low = {(tp.topic, tp.partition): reader.get_watermark_offsets(tp, timeout=10) for tp in wanted}
    reader.close()
    assert all(lo == hi for lo, hi in low.values())
    return sorted({names[tp.topic] for tp in wanted})


def test_closed_complaint_outlives_its_topics(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    cid = f"OLD-{uuid.uuid4().hex[:8]}"
    esc = breach(cid, at=T0 + 10 * MIN)
    history = [
        classified(cid),
        response_clock(cid),
        esc,
        delivered(cid, esc.escalation_id, at=T0 + 10 * MIN),
        step(cid, LifecycleAction.ACKNOWLEDGED, at=T0 + 12 * MIN, actor="console:wang"),
        step(cid, LifecycleAction.RESOLVED, at=T0 + 60 * MIN, note="refunded"),
        step(cid, LifecycleAction.CLOSED, at=T0 + 120 * MIN),
    ]
    names = copies(kafka_settings)
    publish(kafka_settings, names, *history)
    engine = sqlite_engine(tmp_path)
    rejected: list[ComplaintRejected] = []
    first = projector(kafka_settings, engine, rejected, names)
    whole = ["accepted", "classified", "breach", "acknowledged", "resolved", "closed"]
    run_until(first, lambda: steps_of(engine, cid) == whole)
    first.close()

    # Redelivered from Kafka's point of view (a new group): the database's offsets decide.
    again = projector(kafka_settings, engine, rejected, names)
    run_until(again, lambda: again.caught_up)
    again.close()
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(steps).where(steps.c.complaint_id == cid)
        )
        assert count.scalar() == len(whole)

    emptied = delete_all_records(kafka_settings, names)
    assert "complaints.lifecycle.v1" in emptied

    # The read model still has the whole history, and a projector on it changes nothing.
    later = projector(kafka_settings, engine, rejected, names)
    run_until(later, lambda: later.caught_up)
    later.close()
    assert steps_of(engine, cid) == whole
    with engine.connect() as conn:
        row = conn.execute(select(complaints).where(complaints.c.complaint_id == cid)).one()
    assert row.status == "closed"
    assert row.title is not None

    # A read model rebuilt from the topics now gets what they still hold: the compacted
    # clocks and deliveries, not the complaint's steps.
    rebuilt = sqlite_engine(tmp_path / "rebuilt")
    fresh = projector(kafka_settings, rebuilt, rejected, names)
    run_until(fresh, lambda: fresh.caught_up)
    fresh.close()
    assert "closed" not in steps_of(rebuilt, cid)
    assert rejected == []
