"""Publishing classified events, dead letters and repartitioned records through faust topics."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from faust.types import TopicT

from complaints_classifier.repartition import ToWindow
from complaints_schemas.cloudevents import KafkaRecord, encode
from complaints_schemas.events import ComplaintClassified, ComplaintRejected

SOURCE = "/services/classifier"

log = logging.getLogger(__name__)

Delivered = Callable[[], None]


class Publisher(Protocol):
    async def to_customer(self, message: ToWindow) -> None:
        """Queue for the customer stage, keyed by customer id."""
        ...

    async def to_window(self, message: ToWindow) -> None:
        """Queue for the window stage, keyed by fingerprint."""
        ...

    async def classified(
        self, event: ComplaintClassified, *, on_delivered: Delivered | None = None
    ) -> None:
        """Queue the decision keyed by complaint id; `on_delivered` runs once the broker has it."""
        ...

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None: ...


class FaustPublisher:
    """Sends without waiting for each acknowledgement: faust flushes before it commits offsets."""

    def __init__(
        self, *, to_customer: TopicT, to_window: TopicT, classified: TopicT, rejected: TopicT
    ) -> None:
        self._to_customer = to_customer
        self._to_window = to_window
        self._classified = classified
        self._rejected = rejected

    async def to_customer(self, message: ToWindow) -> None:
        await self._to_customer.send(
            key=message.content.complaint.customer.id.encode(),
            value=message.model_dump_json().encode(),
            force=True,
        )

    async def to_window(self, message: ToWindow) -> None:
        await self._to_window.send(
            key=message.content.fingerprint.encode(),
            value=message.model_dump_json().encode(),
            force=True,
        )

    async def classified(
        self, event: ComplaintClassified, *, on_delivered: Delivered | None = None
    ) -> None:
        # The CloudEvents id is the complaint id: a re-emission is recognisably the same event.
        record = encode(event, source=SOURCE, id=event.complaint_id, time=event.classified_at)
        sent = await self._classified.send(
            key=record.key, value=record.value, headers=_headers(record), force=True
        )
        sent.add_done_callback(_on_done(on_delivered))  # type: ignore[attr-defined]

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None:
        record = encode(event, source=SOURCE, id=id, time=event.rejected_at)
        await self._rejected.send(
            key=record.key, value=record.value, headers=_headers(record), force=True
        )


def _on_done(on_delivered: Delivered | None) -> Callable[[Any], None]:
    def done(future: Any) -> None:
        if future.cancelled() or future.exception() is not None:
            log.error("classified event not delivered", exc_info=future.exception())
        elif on_delivered is not None:
            on_delivered()

    return done


def _headers(record: KafkaRecord) -> list[tuple[str, bytes]]:
    return [
        (name, value.encode() if isinstance(value, str) else value)
        for name, value in record.headers
        if value is not None
    ]
