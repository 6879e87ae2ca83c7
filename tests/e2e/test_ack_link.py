"""Acknowledge from the alert, end to end: the signed link in the webhook stops the next level.

Its own pipeline on its own broker (short level interval, acknowledge links on): sharing the
session's broker would let two escalation services act on each other's complaints.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer

from complaints_cli.broker import LocalKafka
from complaints_cli.processes import ServiceProcess
from complaints_cli.stack import Stack
from complaints_kit.kafka import provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import ComplaintLifecycleEvent, ComplaintRejected, LifecycleAction
from complaints_schemas.topics import (
    ALL_TOPICS,
    COMPLAINT_PARTITIONS,
    LIFECYCLE,
    REJECTED,
    Topic,
)
from tests.e2e.test_pipeline import deliveries_for, post, red_complaint
from tests.kafka_reader import read_events, wait_for

pytestmark = pytest.mark.e2e

SLA = 3.0
INTERVAL = 5.0
GRACE = 4.0


class AckStack(Stack):
    """The notifier signs links to this stack's intake (its port is known once intake is set)."""

    def _process(self, name: str) -> ServiceProcess:
        if name == "notifier":
            intake = self.services["intake"].base_url
            self.env.setdefault("notifier", {})["NOTIFIER_ACK_BASE_URL"] = f"{intake}/v1/ack/"
        return super()._process(name)


@pytest.fixture(scope="module")
def ack_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    secret = secrets.token_urlsafe(24)
    env = {
        "intake": {"ACK_LINK_SECRET": secret},
        "escalation": {
            "ESCALATION_RESPONSE_SLA_RED": str(SLA),
            "ESCALATION_RESPONSE_SLA_YELLOW": "600",
            "ESCALATION_RESPONSE_SLA_GREEN": "600",
            "ESCALATION_LEVEL_INTERVAL": str(INTERVAL),
            "ESCALATION_MAX_LEVEL": "3",
            "ESCALATION_UNKNOWN_COMPLAINT_GRACE": str(GRACE),
        },
        "notifier": {"ACK_LINK_SECRET": secret},
    }
    workdir: Path = tmp_path_factory.mktemp("e2e-ack")
    broker = LocalKafka(state_dir=workdir / "kafka", heap="512m")
    broker.start()
    # On a brand-new broker a faust worker can join its group before its internal topic exists
    # and then never consume it ("Ignoring missing topic"); create them up front.
    internal = tuple(
        Topic(name, COMPLAINT_PARTITIONS, key="complaint_id", description="faust internal")
        for name in ("complaints-escalation-due", "complaints-classifier-by-fingerprint")
    )
    provision_topics(
        KafkaSettings(bootstrap_servers=broker.bootstrap_servers), (*ALL_TOPICS, *internal)
    )
    pipeline = AckStack(bootstrap=broker.bootstrap_servers, workdir=workdir, env=env)
    try:
        pipeline.start()
        yield pipeline
    finally:
        for name, proc in pipeline.services.items():
            print(f"----- {name} log tail -----\n{proc.log_tail(20)}")
        pipeline.stop()
        broker.stop()


def levels(stack: Stack, complaint_id: str) -> list[int]:
    return sorted(d["payload"]["data"]["level"] for d in deliveries_for(stack, complaint_id))


def test_acknowledge_link_stops_the_next_level(ack_stack: Stack) -> None:
    intake_url = ack_stack.services["intake"].base_url
    acked = post(intake_url, red_complaint())["complaint_id"]
    control = post(intake_url, red_complaint())["complaint_id"]

    [first] = wait_for(
        lambda: deliveries_for(ack_stack, acked), timeout=SLA + 40, what="the level-1 alert"
    )
    payload: dict[str, Any] = first["payload"]
    assert payload["data"]["level"] == 1
    link = payload["links"]["acknowledge"]
    assert link.startswith(f"{intake_url}/v1/ack/")

    page = httpx.get(link, timeout=10)
    assert page.status_code == 200, page.text
    assert 'method="post"' in page.text
    assert "«response» clock" in page.text  # the link names its alert's clock
    done = httpx.post(link, timeout=10)
    assert done.status_code == 200, done.text
    assert httpx.post(link, timeout=10).status_code == 409  # reused

    # The unacknowledged control climbs to level 2; the acknowledged one stays at level 1.
    wait_for(
        lambda: 2 in levels(ack_stack, control) or None,
        timeout=INTERVAL + 40,
        what="level 2 for the unacknowledged control",
    )
    time.sleep(2)
    assert levels(ack_stack, acked) == [1]
    print(f"sink received: acknowledged {levels(ack_stack, acked)}")
    print(f"sink received: control {levels(ack_stack, control)}")

    tampered = link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")
    refused = httpx.post(tampered, timeout=10)
    assert refused.status_code == 403
    assert "Invalid link" in refused.text


def clocks_and_levels(stack: Stack, complaint_id: str) -> list[tuple[str, int]]:
    return sorted(
        (d["payload"]["data"]["clock"], d["payload"]["data"]["level"])
        for d in deliveries_for(stack, complaint_id)
    )


def test_a_risk_complaint_is_one_risk_thread_and_its_link_stops_it(ack_stack: Stack) -> None:
    intake_url = ack_stack.services["intake"].base_url
    risky = red_complaint(
        title="支付失败扣款不退，我要找媒体曝光并向12315投诉",
        description="银行卡被扣款 399 元订单失败，不处理我就找记者曝光，"
        "再向消费者协会和12315投诉。",
    )
    complaint_id = post(intake_url, risky)["complaint_id"]
    [first] = wait_for(
        lambda: deliveries_for(ack_stack, complaint_id), timeout=40, what="the risk alert"
    )
    assert (first["payload"]["data"]["clock"], first["payload"]["data"]["level"]) == ("risk", 1)
    # Past the response clock's deadline and its next level: still only the risk alert.
    time.sleep(SLA + INTERVAL + 2)
    assert clocks_and_levels(ack_stack, complaint_id) == [("risk", 1)]
    link = first["payload"]["links"]["acknowledge"]
    assert "«risk» clock" in httpx.get(link, timeout=10).text
    assert httpx.post(link, timeout=10).status_code == 200
    time.sleep(3)
    received = clocks_and_levels(ack_stack, complaint_id)
    print(f"sink received for the risk complaint: {received}")
    assert received == [("risk", 1)]


def test_a_step_for_a_complaint_never_accepted_is_dead_lettered(ack_stack: Stack) -> None:
    ghost = f"ghost-{secrets.token_hex(6)}"
    event = ComplaintLifecycleEvent(
        event_id=f"{ghost}-ack",
        complaint_id=ghost,
        action=LifecycleAction.ACKNOWLEDGED,
        occurred_at=datetime.now(UTC),
        actor="crm",
    )
    record = cloudevents.encode(event, source="/e2e", id=event.event_id, time=event.occurred_at)
    producer = Producer({"bootstrap.servers": ack_stack.bootstrap})
    producer.produce(LIFECYCLE.name, key=record.key, value=record.value, headers=record.headers)
    producer.flush(10)

    def refused() -> list[ComplaintRejected]:
        found = read_events(ack_stack.bootstrap, REJECTED.name, ComplaintRejected)
        return [
            r for r in found if r.reason == "unknown_complaint" and ghost.encode() in r.original
        ]

    [dead_letter] = wait_for(refused, timeout=GRACE + 40, what="the unknown_complaint dead letter")
    assert dead_letter.source_topic == LIFECYCLE.name
    assert deliveries_for(ack_stack, ghost) == []
    print(f"sink received for the unknown id: {len(deliveries_for(ack_stack, ghost))}")
