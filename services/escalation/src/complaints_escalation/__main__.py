"""Run the escalation worker: `python -m complaints_escalation`."""

from __future__ import annotations

import logging
import sys

from prometheus_client import CollectorRegistry, disable_created_metrics

from complaints_escalation.app import build_service, due_topic_name, internal_topics
from complaints_escalation.outbound.local_store import claim_data_dir
from complaints_escalation.outbound.policy_file import PolicyError
from complaints_escalation.settings import EscalationSettings
from complaints_kit.kafka import cluster_id, start_on_topics
from complaints_kit.lag import ConsumerLagCollector
from complaints_kit.logs import configure_logging
from complaints_kit.settings import KafkaSettings
from complaints_kit.streams import JsonLoggingWorker
from complaints_schemas.topics import ALL_TOPICS, CLASSIFIED, LIFECYCLE

SERVICE = "escalation"
log = logging.getLogger(__name__)


def main() -> None:
    # One series per counter: the `_created` companions double cardinality for no use here.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    settings = EscalationSettings()
    kafka = KafkaSettings()
    configure_logging(SERVICE, level=settings.log_level, json_lines=settings.log_json)
    registry = CollectorRegistry()
    try:  # builds without connecting: a bad policy stops the service naming file and line
        service = build_service(settings, kafka, registry=registry)
    except PolicyError as exc:
        log.error("invalid policy; not starting", extra={"error": str(exc)})
        print(f"complaints-escalation: {exc}", file=sys.stderr)
        sys.exit(2)
    start_on_topics(SERVICE, kafka, [*ALL_TOPICS, *internal_topics(settings)])
    claim_data_dir(settings.data_dir, cluster_id=cluster_id(kafka))  # before the store opens
    topics = [CLASSIFIED.name, LIFECYCLE.name, due_topic_name(settings.app_id)]
    ConsumerLagCollector(kafka, group=settings.app_id, topics=topics, registry=registry)
    worker = JsonLoggingWorker(
        service.app,
        service.ops,
        service.producer,  # stopped after the app: the last escalations are flushed
        service=SERVICE,
        log_level=settings.log_level,
        log_json=settings.log_json,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
    )
    # Handles SIGTERM/SIGINT: stops agents, commits and leaves the group.
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
