"""Escalations leave in batches: one producer call and one awaited delivery per batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from complaints_escalation.outbound.broker_producer import BatchProducer
from complaints_escalation.outbound.publisher import FaustPublisher, Outgoing
from complaints_kit.kafka import AsyncProducer, Producible


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
    sender = BatchProducer(topic="complaints.escalated.v1", config={"a": 1}, factory=fake)
    assert FakeProducer.made == []
    await sender.send_all(outgoing(3))
    await sender.send_all(outgoing(2))
    [producer] = FakeProducer.made  # one producer, made on the first send
    assert producer.batches == [
        ("complaints.escalated.v1", [b"c-0", b"c-1", b"c-2"]),
        ("complaints.escalated.v1", [b"c-0", b"c-1"]),
    ]
    await sender.on_stop()
    assert producer.closed


async def test_the_publisher_sends_escalations_as_one_batch() -> None:
    FakeProducer.made.clear()
    sender = BatchProducer(topic="t", config={}, factory=fake)
    publisher = FaustPublisher(
        escalated=None,  # type: ignore[arg-type]  # not used when batches are given
        rejected=None,  # type: ignore[arg-type]
        due=None,  # type: ignore[arg-type]
        escalated_batches=sender,
    )
    await publisher.escalated(outgoing(500))
    [producer] = FakeProducer.made
    assert len(producer.batches) == 1
    assert len(producer.batches[0][1]) == 500
