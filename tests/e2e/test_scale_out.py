"""Two classifier and two escalation workers share the partitions; one escalation worker is
killed and the other takes over with no lost and no doubled escalation.

Runs last in the e2e folder: it leaves the session's pipeline with extra workers."""

from __future__ import annotations

import time

import httpx
import pytest

from complaints_cli.stack import Stack
from tests.e2e.conftest import RED_SLA_SECONDS
from tests.e2e.test_pipeline import QUIET_PERIOD, deliveries_for, red_complaint
from tests.kafka_reader import wait_for

pytestmark = pytest.mark.e2e

COMPLAINTS = 12


def classified_seen(stack: Stack, worker: str) -> float:
    total = 0.0
    for line in stack.services[worker].metrics().splitlines():
        if line.startswith("complaints_escalation_events_total") and 'source="classified"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_killed_escalation_worker_hands_over_without_loss_or_duplicates(stack: Stack) -> None:
    stack.add_replica("classifier")
    second = stack.add_replica("escalation").name
    workers = ["escalation", second]
    # Both members must hold partitions before the traffic: wait out the rebalance.
    wait_for(lambda: all(stack.services[w].ready() for w in workers), timeout=60, what="rebalance")
    time.sleep(2)
    before = {w: classified_seen(stack, w) for w in workers}

    intake = stack.services["intake"].base_url
    ids = [
        httpx.post(f"{intake}/v1/complaints", json=red_complaint(), timeout=10).json()[
            "complaint_id"
        ]
        for _ in range(COMPLAINTS)
    ]
    wait_for(
        lambda: sum(classified_seen(stack, w) - before[w] for w in workers) >= COMPLAINTS,
        timeout=30,
        what="both escalation workers holding the clocks",
    )
    shares = {w: classified_seen(stack, w) - before[w] for w in workers}
    assert all(share > 0 for share in shares.values()), f"partitions not shared: {shares}"

    stack.services["escalation"].kill()

    wait_for(
        lambda: all(deliveries_for(stack, c) for c in ids),
        timeout=RED_SLA_SECONDS + 60,
        what="every escalation after the handover",
    )
    time.sleep(QUIET_PERIOD)
    counts = {c: len(deliveries_for(stack, c)) for c in ids}
    print(f"escalations per worker before the kill: {shares}")
    assert set(counts.values()) == {1}, counts
