"""docs/metrics.md lists exactly what the running services expose, and what they expose
follows the Prometheus conventions: one prefix, base units, `_total` counters, bounded labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from complaints_cli.stack import Stack

pytestmark = pytest.mark.e2e

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
UNBOUNDED = {
    "complaint_id",
    "customer",
    "customer_id",
    "escalation_id",
    "id",
    "phone",
    "email",
    "title",
}

Row = tuple[str, str, str, str]  # service, metric, type, labels


PIPELINE = ("intake", "classifier", "escalation", "notifier")


def exposed(
    stack: Stack, services: tuple[str, ...] = PIPELINE
) -> dict[tuple[str, str], tuple[str, str]]:
    """(service, metric) -> (type, comma-separated labels) as the services serve them."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for name in services:
        text = stack.services[name].metrics()
        types = dict(re.findall(r"^# TYPE (complaints_\w+) (\w+)$", text, re.M))
        for metric, kind in types.items():
            labels: set[str] = set()
            for sample in re.findall(rf"^{metric}(?:_bucket|_count|_sum)?{{(.*?)}}", text, re.M):
                labels |= set(re.findall(r'(\w+)="', sample))
            labels.discard("le")
            found[(name, metric)] = (kind, ", ".join(sorted(labels)))
    return found


def catalogued(services: tuple[str, ...] = PIPELINE) -> dict[tuple[str, str], tuple[str, str]]:
    rows = re.findall(
        r"^\| (\w+) \| `(complaints_\w+)` \| (\w+) \| ([^|]*) \|", CATALOGUE.read_text(), re.M
    )
    return {
        (service, metric): (kind, labels.strip().replace("`", ""))
        for service, metric, kind, labels in rows
        if service in services
    }


def test_catalogue_matches_what_the_services_expose(stack: Stack) -> None:
    check_catalogue(stack, PIPELINE)


def check_catalogue(stack: Stack, services: tuple[str, ...]) -> None:
    """docs/metrics.md's rows for `services` are what they expose, with their labels."""
    live, documented = exposed(stack, services), catalogued(services)
    missing = sorted(set(live) - set(documented))
    stale = sorted(set(documented) - set(live))
    rows = "\n".join(
        f"| {s} | `{m}` | {live[(s, m)][0]} | {live[(s, m)][1]} | |" for s, m in missing
    )
    assert not missing, f"not in docs/metrics.md:\n{rows}"
    assert not stale, f"in docs/metrics.md but not exposed: {stale}"
    for key, (kind, labels) in live.items():
        assert documented[key][0] == kind, (key, documented[key], kind)
        if labels:  # a labelled metric shows its labels once it has a sample
            assert documented[key][1] == labels, (key, documented[key], labels)


def test_exposed_metrics_follow_the_conventions(stack: Stack) -> None:
    check_conventions(stack, PIPELINE)


def check_conventions(stack: Stack, services: tuple[str, ...]) -> None:
    for (service, metric), (kind, labels) in exposed(stack, services).items():
        assert metric.startswith("complaints_"), metric
        if kind == "counter":
            assert metric.endswith("_total"), metric
        if kind == "histogram":
            assert metric.endswith(("_seconds", "_bytes", "_messages")), f"{metric}: base unit"
        assert not UNBOUNDED & set(labels.split(", ")), f"{service} {metric}: unbounded label"
