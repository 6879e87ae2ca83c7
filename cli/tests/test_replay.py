"""`complaints replay`: dead letters back to their topic and failed notifications back to the
notifier, by reason and time range; a dry run changes nothing, and a second run replays
nothing again."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Producer
from typer.testing import CliRunner

from complaints_cli.main import app
from complaints_cli.replay import (
    REPLAY_OF,
    Record,
    plan_dead_letters,
    plan_failed_notifications,
    read_topic,
)
from complaints_kit.settings import KafkaSettings
from complaints_schemas.cloudevents import DecodeError, encode
from complaints_schemas.dead_letters import dead_letter
from complaints_schemas.events import (
    ComplaintEscalated,
    EscalationKind,
    Event,
    NotificationDelivered,
    NotificationFailed,
    Scope,
    Severity,
)
from complaints_schemas.topics import DELIVERED, ESCALATED, FAILED, LIFECYCLE, REJECTED

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _letter(reason: str, at: datetime, offset: int, value: bytes = b"{}") -> tuple[str, object]:
    return dead_letter(
        DecodeError(reason, "x"),
        value=value,
        topic=LIFECYCLE.name,
        partition=0,
        offset=offset,
        at=at,
    )


def _record(offset: int, value: bytes = b"{}") -> Record:
    return Record(LIFECYCLE.name, 0, offset, b"k", value, (("ce_id", b"1"),))


def test_dead_letters_are_chosen_by_reason_range_and_marks() -> None:
    letters = [
        _letter("processing_failed", NOW - HOUR, 1),
        _letter("invalid_event", NOW - HOUR, 2),
        _letter("processing_failed", NOW - 30 * HOUR, 3),  # before the range
        _letter("processing_failed", NOW - HOUR, 4),  # replayed already
        _letter("processing_failed", NOW - HOUR, 5),  # its record has left the topic
        _letter("processing_failed", NOW - HOUR, 1),  # the same dead letter again
    ]
    originals = {1: _record(1), 4: _record(4)}
    plan = plan_dead_letters(
        letters,  # type: ignore[arg-type]
        reasons=["processing"],
        since=NOW - 24 * HOUR,
        until=NOW,
        replayed={f"rejected:{LIFECYCLE.name}:0:4": NOW},
        original=lambda t, p, o: originals.get(o),
    )
    assert [(p.ref.rsplit(":", 1)[1], p.note) for p in plan] == [
        ("1", ""),
        ("5", "record gone from topic"),
    ]
    assert plan[0].record == originals[1]


def _failed(nid: str, eid: str, at: datetime, reason: str = "HTTP 503") -> NotificationFailed:
    return NotificationFailed(
        notification_id=nid,
        escalation_id=eid,
        complaint_id="C-1",
        channel="webhook",
        receiver="ops",
        failed_at=at,
        attempts=8,
        retryable=True,
        reason=reason,
    )


def test_failed_notifications_replay_each_escalation_until_it_fails_again() -> None:
    failures = [
        _failed("N-1", "E-1", NOW - 2 * HOUR),
        _failed("N-2", "E-1", NOW - HOUR),  # the same escalation, another receiver
        _failed("N-3", "E-2", NOW - HOUR),  # delivered since
        _failed("N-4", "E-3", NOW - HOUR, reason="HTTP 400"),  # another reason
        _failed("N-5", "E-4", NOW - 3 * HOUR),  # replayed after this failure
        _failed("N-6", "E-5", NOW - HOUR),  # replayed before this failure: again
    ]
    escalations = {e: _record(i) for i, e in enumerate(("E-1", "E-2", "E-3", "E-4", "E-5"))}
    plan = plan_failed_notifications(
        failures,
        reasons=["503"],
        since=NOW - 24 * HOUR,
        until=NOW,
        delivered={"N-3"},
        replayed={"escalation:E-4": NOW - 2 * HOUR, "escalation:E-5": NOW - 2 * HOUR},
        escalations=escalations,
    )
    assert [p.ref for p in plan] == ["escalation:E-1", "escalation:E-5"]


def _produce(kafka: KafkaSettings, topic: str, event: Event, *, at: datetime) -> None:
    record = encode(event, source="/tests/replay", id=uuid.uuid4().hex, time=at)
    producer = Producer({"bootstrap.servers": kafka.bootstrap_servers})
    producer.produce(topic, key=record.key, value=record.value, headers=record.headers)
    assert producer.flush(10) == 0


def _run(kafka: KafkaSettings, *args: str) -> dict[str, int]:
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["replay", *args], env=env)
    assert result.exit_code == 0, result.output
    summary: dict[str, int] = json.loads(result.output.strip().splitlines()[-1])
    return summary


def _with_mark(kafka: KafkaSettings, topic: str, ref: str) -> list[Record]:
    since = datetime.now(UTC) - HOUR
    return [r for r in read_topic(kafka, topic, since=since) if r.header(REPLAY_OF) == ref]


@pytest.mark.kafka
def test_dead_letters_replay_on_a_real_broker(kafka_settings: KafkaSettings) -> None:
    now = datetime.now(UTC)
    marker = uuid.uuid4().hex
    # The original lifecycle record, then its dead letter as escalation would write it.
    value = json.dumps({"marker": marker}).encode()
    producer = Producer({"bootstrap.servers": kafka_settings.bootstrap_servers})
    delivered: list[tuple[int, int]] = []
    producer.produce(
        LIFECYCLE.name,
        key=f"C-{marker}".encode(),
        value=value,
        headers=[("ce_id", marker.encode())],
        on_delivery=lambda err, msg: delivered.append((msg.partition(), msg.offset())),
    )
    assert producer.flush(10) == 0
    ((partition, offset),) = delivered
    ref, letter = dead_letter(
        DecodeError("processing_failed", f"bug {marker}"),
        value=value,
        topic=LIFECYCLE.name,
        partition=partition,
        offset=offset,
        at=now,
    )
    _produce(kafka_settings, REJECTED.name, letter, at=now)
    other_ref, other = dead_letter(
        DecodeError("undecodable", f"junk {marker}"),
        value=b"junk",
        topic=LIFECYCLE.name,
        partition=partition,
        offset=offset + 10**9,
        at=now,
    )
    _produce(kafka_settings, REJECTED.name, other, at=now)

    args = ["dead-letters", "--reason", "processing_failed", "--since", "PT10M"]
    dry = _run(kafka_settings, *args)
    assert dry["replayed"] == 0
    assert dry["replayable"] >= 1
    assert _with_mark(kafka_settings, LIFECYCLE.name, ref) == []  # a dry run produces nothing

    applied = _run(kafka_settings, *args, "--apply")
    assert applied["replayed"] >= 1
    (again,) = _with_mark(kafka_settings, LIFECYCLE.name, ref)
    assert (again.key, again.value) == (f"C-{marker}".encode(), value)
    assert again.header("ce_id") == marker  # the original headers, as they were
    assert _with_mark(kafka_settings, LIFECYCLE.name, other_ref) == []  # another reason

    _run(kafka_settings, *args, "--apply")
    assert len(_with_mark(kafka_settings, LIFECYCLE.name, ref)) == 1  # not replayed twice


@pytest.mark.kafka
def test_failed_notifications_replay_on_a_real_broker(kafka_settings: KafkaSettings) -> None:
    now = datetime.now(UTC)
    marker = uuid.uuid4().hex
    escalations = []
    for name in ("failed", "delivered"):
        escalation = ComplaintEscalated(
            escalation_id=f"E-{name}-{marker}",
            complaint_id=f"C-{marker}",
            kind=EscalationKind.BREACH,
            clock="response",
            level=1,
            deadline=now - HOUR,
            escalated_at=now - HOUR,
            severity=Severity.RED,
            scope=Scope.INDIVIDUAL,
            category="payment",
            department="payments",
            title="Payment failed",
        )
        escalations.append(escalation)
        _produce(kafka_settings, ESCALATED.name, escalation, at=now)
        _produce(
            kafka_settings,
            FAILED.name,
            _failed(f"N-{name}-{marker}", escalation.escalation_id, now, f"HTTP 503 {marker}"),
            at=now,
        )
    _produce(
        kafka_settings,
        DELIVERED.name,
        NotificationDelivered(
            notification_id=f"N-delivered-{marker}",
            escalation_id=escalations[1].escalation_id,
            complaint_id=f"C-{marker}",
            channel="webhook",
            receiver="ops",
            delivered_at=now,
            attempts=9,
        ),
        at=now,
    )
    args = ["failed-notifications", "--reason", marker, "--since", "PT10M"]
    dry = _run(kafka_settings, *args)
    assert (dry["listed"], dry["replayed"]) == (1, 0)
    applied = _run(kafka_settings, *args, "--apply")
    assert applied["replayed"] == 1
    ref = f"escalation:{escalations[0].escalation_id}"
    (again,) = _with_mark(kafka_settings, ESCALATED.name, ref)
    assert json.loads(again.value or b"")["escalation_id"] == escalations[0].escalation_id
    delivered_ref = f"escalation:{escalations[1].escalation_id}"
    assert _with_mark(kafka_settings, ESCALATED.name, delivered_ref) == []
    assert _run(kafka_settings, *args, "--apply")["listed"] == 0  # replayed since it failed
    assert len(_with_mark(kafka_settings, ESCALATED.name, ref)) == 1
