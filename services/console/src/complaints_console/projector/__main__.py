"""Run the projector: `python -m complaints_console.projector`."""

from __future__ import annotations

import asyncio
import signal
import sys

from prometheus_client import CollectorRegistry, disable_created_metrics
from pydantic import ValidationError

from complaints_console.projector.app import build_service
from complaints_console.projector.consumer import TOPICS
from complaints_console.settings import ProjectorSettings
from complaints_kit.kafka import provision_topics
from complaints_kit.lag import ConsumerLagCollector
from complaints_kit.logs import configure_logging
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import ALL_TOPICS

SERVICE = "projector"


async def serve(settings: ProjectorSettings, kafka: KafkaSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    registry = CollectorRegistry()
    ConsumerLagCollector(
        kafka, group=settings.consumer_group, topics=[t.name for t in TOPICS], registry=registry
    )
    service = build_service(settings, kafka, registry=registry)
    await service.run(stop)


def main() -> None:
    disable_created_metrics()  # type: ignore[no-untyped-call]
    try:
        settings = ProjectorSettings()
    except ValidationError as exc:
        sys.exit(f"projector: invalid settings (PROJECTOR_*):\n{exc}")
    kafka = KafkaSettings()
    configure_logging(SERVICE, level=settings.log_level, json_lines=settings.log_json)
    provision_topics(kafka, ALL_TOPICS)
    asyncio.run(serve(settings, kafka))


if __name__ == "__main__":
    main()
