"""Run the notifier: `python -m complaints_notifier`."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import httpx
from prometheus_client import CollectorRegistry, disable_created_metrics
from pydantic import ValidationError

from complaints_kit.kafka import start_on_topics
from complaints_kit.lag import ConsumerLagCollector
from complaints_kit.logs import configure_logging
from complaints_kit.settings import KafkaSettings
from complaints_notifier.app import build_service
from complaints_notifier.routing_file import RoutingFileError, load_routing
from complaints_notifier.settings import NotifierSettings
from complaints_schemas.topics import ALL_TOPICS, ESCALATED

SERVICE = "notifier"

log = logging.getLogger(__name__)


async def serve(settings: NotifierSettings, kafka: KafkaSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # SIGHUP too: a closed terminal
        loop.add_signal_handler(sig, stop.set)
    registry = CollectorRegistry()
    ConsumerLagCollector(
        kafka, group=settings.consumer_group, topics=[ESCALATED.name], registry=registry
    )
    service = build_service(settings, kafka, registry=registry)
    await service.run(stop)


def main() -> None:
    # One series per counter: the `_created` companions double cardinality for no use here.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    try:
        settings = NotifierSettings()  # required fields come from the environment
    except ValidationError as exc:
        sys.exit(f"notifier: invalid settings (NOTIFIER_*):\n{exc}")
    if settings.routing_file is not None:
        try:  # before touching the broker: a bad file is reported at once, with file:line
            load_routing(settings.routing_file)
        except RoutingFileError as exc:
            sys.exit(f"notifier: invalid routing file: {exc}")
    kafka = KafkaSettings()
    configure_logging(SERVICE, level=settings.log_level, json_lines=settings.log_json)
    # httpx logs every request with its full URL, which may carry a robot's access token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    start_on_topics(SERVICE, kafka, ALL_TOPICS)
    # Only the host: webhook URLs often carry access tokens in their path or query.
    host = httpx.URL(settings.webhook_url).host if settings.webhook_url else None
    log.info(
        "notifier starting",
        extra={"webhook_host": host, "routing_file": str(settings.routing_file or "")},
    )
    try:
        asyncio.run(serve(settings, kafka))
    except RoutingFileError as exc:
        sys.exit(f"notifier: invalid routing file: {exc}")


if __name__ == "__main__":
    main()
