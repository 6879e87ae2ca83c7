"""Publishing classified events, dead letters and repartitioned records in batches.

A send only queues the record in the producer; the stream loop waits for the broker's
acknowledgement of the whole batch once (`Outbox.settle`) before it commits the batch's
offsets. A record the broker did not take fails the batch, which is then read again.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from complaints_classifier.repartition import ToWindow
from complaints_schemas.cloudevents import KafkaRecord, encode
from complaints_schemas.events import (
    ComplaintClassified,
    ComplaintLifecycleEvent,
    ComplaintRejected,
)

SOURCE = "/services/classifier"
# How long one wait in `settle` lasts before it logs and waits again; the producer's own
# delivery timeout (message.timeout.ms) bounds the whole wait.
SETTLE_SECONDS = 30.0

log = logging.getLogger(__name__)

Headers = list[tuple[str, str | bytes | None]]


class Publisher(Protocol):
    def to_customer(self, message: ToWindow) -> None:
        """Queue for the customer stage, keyed by the customer's identity (`customer_key`)."""
        ...

    def to_window(self, message: ToWindow) -> None:
        """Queue for the window stage, keyed by fingerprint."""
        ...

    def classified(self, event: ComplaintClassified) -> None:
        """Queue the decision, keyed by complaint id."""
        ...

    def lifecycle(self, event: ComplaintLifecycleEvent) -> None:
        """Queue a service's lifecycle step (a member told it joined a cluster)."""
        ...

    def rejected(self, event: ComplaintRejected, *, id: str) -> None: ...


class DeliveryFailed(RuntimeError):
    """Records of a batch the broker did not acknowledge: the batch is handled again."""


class Outbox:
    """A confluent-kafka producer that counts what it queued and what the broker refused;
    the producer is created (and connects) at `open`, not when the outbox is built."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config
        self._client: Producer | None = None
        self._errors: list[KafkaError] = []
        self.queued = 0

    def open(self) -> None:
        if self._client is None:
            self._client = Producer(self._config)

    @property
    def _producer(self) -> Producer:
        if self._client is None:
            raise RuntimeError("outbox not open")
        return self._client

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Headers | None = None,
        *,
        partition: int | None = None,
    ) -> None:
        """Queue a record (into `partition` if given, else by the key's murmur2 hash)."""
        while True:
            try:
                self._producer.produce(
                    topic,
                    key=key,
                    value=value,
                    headers=headers,
                    on_delivery=self._delivered,
                    partition=-1 if partition is None else partition,  # -1: by the key
                )
                break
            except BufferError:
                # The local queue is full: let deliveries drain it, then queue again.
                self._producer.poll(0.05)
        self.queued += 1
        self._producer.poll(0)  # serve delivery reports as we go

    def _delivered(self, err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            self._errors.append(err)

    def settle(self, timeout: float = SETTLE_SECONDS) -> None:
        """Wait until every queued record is acknowledged or refused; raise if any was refused.

        A broker away for a while only makes this wait: the producer retries until its
        delivery timeout (message.timeout.ms), then reports the records as refused.
        """
        while (remaining := self._producer.flush(timeout)) > 0:
            log.warning("waiting for the broker to acknowledge", extra={"records": remaining})
        errors, self._errors = self._errors, []
        self.queued = 0
        if errors:
            first = errors[0]
            if first.fatal():
                raise KafkaException(first)  # the producer is unusable: restart the service
            raise DeliveryFailed(f"{len(errors)} records refused; first: {first}")

    def close(self, timeout: float = 10.0) -> None:
        if self._client is not None:
            self._client.flush(timeout)


class BatchPublisher:
    """The stages' outputs, queued on the outbox; the CloudEvents id of a classified event
    is the complaint id, so a re-emission after a restart is recognisably the same event."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        to_customer: str,
        to_window: str,
        classified: str,
        rejected: str,
        lifecycle: str,
    ) -> None:
        self._outbox = outbox
        self._to_customer = to_customer
        self._to_window = to_window
        self._classified = classified
        self._rejected = rejected
        self._lifecycle = lifecycle

    def to_customer(self, message: ToWindow) -> None:
        key = message.customer_key.encode()
        self._outbox.send(self._to_customer, key, message.model_dump_json().encode())

    def to_window(self, message: ToWindow) -> None:
        key = message.content.fingerprint.encode()
        self._outbox.send(self._to_window, key, message.model_dump_json().encode())

    def classified(self, event: ComplaintClassified) -> None:
        record = encode(event, source=SOURCE, id=event.complaint_id, time=event.classified_at)
        self._outbox.send(self._classified, record.key, record.value, _headers(record))

    def lifecycle(self, event: ComplaintLifecycleEvent) -> None:
        record = encode(event, source=SOURCE, id=event.event_id, time=event.occurred_at)
        self._outbox.send(self._lifecycle, record.key, record.value, _headers(record))

    def rejected(self, event: ComplaintRejected, *, id: str) -> None:
        record = encode(event, source=SOURCE, id=id, time=event.rejected_at)
        self._outbox.send(self._rejected, record.key, record.value, _headers(record))


def _headers(record: KafkaRecord) -> Headers:
    return [
        (name, value.encode() if isinstance(value, str) else value)
        for name, value in record.headers
        if value is not None
    ]
