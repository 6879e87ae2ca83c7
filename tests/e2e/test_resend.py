"""A resend is one complaint across intake processes: a second intake process answers
`duplicate: true`, publishes nothing, and no severity changes (issue 15, item 6)."""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from complaints_cli.stack import Stack
from complaints_schemas import cloudevents, topics
from complaints_schemas.events import ComplaintAccepted, ComplaintClassified, Event, Severity
from tests.e2e.conftest import RED_SLA_SECONDS
from tests.e2e.test_pipeline import QUIET_PERIOD, deliveries_for, post, red_complaint
from tests.kafka_reader import wait_for

pytestmark = pytest.mark.e2e
E = TypeVar("E", bound=Event)


def late_parcel() -> dict[str, Any]:
    """Yellow by the labelling policy (a parcel late for days), from a new customer, on a
    product of its own (no other test's complaints cluster with it)."""
    return {
        "channel": "app",
        "channel_event_id": f"e2e-resend-{uuid.uuid4().hex}",
        "customer": {"id": f"cust-{uuid.uuid4().hex[:8]}"},
        "title": "物流不更新",
        "description": "订单物流三天没有更新，包裹一直没有动。",
        "product_id": f"P-{uuid.uuid4().hex[:6]}",
        "occurred_at": datetime.now(UTC).isoformat(),
    }


STARTED = datetime.now(UTC) - timedelta(minutes=1)


def recent(stack: Stack, topic: str, model: type[E], complaint_id: str) -> list[E]:
    """The topic's events for one complaint since this module was loaded (the suite's earlier
    tests fill the topics: reading them whole each poll is too slow)."""
    consumer = Consumer(
        {"bootstrap.servers": stack.bootstrap, "group.id": f"e2e-resend-{uuid.uuid4().hex}"}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        since = int(STARTED.timestamp() * 1000)
        starts = consumer.offsets_for_times(
            [TopicPartition(topic, p, since) for p in partitions], timeout=10
        )
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions
        }
        todo = {tp.partition for tp in starts if 0 <= tp.offset < ends[tp.partition]}
        consumer.assign([tp for tp in starts if tp.partition in todo])
        found: list[E] = []
        deadline = time.monotonic() + 15
        while todo and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None or msg.error() or msg.partition() not in todo:
                continue
            if msg.key() == complaint_id.encode():
                with contextlib.suppress(cloudevents.DecodeError):
                    found.append(cloudevents.decode(model, msg.value(), msg.headers()).data)
            if msg.offset() + 1 >= ends[msg.partition()]:
                todo.discard(msg.partition())
        return found
    finally:
        consumer.close()


def classified(stack: Stack, complaint_id: str) -> list[ComplaintClassified]:
    return recent(stack, topics.CLASSIFIED.name, ComplaintClassified, complaint_id)


def accepted(stack: Stack, complaint_id: str) -> list[ComplaintAccepted]:
    return recent(stack, topics.ACCEPTED.name, ComplaintAccepted, complaint_id)


def test_a_resend_to_a_second_intake_process_is_a_duplicate_and_changes_no_severity(
    stack: Stack,
) -> None:
    second = stack.add_replica("intake")
    first_url, second_url = stack.services["intake"].base_url, second.base_url
    try:
        # A yellow complaint: a repeat raise would make it red, so a change would show.
        body = late_parcel()
        answer = post(first_url, body)
        assert answer["duplicate"] is False
        cid = answer["complaint_id"]
        (original,) = wait_for(
            lambda: classified(stack, cid), timeout=60, what="the complaint classified"
        )
        assert original.severity is not Severity.RED, "a red complaint cannot show a raise"

        resent = post(second_url, body)  # the other process never saw it
        assert resent == {**answer, "duplicate": True}
        assert post(first_url, body)["duplicate"] is True

        # Two copies that reached two processes in the same instant both get through: the
        # classifier must still not count the complaint as a repeat of itself.
        (record,) = accepted(stack, cid)
        copy = record.model_copy(update={"accepted_at": datetime.now(UTC) + timedelta(seconds=1)})
        encoded = cloudevents.encode(copy, source="/services/intake", id=cid, time=copy.accepted_at)
        producer = Producer({"bootstrap.servers": stack.bootstrap})
        producer.produce(
            topics.ACCEPTED.name,
            key=encoded.key,
            value=encoded.value,
            headers=encoded.headers,
        )
        assert producer.flush(10) == 0

        def two() -> list[ComplaintClassified]:
            found = classified(stack, cid)
            return found if len(found) >= 2 else []

        both = wait_for(two, timeout=60, what="the slipped-through copy classified")
        assert [e.severity for e in both] == [original.severity] * 2
        assert not any(r.rule == "severity.repeat" for e in both for r in e.reasons)

        # A red complaint resent to the second process: one alert, not two.
        red = red_complaint()
        red_answer = post(first_url, red)
        assert post(second_url, red) == {**red_answer, "duplicate": True}
        wait_for(
            lambda: deliveries_for(stack, red_answer["complaint_id"]),
            timeout=RED_SLA_SECONDS + 30,
            what="the red complaint's alert",
        )
        time.sleep(QUIET_PERIOD)
        red_alerts = deliveries_for(stack, red_answer["complaint_id"])
        yellow_alerts = deliveries_for(stack, cid)
        print(
            f"webhook deliveries: red complaint {len(red_alerts)}, "
            f"yellow complaint {len(yellow_alerts)}; accepted records: "
            f"yellow {len(accepted(stack, cid))} (one injected), "
            f"red {len(accepted(stack, red_answer['complaint_id']))}"
        )
        assert len(red_alerts) == 1
        assert yellow_alerts == []  # 600 s yellow SLA: no alert, and no raise to red
        assert len(accepted(stack, red_answer["complaint_id"])) == 1  # the resend not published
        dup_lines = [
            line
            for line in second.metrics().splitlines()
            if line.startswith("complaints_intake_duplicates_total")
        ]
        assert any(float(line.rsplit(" ", 1)[1]) >= 2 for line in dup_lines), dup_lines
    finally:
        second.stop()
        del stack.services[second.name]
