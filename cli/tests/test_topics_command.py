"""`complaints topics` provisions every topic of the pipeline (the faust services' internal
ones too) from the layout settings, and `--check` verifies a cluster without touching it."""

from __future__ import annotations

import uuid

import pytest
from typer.testing import CliRunner

from complaints_cli.main import app
from complaints_cli.topics import pipeline_topics

pytestmark = pytest.mark.kafka


def test_topics_creates_then_verifies(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = uuid.uuid4().hex[:8]
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("CLASSIFIER_APP_ID", f"cls-{run}")
    monkeypatch.setenv("ESCALATION_APP_ID", f"esc-{run}")
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    # Nothing of this app id exists yet: the check alone names what is missing.
    missing = runner.invoke(app, ["topics", "--check"])
    assert missing.exit_code == 1
    assert f"esc-{run}-complaint-state-changelog: missing" in missing.output
    created = runner.invoke(app, ["topics"])
    assert created.exit_code == 0, created.output
    assert "as configured" in created.output
    internal = {t.name for t in pipeline_topics()} - {"complaints.accepted.v1"}
    assert f"cls-{run}-by-fingerprint" in internal
    assert runner.invoke(app, ["topics", "--check"]).exit_code == 0
    # A production layout checked against a one-broker cluster: refused, with the reason.
    monkeypatch.setenv("KAFKA_TOPIC_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("KAFKA_TOPIC_MIN_INSYNC_REPLICAS", "2")
    refused = runner.invoke(app, ["topics", "--check"])
    assert refused.exit_code == 1
    assert "replication factor 1, expected 3" in refused.output
