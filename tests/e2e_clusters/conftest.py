"""A pipeline with the seeds' cluster thread (the cluster alert inhibits its members' own
response, resolution and closure alerts), sent again past 7 complaints; the classifier opens a
cluster at 6; member SLAs are short, so a member alert that is not inhibited arrives within
the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complaints_cli.stack import Stack

REPO = Path(__file__).resolve().parents[2]
MEMBER_SLA_SECONDS = 8.0


def cluster_policy(workdir: Path) -> Path:
    text = (REPO / "config" / "escalation" / "policy.yaml").read_text(encoding="utf-8")
    seeds = "        update_at: [10, 20, 50, 100]"
    assert text.count(seeds) == 1
    assert text.count("        inhibits: [response, resolution, closure]") == 1
    text = text.replace(seeds, "        update_at: [7]")
    path = workdir / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def cluster_rules(workdir: Path) -> Path:
    text = (REPO / "config" / "classifier" / "rules.yaml").read_text(encoding="utf-8")
    model = REPO / "config" / "classifier" / "model.npz"
    assert text.count("  file: model.npz") == 1
    assert text.count("    threshold: 5") == 1
    text = text.replace("  file: model.npz", f"  file: {model}")
    text = text.replace("    threshold: 5", "    threshold: 6")
    path = workdir / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="package")
def cluster_stack(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("clusters")
    sla = str(MEMBER_SLA_SECONDS)
    env = {
        "classifier": {"CLASSIFIER_RULES_FILE": str(cluster_rules(workdir))},
        "escalation": {
            "ESCALATION_POLICY_FILE": str(cluster_policy(workdir)),
            "ESCALATION_RESPONSE_SLA_RED": sla,
            "ESCALATION_RESPONSE_SLA_YELLOW": sla,
            "ESCALATION_RESPONSE_SLA_GREEN": sla,
            "ESCALATION_LEVEL_INTERVAL": "3600",
        },
    }
    pipeline = Stack(bootstrap=kafka_bootstrap, workdir=workdir, env=env)
    try:
        pipeline.start()
        yield pipeline
    finally:
        for name, proc in pipeline.services.items():
            print(f"----- {name} log tail -----\n{proc.log_tail(20)}")
        pipeline.stop()
