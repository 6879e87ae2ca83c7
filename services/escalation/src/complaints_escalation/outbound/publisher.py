"""Publishing escalations, dead letters and due messages through faust topics."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from faust.types import TopicT

from complaints_escalation.scheduling.due_message import DueBatch
from complaints_schemas.cloudevents import KafkaRecord, encode
from complaints_schemas.events import (
    ComplaintClocksUpdated,
    ComplaintEscalated,
    ComplaintLifecycleEvent,
    ComplaintRejected,
)

SOURCE = "/services/escalation"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An escalation encoded ahead of its instant: only the send is left."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def encode_escalated(events: Sequence[ComplaintEscalated], *, now: datetime) -> list[Outgoing]:
    """CloudEvents records whose id is the deterministic escalation id (a re-emission is
    identical)."""
    out = []
    for event in events:
        record = encode(event, source=SOURCE, id=event.escalation_id, time=now)
        out.append(Outgoing(record.key, record.value, _headers(record)))
    return out


class Publisher(Protocol):
    async def escalated(self, records: Sequence[Outgoing]) -> None:
        """Publish them all and wait until the broker has every one."""
        ...

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None: ...

    async def due(self, batch: DueBatch, *, partition: int) -> None: ...


class BatchSender(Protocol):
    async def send_all(self, topic: str, records: Sequence[Outgoing]) -> None:
        """Send them all; return once the broker has every one."""
        ...


class FaustPublisher:
    """Escalations, and clock views after fired steps, through `batches` (one awaited
    delivery per batch) when given, else through faust; dead letters, other clock views and
    due messages through faust."""

    def __init__(
        self,
        *,
        escalated: TopicT,
        rejected: TopicT,
        due: TopicT,
        clocks: TopicT | None = None,
        lifecycle: TopicT | None = None,
        batches: BatchSender | None = None,
    ) -> None:
        self._escalated = escalated
        self._batches = batches
        self._rejected = rejected
        self._due = due
        self._clocks = clocks
        self._lifecycle = lifecycle

    async def linked(self, event: ComplaintLifecycleEvent) -> None:
        """A duplicate's `linked` step, to its original (keyed by it, so its worker gets it)."""
        if self._lifecycle is None:
            return
        record = encode(event, source=SOURCE, id=event.event_id, time=event.occurred_at)
        sent = await self._lifecycle.send(
            key=record.key, value=record.value, headers=_headers(record), force=True
        )
        await sent

    async def clocks(self, events: Sequence[ComplaintClocksUpdated]) -> None:
        """Complaints' clocks, queued on faust's producer; each id names complaint and state
        version (a resend is equal). Delivery is not awaited per record: faust flushes its
        producer before it commits the offsets of the records that caused them (as for the
        table's changelog writes), so a crash before delivery redelivers the cause and the
        handler publishes the view again."""
        if self._clocks is None:
            return
        for record in _clock_records(events):
            await self._clocks.send(
                key=record.key, value=record.value, headers=record.headers, force=True
            )

    async def clock_batches(self, events: Sequence[ComplaintClocksUpdated]) -> None:
        """Many complaints' clocks at once (after fired steps), awaited once through
        `batches` (faust's producer, one send per record, otherwise)."""
        if self._clocks is None:
            return
        if self._batches is None:
            await self.clocks(events)
            return
        await self._batches.send_all(self._clocks.get_topic_name(), _clock_records(events))

    async def escalated(self, records: Sequence[Outgoing]) -> None:
        if self._batches is not None:
            await self._batches.send_all(self._escalated.get_topic_name(), records)
            return
        # Sent together, then awaited together: one broker round trip for a batch.
        pending = [
            await self._escalated.send(
                key=record.key, value=record.value, headers=record.headers, force=True
            )
            for record in records
        ]
        await asyncio.gather(*pending)

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None:
        record = encode(event, source=SOURCE, id=id, time=event.rejected_at)
        sent = await self._rejected.send(
            key=record.key, value=record.value, headers=_headers(record), force=True
        )
        await sent

    async def due(self, batch: DueBatch, *, partition: int) -> None:
        # Explicit partition: the agent that owns these complaints' states must get it.
        sent = await self._due.send(
            key=batch.items[0].complaint_id.encode(), value=batch.to_bytes(), partition=partition
        )
        await sent


def _clock_records(events: Sequence[ComplaintClocksUpdated]) -> list[Outgoing]:
    """Each id names complaint and state version: a resend is equal."""
    out = []
    for event in events:
        record = encode(
            event, source=SOURCE, id=f"{event.complaint_id}@{event.version}", time=event.updated_at
        )
        out.append(Outgoing(record.key, record.value, _headers(record)))
    return out


def _headers(record: KafkaRecord) -> list[tuple[str, bytes]]:
    return [
        (name, value.encode() if isinstance(value, str) else value)
        for name, value in record.headers
        if value is not None
    ]
