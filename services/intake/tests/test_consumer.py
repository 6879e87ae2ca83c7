"""The submitted consumer over a fake confluent-kafka consumer: what it commits and re-reads."""

from __future__ import annotations

import asyncio

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from complaints_intake.inbound.kafka.consumer import SubmittedConsumer
from complaints_intake.inbound.kafka.submitted import InboundRecord

TOPIC = "complaints.submitted.v1"


class FakeMessage:
    def __init__(self, partition: int, offset: int, value: bytes) -> None:
        self._partition, self._offset, self._value = partition, offset, value

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"k"

    def value(self) -> bytes:
        return self._value

    def headers(self) -> list[tuple[str, bytes]]:
        return []


class FakeConsumer:
    """Hands out batches, then stops the run; records commits and seeks."""

    def __init__(self, batches: list[list[FakeMessage]], stop: asyncio.Event) -> None:
        self._batches = batches
        self._stop = stop
        self.commits: list[dict[int, int]] = []
        self.seeks: list[tuple[int, int]] = []
        self.closed = False

    def subscribe(self, topics: list[str]) -> None:
        assert topics == [TOPIC]

    def consume(self, num_messages: int, timeout: float) -> list[FakeMessage]:
        if not self._batches:
            self._stop.set()
            return []
        return self._batches.pop(0)

    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool) -> None:
        assert asynchronous is False
        self.commits.append({tp.partition: tp.offset for tp in offsets})

    def seek(self, tp: TopicPartition) -> None:
        self.seeks.append((tp.partition, tp.offset))

    def close(self) -> None:
        self.closed = True


async def _run(
    batches: list[list[FakeMessage]], fail: set[bytes]
) -> tuple[FakeConsumer, list[int]]:
    stop = asyncio.Event()
    fake = FakeConsumer(batches, stop)
    handled: list[int] = []

    async def handle(record: InboundRecord) -> None:
        if record.value in fail:
            raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT))
        handled.append(record.offset)

    consumer = SubmittedConsumer(
        consumer=fake,  # type: ignore[arg-type]
        topic=TOPIC,
        handle=handle,
        batch_size=10,
        failure_backoff=0,
    )
    await consumer.run(stop)
    return fake, handled


async def test_commits_the_next_offset_per_partition_after_handling() -> None:
    fake, handled = await _run(
        [[FakeMessage(0, 3, b"a"), FakeMessage(1, 7, b"b"), FakeMessage(0, 4, b"c")]], fail=set()
    )
    assert fake.commits == [{0: 5, 1: 8}]
    assert fake.seeks == []
    assert sorted(handled) == [3, 4, 7]
    assert fake.closed


async def test_failed_output_is_not_committed_and_is_read_again() -> None:
    fake, _ = await _run(
        [[FakeMessage(0, 3, b"ok"), FakeMessage(0, 4, b"fails"), FakeMessage(0, 5, b"ok2")]],
        fail={b"fails"},
    )
    assert fake.commits == [{0: 4}]
    assert fake.seeks == [(0, 4)]
    assert fake.closed


async def test_nothing_committed_when_the_first_record_fails() -> None:
    fake, _ = await _run([[FakeMessage(2, 0, b"fails")]], fail={b"fails"})
    assert fake.commits == []
    assert fake.seeks == [(2, 0)]
