"""Publishing classified events, dead letters and repartitioned records through faust topics."""

from __future__ import annotations

from typing import Protocol

from faust.types import TopicT

from complaints_classifier.repartition import ToWindow
from complaints_schemas.cloudevents import KafkaRecord, encode
from complaints_schemas.events import ComplaintClassified, ComplaintRejected

SOURCE = "/services/classifier"


class Publisher(Protocol):
    async def to_customer(self, message: ToWindow) -> None:
        """Queue for the customer stage, keyed by the customer's identity (`customer_key`)."""
        ...

    async def to_window(self, message: ToWindow) -> None:
        """Queue for the window stage, keyed by fingerprint."""
        ...

    async def classified(self, event: ComplaintClassified) -> None:
        """Publish the decision keyed by complaint id; returns once the broker has it."""
        ...

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None: ...


class FaustPublisher:
    """Each send returns once the broker has the record: a failed send raises (and the record
    is retried, see complaints_kit.records) instead of its offset being committed regardless
    (faust's flush before a commit waits for sends but does not check that they succeeded)."""

    def __init__(
        self, *, to_customer: TopicT, to_window: TopicT, classified: TopicT, rejected: TopicT
    ) -> None:
        self._to_customer = to_customer
        self._to_window = to_window
        self._classified = classified
        self._rejected = rejected

    async def to_customer(self, message: ToWindow) -> None:
        key = message.customer_key.encode()
        await _delivered(self._to_customer, key, message.model_dump_json().encode())

    async def to_window(self, message: ToWindow) -> None:
        key = message.content.fingerprint.encode()
        await _delivered(self._to_window, key, message.model_dump_json().encode())

    async def classified(self, event: ComplaintClassified) -> None:
        # The CloudEvents id is the complaint id: a re-emission is recognisably the same event.
        record = encode(event, source=SOURCE, id=event.complaint_id, time=event.classified_at)
        await _delivered(self._classified, record.key, record.value, _headers(record))

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None:
        record = encode(event, source=SOURCE, id=id, time=event.rejected_at)
        await _delivered(self._rejected, record.key, record.value, _headers(record))


async def _delivered(
    topic: TopicT, key: bytes, value: bytes, headers: list[tuple[str, bytes]] | None = None
) -> None:
    sent = await topic.send(key=key, value=value, headers=headers, force=True)
    await sent  # the broker's acknowledgement, or the send's exception


def _headers(record: KafkaRecord) -> list[tuple[str, bytes]]:
    return [
        (name, value.encode() if isinstance(value, str) else value)
        for name, value in record.headers
        if value is not None
    ]
