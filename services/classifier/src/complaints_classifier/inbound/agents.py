"""faust agents: accepted -> content -> by customer -> history -> by fingerprint -> window."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.types import EventT, StreamT, TopicT

from complaints_classifier.inbound.handlers import Handlers, Origin
from complaints_schemas.cloudevents import Headers

log = logging.getLogger(__name__)

Handle = Callable[[bytes | None, Headers, Origin], Awaitable[None]]


def register_agents(
    app: faust.App,
    *,
    handlers: Handlers,
    accepted: TopicT,
    by_customer: TopicT,
    by_fingerprint: TopicT,
) -> None:
    """One agent per stage; each handles its partitions' records in order (no concurrency)."""

    async def customer(value: bytes | None, _headers: Headers, origin: Origin) -> None:
        await handlers.customer(value, origin)

    async def windowed(value: bytes | None, _headers: Headers, origin: Origin) -> None:
        await handlers.windowed(value, origin)

    app.agent(accepted, name="classifier.accepted")(_agent(handlers.accepted))
    app.agent(by_customer, name="classifier.customer")(_agent(customer))
    app.agent(by_fingerprint, name="classifier.window")(_agent(windowed))


def _agent(handle: Handle) -> Callable[[StreamT[Any]], Awaitable[None]]:
    async def process(stream: StreamT[Any]) -> None:
        event: EventT[Any]
        async for event in stream.events():
            message = event.message
            origin = Origin(topic=message.topic, partition=message.partition, offset=message.offset)
            try:
                await handle(event.value, _headers(message.headers), origin)
            except Exception:
                # A bug or broker trouble on one record must not stop the partition.
                log.exception(
                    "record handling failed",
                    extra={
                        "topic": origin.topic,
                        "partition": origin.partition,
                        "offset": origin.offset,
                    },
                )

    return process


def _headers(raw: Any) -> Headers:
    if raw is None:
        return []
    if isinstance(raw, dict):
        return list(raw.items())
    return list(raw)
