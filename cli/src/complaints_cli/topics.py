"""`complaints topics`: the one provisioning step of a cluster (a Kubernetes Job in deploy/)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from complaints_classifier.app import internal_topics as classifier_topics
from complaints_classifier.settings import ClassifierSettings
from complaints_escalation.app import internal_topics as escalation_topics
from complaints_escalation.settings import EscalationSettings
from complaints_kit.kafka import laid_out, provision_topics, topic_problems
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import ALL_TOPICS, Topic

console = Console()


def pipeline_topics(
    classifier: ClassifierSettings | None = None, escalation: EscalationSettings | None = None
) -> list[Topic]:
    """Every topic of the pipeline: the contract's and the faust services' internal ones
    (their names follow CLASSIFIER_APP_ID and ESCALATION_APP_ID)."""
    return [
        *ALL_TOPICS,
        *classifier_topics((classifier or ClassifierSettings()).app_id),
        *escalation_topics(escalation or EscalationSettings()),
    ]


def topics(
    check: Annotated[
        bool, typer.Option("--check", help="Only verify; create nothing (exit 1 on a problem).")
    ] = False,
) -> None:
    """Create the pipeline's topics on KAFKA_BOOTSTRAP_SERVERS (idempotent), then verify them.

    Replication factor, min.insync.replicas and partitions come from KAFKA_TOPIC_REPLICATION_FACTOR,
    KAFKA_TOPIC_MIN_INSYNC_REPLICAS and KAFKA_TOPIC_PARTITIONS.
    """
    kafka = KafkaSettings()
    wanted = pipeline_topics()
    created = [] if check else provision_topics(kafka, wanted)
    table = Table(title=f"Topics on {kafka.bootstrap_servers}")
    for column in ("topic", "partitions", "replicas", "min.insync", "cleanup"):
        table.add_column(column)
    for topic in (laid_out(kafka, t) for t in wanted):
        table.add_row(
            topic.name + (" (created)" if topic.name in created else ""),
            str(topic.partitions),
            str(kafka.topic_replication_factor),
            str(kafka.topic_min_insync_replicas),
            str(topic.cleanup),
        )
    console.print(table)
    problems = topic_problems(kafka, wanted)
    for problem in problems:
        console.print(f"[red]problem[/] {problem}")
    if problems:
        raise typer.Exit(1)
    console.print(
        f"created: {', '.join(created) or 'none'}; all {len(wanted)} topics as configured"
    )
