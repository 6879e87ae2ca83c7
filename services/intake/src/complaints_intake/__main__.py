"""Run intake: `python -m complaints_intake` (HTTP API, ops endpoints and Kafka consumer)."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator

import uvicorn
from prometheus_client import CollectorRegistry, disable_created_metrics

from complaints_intake.app import create_app
from complaints_intake.channels_file import ChannelsFileError
from complaints_intake.settings import IntakeSettings
from complaints_kit.lag import ConsumerLagCollector
from complaints_kit.logs import configure_logging
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import SUBMITTED

log = logging.getLogger(__name__)
SERVICE = "intake"


class IntakeServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM after its graceful shutdown; we exit 0 once drained instead.
    SIGHUP (a closed terminal) shuts down as gracefully as SIGTERM; uvicorn handles only
    SIGINT and SIGTERM, and SIGHUP's default would end the process without draining."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        hangup = signal.signal(signal.SIGHUP, self.handle_exit)
        try:
            with super().capture_signals():
                yield
                # The lifespan's shutdown has run (consumer committed and closed, producer flushed).
                captured: list[int] = getattr(self, "_captured_signals", [])
                captured.clear()
        finally:
            signal.signal(signal.SIGHUP, hangup)


def main() -> None:
    # One series per counter: the `_created` companions double cardinality for no use here.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    settings = IntakeSettings()
    configure_logging(SERVICE, level=settings.log_level, json_lines=settings.log_json)
    kafka = KafkaSettings()
    registry = CollectorRegistry()
    ConsumerLagCollector(
        kafka, group=settings.consumer_group, topics=[SUBMITTED.name], registry=registry
    )
    try:
        app = create_app(settings, kafka, registry=registry)
    except ChannelsFileError as exc:  # named with file and line; nothing has connected yet
        log.error("invalid channels file; not starting", extra={"error": str(exc)})
        print(f"complaints-intake: {exc}", file=sys.stderr)
        sys.exit(2)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        lifespan="on",
        log_config=None,  # keep our structured, PII-masking logging
        access_log=False,  # RED metrics cover requests; paths carry complaint ids
        timeout_graceful_shutdown=5,
    )
    # uvicorn handles SIGTERM/SIGINT: stops accepting, finishes requests, then runs the
    # lifespan's shutdown (consumer committed and closed, producer flushed).
    IntakeServer(config).run()


if __name__ == "__main__":
    main()
