"""faust agents: accepted -> content -> by customer -> history -> by fingerprint -> window."""

from __future__ import annotations

import faust
from faust.types import TopicT

from complaints_classifier.inbound.handlers import Handlers
from complaints_kit.records import Origin
from complaints_kit.streams import record_agent
from complaints_schemas.cloudevents import Headers


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

    failed = handlers.failed
    app.agent(accepted, name="classifier.accepted")(record_agent(handlers.accepted, failed))
    app.agent(by_customer, name="classifier.customer")(record_agent(customer, failed))
    app.agent(by_fingerprint, name="classifier.window")(record_agent(windowed, failed))
