"""Topic layout from the settings: replication factor, min.insync.replicas, partitions; a
service in production verifies the topics instead of creating them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from complaints_kit.kafka import (
    TopicsNotReady,
    laid_out,
    prepare_topics,
    provision_topics,
    topic_problems,
)
from complaints_kit.settings import KafkaSettings
from complaints_kit.streams import faust_app
from complaints_schemas.topics import ACCEPTED, COMPLAINT_PARTITIONS, REJECTED, Topic

PRODUCTION = {
    "KAFKA_TOPIC_REPLICATION_FACTOR": "3",
    "KAFKA_TOPIC_MIN_INSYNC_REPLICAS": "2",
    "KAFKA_TOPIC_PARTITIONS": "12",
    "KAFKA_TOPICS": "verify",
}


def test_the_layout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    settings = KafkaSettings()
    accepted = laid_out(settings, ACCEPTED)
    assert accepted.partitions == 12  # co-partitioned: follows the setting
    assert accepted.topic_config()["min.insync.replicas"] == "2"
    assert laid_out(settings, REJECTED).partitions == REJECTED.partitions  # its own count
    assert settings.topics == "verify"


def test_min_insync_above_the_replication_factor_is_refused() -> None:
    with pytest.raises(ValidationError, match="no write could ever succeed"):
        KafkaSettings(topic_replication_factor=1, topic_min_insync_replicas=2)


def test_faust_follows_the_layout(tmp_path: Path) -> None:
    local = faust_app("t-local", KafkaSettings(), data_dir=tmp_path)
    assert local.conf.topic_replication_factor == 1
    assert local.conf.topic_partitions == COMPLAINT_PARTITIONS
    assert local.conf.topic_allow_declare
    production = faust_app(
        "t-prod",
        KafkaSettings(topic_replication_factor=3, topic_min_insync_replicas=2, topics="verify"),
        data_dir=tmp_path,
    )
    assert production.conf.topic_replication_factor == 3
    assert not production.conf.topic_allow_declare  # the Job created them: faust creates none


def _topics() -> list[Topic]:
    run = uuid.uuid4().hex[:8]
    return [
        Topic(f"layout-{run}-a", COMPLAINT_PARTITIONS, key="k", description="co-partitioned"),
        Topic(f"layout-{run}-b", 1, key="k", description="its own count"),
    ]


@pytest.mark.kafka
def test_provisioned_topics_verify_and_differences_are_named(
    kafka_settings: KafkaSettings,
) -> None:
    topics = _topics()
    settings = kafka_settings.model_copy(update={"topic_partitions": 2})
    assert sorted(provision_topics(settings, topics)) == sorted(t.name for t in topics)
    assert topic_problems(settings, topics) == []
    prepare_topics(settings.model_copy(update={"topics": "verify"}), topics)  # passes
    # A cluster laid out otherwise than the settings: every difference is named.
    stricter = settings.model_copy(
        update={
            "topic_replication_factor": 3,
            "topic_min_insync_replicas": 2,
            "topic_partitions": 4,
        }
    )
    problems = topic_problems(stricter, topics)
    a, b = (t.name for t in topics)
    assert f"{a}: 2 partitions, expected 4" in problems
    assert f"{a}: replication factor 1, expected 3" in problems
    assert f"{b}: min.insync.replicas 1, expected 2" in problems
    assert not any(p.startswith(f"{b}: 1 partitions") for p in problems)


@pytest.mark.kafka
def test_a_service_in_verify_mode_creates_nothing(kafka_settings: KafkaSettings) -> None:
    topics = _topics()
    verify = kafka_settings.model_copy(update={"topics": "verify"})
    with pytest.raises(TopicsNotReady) as refused:
        prepare_topics(verify, topics)
    assert refused.value.problems == [f"{t.name}: missing" for t in topics]
    assert topic_problems(kafka_settings, topics) == [f"{t.name}: missing" for t in topics]
