"""Creating the classifier's internal topics before the faust worker joins its group."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from complaints_kit.kafka import client_config
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import Topic

log = logging.getLogger(__name__)


def create_internal_topics(
    settings: KafkaSettings, topics: Iterable[Topic], *, timeout: float = 30.0
) -> list[str]:
    """Create the missing ones; like complaints_kit.kafka.provision_topics, whose log call
    passes `created` in `extra` (a LogRecord attribute: KeyError whenever it creates one)."""
    admin = AdminClient(client_config(settings))
    existing = set(admin.list_topics(timeout=timeout).topics)
    new = [
        NewTopic(t.name, num_partitions=t.partitions, replication_factor=1, config=t.topic_config())
        for t in topics
        if t.name not in existing
    ]
    created: list[str] = []
    if not new:
        return created
    for name, future in admin.create_topics(new, operation_timeout=timeout).items():
        try:
            future.result(timeout=timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    log.info("internal topics created", extra={"topics": created})
    return created
