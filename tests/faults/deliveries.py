"""What the webhook sink received for the fault tests' complaints, and what is missing."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from complaints_cli.stack import Stack
from tests.kafka_reader import wait_for


def delivered_ids(stack: Stack, ours: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """(escalation id, delivery) for every escalation of ours the sink accepted, grouped too."""
    assert stack.sink is not None
    out = []
    for delivery in stack.sink.received():
        payload = delivery["payload"] or {}
        data = payload.get("data") or {}
        if data.get("complaint_id") not in ours:
            continue
        for eid in [
            data.get("escalation_id"),
            *payload.get("grouped", []),
            *data.get("grouped", []),
        ]:
            if eid:
                out.append((eid, delivery))
    return out


def settle(
    stack: Stack, expected: dict[str, str], *, timeout: float, what: str
) -> tuple[dict[str, int], list[str], dict[str, int]]:
    """Wait for every expected escalation id (or the timeout), then a quiet period in which a
    doubled delivery would arrive. Returns (deliveries per id, lost ids, doubled ids)."""
    ours = set(expected.values())
    with contextlib.suppress(AssertionError):  # the caller reports, with the counts
        wait_for(
            lambda: set(expected) <= {eid for eid, _ in delivered_ids(stack, ours)},
            timeout=timeout,
            what=what,
        )
    time.sleep(5)
    counts: dict[str, int] = {}
    for eid, _ in delivered_ids(stack, ours):
        counts[eid] = counts.get(eid, 0) + 1
    lost = sorted(set(expected) - set(counts))
    return counts, lost, {eid: n for eid, n in counts.items() if n > 1}
