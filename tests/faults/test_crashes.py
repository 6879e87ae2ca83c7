"""Services SIGKILLed in turn during a run: nothing lost, nothing doubled, deadlines kept.

FAULTS_COMPLAINTS (default 240) complaints are published to complaints.submitted.v1 at
FAULTS_RATE per second, half of them acknowledged a second later (as a CRM would, on
complaints.lifecycle.v1). Meanwhile the services are killed with SIGKILL one after the
other, at moments drawn from FAULTS_SEED, and restarted.
Then: every complaint is in escalation's state; every unacknowledged complaint's response
breach reached the webhook sink exactly once; no escalation id reached it twice; each
breach arrived within the fire lag plus the recovery time.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from complaints_cli.stack import Stack
from complaints_escalation.domain.transitions import escalation_id
from complaints_intake.domain.identity import complaint_id
from complaints_kit.kafka import producer_config
from complaints_kit.settings import KafkaSettings
from complaints_notifier.settings import NotifierSettings
from complaints_schemas import cloudevents, topics
from complaints_schemas.events import (
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintLifecycleEvent,
    LifecycleAction,
)
from tests.e2e.conftest import RED_SLA_SECONDS
from tests.faults.deliveries import received, settle
from tests.kafka_reader import read_events, read_positions, read_raw

pytestmark = pytest.mark.e2e

COMPLAINTS = int(os.environ.get("FAULTS_COMPLAINTS", "240"))
RATE = float(os.environ.get("FAULTS_RATE", "20"))
SEED = int(os.environ.get("FAULTS_SEED", str(random.SystemRandom().randrange(10**6))))
# A breach may wait for the worker that owns it: its restart, a session timeout, recovery.
DEADLINE_BUDGET_S = 90.0
# Deliveries in flight when the notifier is killed, at most.
NOTIFIER_CONCURRENCY = NotifierSettings.model_fields["concurrency"].default


def red_complaint(marker: str, n: int) -> dict[str, Any]:
    return {
        "channel": "app",
        "channel_event_id": f"{marker}-{n}",
        "customer": {"id": f"cust-{marker[:6]}-{n}"},
        "title": "支付失败但银行卡已扣款",
        "description": "提示支付失败，但是银行卡已经扣款 399 元。Payment failed, I was charged.",
        "product_id": f"P-{marker[:4]}-{n}",
        "occurred_at": datetime.now(UTC).isoformat(),
    }


def ack_record(cid: str, at: datetime) -> cloudevents.KafkaRecord:
    event = ComplaintLifecycleEvent(
        event_id=f"ack-{cid}", complaint_id=cid, action=LifecycleAction.ACKNOWLEDGED, occurred_at=at
    )
    return cloudevents.encode(event, source="/tests/faults/crm", id=event.event_id, time=at)


def test_services_killed_in_turn_lose_and_double_nothing(
    fault_stack: Stack, report: Callable[..., None]
) -> None:
    stack, marker, rng = fault_stack, uuid.uuid4().hex, random.Random(SEED)
    victims = ("intake", "classifier", "escalation", "notifier")
    report(f"faults: {COMPLAINTS} complaints at {RATE}/s, seed {SEED}, killing {victims}")
    producer = Producer(producer_config(KafkaSettings(bootstrap_servers=stack.bootstrap)))
    ids = [complaint_id("app", f"{marker}-{n}") for n in range(COMPLAINTS)]
    acked = {cid for n, cid in enumerate(ids) if n % 2 == 0}
    kills: list[tuple[str, float, float]] = []

    def killer() -> None:
        started = time.monotonic()
        for name in victims:
            time.sleep(rng.uniform(1.0, 4.0))
            at = time.monotonic() - started
            stack.services[name].kill()
            time.sleep(rng.uniform(0.0, 2.0))
            took = stack.restart(name)
            kills.append((name, round(at, 1), round(took, 1)))

    chaos = threading.Thread(target=killer, daemon=True)
    chaos.start()
    pending_acks: list[tuple[float, str]] = []
    for n, cid in enumerate(ids):
        body = json.dumps(red_complaint(marker, n)).encode()
        producer.produce(topics.SUBMITTED.name, key=f"{marker}-{n}".encode(), value=body)
        if cid in acked:
            pending_acks.append((time.monotonic() + 1.0, cid))
        while pending_acks and pending_acks[0][0] <= time.monotonic():
            _, ack_cid = pending_acks.pop(0)
            record = ack_record(ack_cid, datetime.now(UTC))
            producer.produce(
                topics.LIFECYCLE.name, key=record.key, value=record.value, headers=record.headers
            )
        producer.poll(0)
        time.sleep(1 / RATE)
    for _, ack_cid in pending_acks:
        record = ack_record(ack_cid, datetime.now(UTC))
        producer.produce(
            topics.LIFECYCLE.name, key=record.key, value=record.value, headers=record.headers
        )
    assert producer.flush(60) == 0
    chaos.join(timeout=300)
    assert not chaos.is_alive(), "a restart did not finish"
    report(f"kills (service, seconds into the run, seconds to ready again): {kills}")

    ours = set(ids)
    expected = {
        escalation_id(complaint_id=cid, clock="response", kind="breach", level=1, repeat=0): cid
        for cid in ids
        if cid not in acked
    }

    counts, lost, duplicates = settle(
        stack, expected, timeout=RED_SLA_SECONDS + 180, what="every expected breach", ours=ours
    )
    sink = received(stack, ours)
    deliveries = sink.deliveries
    escalation = stack.services["escalation"].base_url
    missing_state = [
        cid
        for cid in ids
        if httpx.get(
            f"{escalation}/v1/complaints/{cid}",
            headers={"Authorization": f"Bearer {stack.status_token}"},
            timeout=5,
        ).status_code
        != 200
    ]
    late = [
        eid
        for eid, d in deliveries
        if eid in expected
        and datetime.fromisoformat(d["received_at"])
        - datetime.fromisoformat(d["payload"]["data"]["deadline"])
        > timedelta(seconds=DEADLINE_BUDGET_S)
    ]
    acked_but_escalated = sorted(
        {d["payload"]["data"]["complaint_id"] for eid, d in deliveries if eid not in expected}
        & acked
    )
    report(
        f"faults: sent {COMPLAINTS}, in escalation state {COMPLAINTS - len(missing_state)}, "
        f"escalations expected {len(expected)}, delivered {len(set(counts) & set(expected))}, "
        f"duplicates {len(duplicates)}, retransmitted in doubt (same webhook-id) "
        f"{sink.retransmitted}, lost {len(lost)}, later than {DEADLINE_BUDGET_S:.0f} s "
        f"{len(late)}, acknowledged in time but escalated (ack processed after a restart) "
        f"{len(acked_but_escalated)}"
    )
    if missing_state:  # where did they stop?
        accepted = {
            e.complaint_id
            for e in read_events(stack.bootstrap, topics.ACCEPTED.name, ComplaintAccepted)
        }
        classified = {
            e.complaint_id
            for e in read_events(stack.bootstrap, topics.CLASSIFIED.name, ComplaintClassified)
        }
        stages = {
            stage: {
                cid
                for _, value, _ in read_raw(stack.bootstrap, f"complaints-classifier-{stage}")
                for cid in missing_state
                if value is not None and cid.encode() in value
            }
            for stage in ("by-customer", "by-fingerprint")
        }
        report(
            "not in escalation state: "
            + ", ".join(
                f"{cid} (accepted {cid in accepted}, by-customer {cid in stages['by-customer']}, "
                f"by-fingerprint {cid in stages['by-fingerprint']}, classified {cid in classified})"
                for cid in missing_state[:10]
            )
        )
        report(
            "where they sit against the classifier's committed offsets:",
            offsets(stack, missing_state),
        )
    assert missing_state == []
    assert duplicates == {}
    # Only POSTs answered in the instant before the notifier's SIGKILL may be repeated.
    assert sink.retransmitted <= NOTIFIER_CONCURRENCY
    assert lost == []
    assert late == []
    for name, proc in stack.services.items():
        assert proc.running(), name


def offsets(stack: Stack, cids: list[str]) -> dict[str, Any]:
    """(partition, offset) of each missing complaint on accepted and by-customer, and the
    classifier group's committed offset of those partitions."""
    config = {"bootstrap.servers": stack.bootstrap, "group.id": "complaints-classifier"}
    consumer = Consumer(config)
    try:
        out: dict[str, Any] = {}
        for topic in (topics.ACCEPTED.name, "complaints-classifier-by-customer"):
            meta = consumer.list_topics(topic, timeout=10).topics[topic]
            committed = consumer.committed(
                [TopicPartition(topic, p) for p in meta.partitions], timeout=10
            )
            where = sorted(
                (partition, offset)
                for partition, offset, value in read_positions(stack.bootstrap, topic)
                if any(cid.encode() in (value or b"") for cid in cids)
            )
            out[topic] = {
                "missing at": where,
                "committed": {tp.partition: tp.offset for tp in committed},
            }
        return out
    finally:
        consumer.close()
