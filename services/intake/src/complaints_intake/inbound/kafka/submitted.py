"""One complaints.submitted.v1 record: decode -> accept, or dead-letter it with the reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from confluent_kafka import KafkaException
from pydantic import ValidationError

from complaints_intake.domain.bounds import Unacceptable
from complaints_intake.inbound.handlers import IntakeHandlers, RecordOrigin
from complaints_intake.metrics import IntakeMetrics
from complaints_schemas import cloudevents
from complaints_schemas.cloudevents import DecodeError, Headers
from complaints_schemas.events import ComplaintSubmitted, FieldError

log = logging.getLogger(__name__)

# How long to wait before re-queueing when the producer's local queue is full.
QUEUE_FULL_BACKOFF = 0.05


@dataclass(frozen=True, slots=True)
class InboundRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers | None


def decode_submitted(record: InboundRecord, *, max_bytes: int) -> ComplaintSubmitted:
    """CloudEvents binary mode when the record has ce_* headers, else plain JSON."""
    if record.value is not None and len(record.value) > max_bytes:
        raise DecodeError("too_large", f"{len(record.value)} bytes, more than {max_bytes}")
    if cloudevents.has_envelope(record.headers):
        return cloudevents.decode(ComplaintSubmitted, record.value, record.headers).data
    return cloudevents.decode_data(ComplaintSubmitted, record.value)


class SubmittedRecordHandler:
    """Handles a record until its output is acknowledged; raises only if publishing failed."""

    def __init__(self, *, handlers: IntakeHandlers, metrics: IntakeMetrics, max_bytes: int) -> None:
        self._handlers = handlers
        self._metrics = metrics
        self._max_bytes = max_bytes

    async def __call__(self, record: InboundRecord) -> None:
        try:
            submitted = decode_submitted(record, max_bytes=self._max_bytes)
        except DecodeError as exc:
            await self._reject(record, exc)
            return
        try:
            await self._retry_when_full(lambda: self._handlers.accept(submitted, source="kafka"))
        except KafkaException:
            raise  # the broker did not take the output: the consumer re-reads this record
        except Unacceptable as exc:
            # Valid by the schema, refused by the bounds (text, occurred_at): a dead letter.
            errors = tuple(
                FieldError(location=v.location, message=v.message) for v in exc.violations
            )
            await self._reject(record, DecodeError("invalid_event", str(exc), errors))
        except ValidationError as exc:
            # Valid as submitted but not as accepted (normalisation): still bad input, not a crash.
            errors = cloudevents.field_errors(exc)
            await self._reject(record, DecodeError("invalid_event", str(exc), errors))
        except Exception as exc:
            # Never let one record stop the partition: dead-letter it with what went wrong.
            log.exception("unexpected error handling a record")
            await self._reject(record, DecodeError("invalid_event", f"{type(exc).__name__}: {exc}"))

    async def _reject(self, record: InboundRecord, exc: DecodeError) -> None:
        log.warning(
            "rejected record",
            extra={
                "reason": exc.reason,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
            },
        )
        origin = RecordOrigin(record.topic, record.partition, record.offset)
        await self._retry_when_full(
            lambda: self._handlers.reject(
                reason=exc.reason,
                detail=exc.detail,
                errors=exc.errors,
                original=record.value or b"",
                origin=origin,
            )
        )

    async def _retry_when_full(self, send: Callable[[], Awaitable[object]]) -> None:
        while True:
            try:
                await send()
                return
            except BufferError:
                self._metrics.backpressure.labels(source="kafka").inc()
                await asyncio.sleep(QUEUE_FULL_BACKOFF)
