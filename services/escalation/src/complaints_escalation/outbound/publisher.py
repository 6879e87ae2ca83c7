"""Publishing escalations, dead letters and due messages through faust topics."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
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


class Publisher(Protocol):
    async def escalated(self, events: Sequence[ComplaintEscalated], *, now: datetime) -> None:
        """Publish them all and wait until the broker has every one."""
        ...

    async def rejected(self, event: ComplaintRejected, *, id: str) -> None: ...

    async def due(self, batch: DueBatch, *, partition: int) -> None: ...


class FaustPublisher:
    def __init__(
        self,
        *,
        escalated: TopicT,
        rejected: TopicT,
        due: TopicT,
        clocks: TopicT | None = None,
        lifecycle: TopicT | None = None,
    ) -> None:
        self._escalated = escalated
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

    async def clocks(self, event: ComplaintClocksUpdated) -> None:
        """A complaint's clocks; the id names complaint and state version (a resend is equal)."""
        if self._clocks is None:
            return
        record = encode(
            event, source=SOURCE, id=f"{event.complaint_id}@{event.version}", time=event.updated_at
        )
        sent = await self._clocks.send(
            key=record.key, value=record.value, headers=_headers(record), force=True
        )
        await sent

    async def escalated(self, events: Sequence[ComplaintEscalated], *, now: datetime) -> None:
        # Sent together, then awaited together: one broker round trip for a burst.
        pending = []
        for event in events:
            # The CloudEvents id is the deterministic escalation id: a re-emission is identical.
            record = encode(event, source=SOURCE, id=event.escalation_id, time=now)
            pending.append(
                await self._escalated.send(
                    key=record.key, value=record.value, headers=_headers(record), force=True
                )
            )
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


def _headers(record: KafkaRecord) -> list[tuple[str, bytes]]:
    return [
        (name, value.encode() if isinstance(value, str) else value)
        for name, value in record.headers
        if value is not None
    ]
