"""faust agents: classified, lifecycle and due records into the handlers; never crash."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.types import EventT, StreamT, TopicT

from complaints_escalation.inbound.handlers import Handlers, Origin
from complaints_schemas.cloudevents import Headers

log = logging.getLogger(__name__)

Handle = Callable[[bytes | None, Headers, Origin], Awaitable[None]]


def register_agents(
    app: faust.App, *, handlers: Handlers, classified: TopicT, lifecycle: TopicT, due: TopicT
) -> None:
    """One agent per input topic; each processes its partitions' records in order."""

    async def handle_due(value: bytes | None, _headers: Headers, origin: Origin) -> None:
        await handlers.due(value, origin)

    app.agent(classified, name="escalation.classified")(_agent(handlers.classified))
    app.agent(lifecycle, name="escalation.lifecycle")(_agent(handlers.lifecycle))
    app.agent(due, name="escalation.due")(_agent(handle_due))


def _agent(handle: Handle) -> Callable[[StreamT[Any]], Awaitable[None]]:
    async def process(stream: StreamT[Any]) -> None:
        event: EventT[Any]
        async for event in stream.events():
            message = event.message
            origin = Origin(
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                key=message.key if isinstance(message.key, bytes) else None,
            )
            try:
                await handle(event.value, _headers(message.headers), origin)
            except Exception:
                # A bug or broker trouble on one record must not stop the partition.
                log.exception(
                    "record handling failed",
                    extra={"topic": origin.topic, "partition": origin.partition},
                )

    return process


def _headers(raw: Any) -> Headers:
    if raw is None:
        return []
    if isinstance(raw, dict):
        return list(raw.items())
    return list(raw)
