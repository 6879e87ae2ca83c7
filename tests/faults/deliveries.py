"""What the webhook sink received for the fault tests' complaints, and what is missing.

The sink plays a receiver that follows Standard Webhooks: it processes each `webhook-id` once.
A POST repeating a `webhook-id` it already accepted is a retransmission (the notifier died
after the receiver answered but before it recorded the delivery; see the notifier README,
"The remaining window"), counted apart. A duplicate is an escalation delivered under two
different `webhook-id`s: no receiver could tell, so an owner would see it twice.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from complaints_cli.stack import Stack
from tests.kafka_reader import wait_for


@dataclass(frozen=True)
class Received:
    deliveries: list[tuple[str, dict[str, Any]]]  # (escalation id, first accepted POST)
    retransmitted: int  # POSTs of ours repeating an accepted webhook-id


def received(stack: Stack, ours: set[str]) -> Received:
    """Every escalation of ours the sink accepted (grouped ones too), once per webhook-id."""
    assert stack.sink is not None
    out, seen, retransmitted = [], set(), 0
    for delivery in stack.sink.received():
        payload = delivery["payload"] or {}
        data = payload.get("data") or {}
        if data.get("complaint_id") not in ours:
            continue
        if delivery["webhook_id"] in seen:
            retransmitted += 1
            continue
        seen.add(delivery["webhook_id"])
        for eid in [
            data.get("escalation_id"),
            *payload.get("grouped", []),
            *data.get("grouped", []),
        ]:
            if eid:
                out.append((eid, delivery))
    return Received(out, retransmitted)


def settle(
    stack: Stack,
    expected: dict[str, str],
    *,
    timeout: float,
    what: str,
    ours: set[str] | None = None,
) -> tuple[dict[str, int], list[str], dict[str, int]]:
    """Wait for every expected escalation id (or the timeout), then a quiet period in which a
    doubled delivery would arrive. Returns (deliveries per id, lost ids, doubled ids), counted
    over the escalations of `ours` (default: the expected ones' complaints)."""
    ours = ours or set(expected.values())
    with contextlib.suppress(AssertionError):  # the caller reports, with the counts
        wait_for(
            lambda: set(expected) <= {eid for eid, _ in received(stack, ours).deliveries},
            timeout=timeout,
            what=what,
        )
    time.sleep(5)
    counts: dict[str, int] = {}
    for eid, _ in received(stack, ours).deliveries:
        counts[eid] = counts.get(eid, 0) + 1
    lost = sorted(set(expected) - set(counts))
    return counts, lost, {eid: n for eid, n in counts.items() if n > 1}
