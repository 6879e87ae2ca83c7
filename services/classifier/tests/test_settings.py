"""Classifier settings that shape its Kafka clients."""

from __future__ import annotations

import pytest

from complaints_classifier.app import stream_consumer_config
from complaints_classifier.settings import ClassifierSettings
from complaints_kit.settings import KafkaSettings


def test_a_group_instance_id_makes_the_worker_a_static_member(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "group.instance.id" not in stream_consumer_config(ClassifierSettings(), KafkaSettings())
    monkeypatch.setenv("CLASSIFIER_GROUP_INSTANCE_ID", "classifier-0")
    config = stream_consumer_config(ClassifierSettings(), KafkaSettings())
    assert config["group.instance.id"] == "classifier-0"
    assert config["group.id"] == "complaints-classifier"
