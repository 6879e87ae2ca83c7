"""`complaints reapply-policy` publishes a keyed lifecycle step per complaint (real broker)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from complaints_cli.main import app
from complaints_schemas.events import ComplaintLifecycleEvent, LifecycleAction
from complaints_schemas.topics import LIFECYCLE
from tests.kafka_reader import read_events


@pytest.mark.kafka
def test_reapply_policy_publishes_a_step_per_complaint(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    ids = ["OPS-1", "OPS-2"]
    result = CliRunner().invoke(
        app, ["reapply-policy", *ids, "--operator", "sre-on-call", "--note", "policy 2026.1"]
    )
    assert result.exit_code == 0, result.output
    steps = [
        e
        for e in read_events(kafka_bootstrap, LIFECYCLE.name, ComplaintLifecycleEvent)
        if e.complaint_id in ids
    ]
    assert sorted(e.complaint_id for e in steps) == ids
    assert {(e.action, e.actor, e.note) for e in steps} == {
        (LifecycleAction.POLICY_REAPPLIED, "sre-on-call", "policy 2026.1")
    }
    assert len({e.event_id for e in steps}) == 2
