"""Run the escalation worker: `python -m complaints_escalation`."""

from __future__ import annotations

import logging
from typing import Any

import faust
from prometheus_client import CollectorRegistry, disable_created_metrics

from complaints_escalation.app import build_service, due_topic_name, internal_topics
from complaints_escalation.settings import EscalationSettings
from complaints_kit.kafka import provision_topics
from complaints_kit.lag import ConsumerLagCollector
from complaints_kit.logs import configure_logging
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import ALL_TOPICS, CLASSIFIED, LIFECYCLE

SERVICE = "escalation"


class EscalationWorker(faust.Worker):
    """A faust worker that keeps our structured logging (mode replaces root handlers)."""

    def __init__(self, *args: Any, settings: EscalationSettings, **kwargs: Any) -> None:
        self._settings = settings
        super().__init__(*args, **kwargs)

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        configure_logging(
            SERVICE, level=self._settings.log_level, json_lines=self._settings.log_json
        )


def main() -> None:
    # One series per counter: the `_created` companions double cardinality for no use here.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    settings = EscalationSettings()
    kafka = KafkaSettings()
    configure_logging(SERVICE, level=settings.log_level, json_lines=settings.log_json)
    provision_topics(kafka, [*ALL_TOPICS, *internal_topics(settings)])
    registry = CollectorRegistry()
    topics = [CLASSIFIED.name, LIFECYCLE.name, due_topic_name(settings.app_id)]
    ConsumerLagCollector(kafka, group=settings.app_id, topics=topics, registry=registry)
    service = build_service(settings, kafka, registry=registry)
    worker = EscalationWorker(
        service.app,
        service.ops,
        settings=settings,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
    )
    # Handles SIGTERM/SIGINT: stops agents, commits and leaves the group.
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
