"""faust agents: classified, lifecycle and due records into the handlers, none dropped."""

from __future__ import annotations

import faust
from faust.types import TopicT

from complaints_escalation.inbound.handlers import Handlers
from complaints_kit.records import Origin
from complaints_kit.streams import record_agent
from complaints_schemas.cloudevents import Headers


def register_agents(
    app: faust.App, *, handlers: Handlers, classified: TopicT, lifecycle: TopicT, due: TopicT
) -> None:
    """One agent per input topic; each processes its partitions' records in order."""

    async def handle_due(value: bytes | None, _headers: Headers, origin: Origin) -> None:
        await handlers.due(value, origin)

    failed = handlers.failed
    app.agent(classified, name="escalation.classified")(record_agent(handlers.classified, failed))
    app.agent(lifecycle, name="escalation.lifecycle")(record_agent(handlers.lifecycle, failed))
    app.agent(due, name="escalation.due")(record_agent(handle_due, failed))
