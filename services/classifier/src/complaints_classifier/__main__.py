"""Run the classifier worker: `python -m complaints_classifier`."""

from __future__ import annotations

import logging
import sys

from prometheus_client import CollectorRegistry, disable_created_metrics

from complaints_classifier.app import (
    build_service,
    customer_topic_name,
    internal_topics,
    repartition_topic_name,
)
from complaints_classifier.rules_file import RulesFileError, load_rules
from complaints_classifier.settings import ClassifierSettings
from complaints_kit.kafka import start_on_topics
from complaints_kit.lag import ConsumerLagCollector
from complaints_kit.logs import configure_logging
from complaints_kit.settings import KafkaSettings
from complaints_kit.streams import JsonLoggingWorker
from complaints_schemas.topics import ACCEPTED, ALL_TOPICS

SERVICE = "classifier"

log = logging.getLogger(__name__)


def main() -> None:
    # One series per counter: the `_created` companions double cardinality for no use here.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    settings = ClassifierSettings()
    kafka = KafkaSettings()
    configure_logging(SERVICE, level=settings.log_level, json_lines=settings.log_json)
    try:
        rules = load_rules(settings.rules_path())
    except RulesFileError as exc:
        log.error("invalid rules; not starting", extra={"error": str(exc)})
        print(f"complaints-classifier: {exc}", file=sys.stderr)
        sys.exit(2)
    log.info(
        "rules loaded",
        extra={"file": str(settings.rules_path()), "categories": len(rules.categories)},
    )
    start_on_topics(SERVICE, kafka, [*ALL_TOPICS, *internal_topics(settings.app_id)])
    registry = CollectorRegistry()
    stages = [customer_topic_name(settings.app_id), repartition_topic_name(settings.app_id)]
    ConsumerLagCollector(
        kafka, group=settings.app_id, topics=[ACCEPTED.name, *stages], registry=registry
    )
    service = build_service(settings, kafka, rules=rules, registry=registry)
    worker = JsonLoggingWorker(
        service.app,
        service=SERVICE,
        log_level=settings.log_level,
        log_json=settings.log_json,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
    )
    # Handles SIGTERM/SIGINT: stops agents, flushes, commits and leaves the group.
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
