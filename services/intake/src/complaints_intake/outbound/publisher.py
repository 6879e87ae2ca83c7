"""Publishing intake's events: CloudEvents binary mode, source "/services/intake"."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from complaints_schemas import cloudevents
from complaints_schemas.cloudevents import KafkaRecord
from complaints_schemas.events import ComplaintAccepted, ComplaintLifecycleEvent, ComplaintRejected
from complaints_schemas.topics import ACCEPTED, LIFECYCLE, REJECTED

SOURCE = "/services/intake"


class RecordSender(Protocol):
    """What complaints_kit.kafka.AsyncProducer offers: a future settled by the broker's ack."""

    def send(self, topic: str, record: KafkaRecord) -> asyncio.Future[Any]: ...


class IntakePublisher:
    """Each method queues one record and returns the future of its acknowledgement.

    Queueing raises BufferError at once when the producer's local queue is full.
    """

    def __init__(self, sender: RecordSender) -> None:
        self._sender = sender

    def accepted(self, event: ComplaintAccepted) -> asyncio.Future[Any]:
        record = cloudevents.encode(
            event, source=SOURCE, id=event.complaint_id, time=event.accepted_at
        )
        return self._sender.send(ACCEPTED.name, record)

    def lifecycle(self, event: ComplaintLifecycleEvent) -> asyncio.Future[Any]:
        record = cloudevents.encode(event, source=SOURCE, id=event.event_id, time=event.occurred_at)
        return self._sender.send(LIFECYCLE.name, record)

    def rejected(self, event: ComplaintRejected, *, rejection_id: str) -> asyncio.Future[Any]:
        record = cloudevents.encode(event, source=SOURCE, id=rejection_id, time=event.rejected_at)
        return self._sender.send(REJECTED.name, record)
