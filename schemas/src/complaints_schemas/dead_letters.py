"""Dead letters: a Kafka record that failed to decode, kept whole with the reason."""

from __future__ import annotations

from datetime import datetime

from complaints_schemas.cloudevents import DecodeError
from complaints_schemas.events import ComplaintRejected

MAX_DETAIL = 2000


def dead_letter(
    error: DecodeError,
    *,
    value: bytes | None,
    topic: str,
    partition: int,
    offset: int,
    at: datetime,
) -> tuple[str, ComplaintRejected]:
    """The rejection of a record and its id; the id comes from the record's position,
    so a redelivered bad record yields the same dead letter."""
    event = ComplaintRejected(
        reason=error.reason,  # DecodeError reasons are ComplaintRejected's
        detail=error.detail[:MAX_DETAIL],
        errors=error.errors,
        original=value or b"",
        source="kafka",
        source_topic=topic,
        partition=partition,
        offset=offset,
        rejected_at=at,
    )
    return f"rejected:{topic}:{partition}:{offset}", event
