"""Escalations leave in batches: one producer call and one awaited delivery per batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from complaints_escalation.domain.clock_view import clocks_updated
from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.domain.transitions import on_classified
from complaints_escalation.outbound.broker_producer import BatchProducer
from complaints_escalation.outbound.publisher import FaustPublisher, Outgoing
from complaints_kit.kafka import AsyncProducer, Producible

from .factories import T0, classified


class FakeProducer:
    made: ClassVar[list[FakeProducer]] = []

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.batches: list[tuple[str, list[bytes]]] = []
        self.closed = False
        FakeProducer.made.append(self)

    async def send_all(self, topic: str, records: Sequence[Producible]) -> None:
        self.batches.append((topic, [r.key for r in records]))

    def close(self, timeout: float = 10.0) -> None:
        self.closed = True


def fake(config: dict[str, Any]) -> AsyncProducer:
    return FakeProducer(config)  # type: ignore[return-value]


def outgoing(n: int) -> list[Outgoing]:
    return [Outgoing(f"c-{i}".encode(), b"{}", [("ce_id", f"e-{i}".encode())]) for i in range(n)]


async def test_nothing_connects_before_the_first_send_and_the_stop_closes_it() -> None:
    FakeProducer.made.clear()
    sender = BatchProducer(config={"a": 1}, factory=fake)
    assert FakeProducer.made == []
    await sender.send_all("complaints.escalated.v1", outgoing(3))
    await sender.send_all("complaints.escalated.v1", outgoing(2))
    [producer] = FakeProducer.made  # one producer, made on the first send
    assert producer.batches == [
        ("complaints.escalated.v1", [b"c-0", b"c-1", b"c-2"]),
        ("complaints.escalated.v1", [b"c-0", b"c-1"]),
    ]
    await sender.on_stop()
    assert producer.closed


async def test_the_publisher_sends_escalations_as_one_batch() -> None:
    FakeProducer.made.clear()
    sender = BatchProducer(config={}, factory=fake)
    publisher = FaustPublisher(
        escalated=Named("complaints.escalated.v1"),  # type: ignore[arg-type]
        rejected=None,  # type: ignore[arg-type]
        due=None,  # type: ignore[arg-type]
        clocks=Named("complaints.clocks-updated.v1"),  # type: ignore[arg-type]
        batches=sender,
    )
    await publisher.escalated(outgoing(500))
    policy = EscalationPolicy.response_only()
    state = on_classified(None, classified("CB-1"), policy=policy).state
    views = [clocks_updated(state, now=T0, calendars=policy.calendars)]
    await publisher.clock_batches(views * 3)
    [producer] = FakeProducer.made
    assert [(topic, len(keys)) for topic, keys in producer.batches] == [
        ("complaints.escalated.v1", 500),
        ("complaints.clocks-updated.v1", 3),
    ]


class Named:
    """Only the topic's name is used when batches go through the confluent producer."""

    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name
