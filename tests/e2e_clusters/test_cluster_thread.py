"""Six paraphrases of one problem from the shipped corpus are one thread: one cluster alert
with count 6 and the channels, no member alert; a seventh updates it (issue 15, item 3).

The paraphrases are burst H-B01 of config/classifier/corpus/writer_H: the seven reports its
writer labelled individual, in order (five in Chinese, two in English, four channels). Of the
training writers' twelve bursts with seven such reports, today's classifier groups the first
seven of two (H-B01, H-B10; measured with InMemoryPipeline and threshold 6, as here); burst
D-B01, used before, is not grouped: its English report scores 0.01-0.08 against the Chinese
ones (issue 14). The five reports classified before the cluster opened are told they joined
it (LifecycleAction.CLUSTERED), so their own response alerts wait behind the cluster's."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from complaints_cli.stack import Stack
from tests.e2e_clusters.conftest import MEMBER_SLA_SECONDS, REPO

pytestmark = pytest.mark.e2e

BURST = REPO / "config" / "classifier" / "corpus" / "writer_H" / "bursts.jsonl"
BURST_ID = "H-B01"


def paraphrases() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in BURST.read_text(encoding="utf-8").splitlines() if line]
    burst = [r for r in rows if r.get("burst") == BURST_ID]
    chosen = [r for r in burst if r["expected"]["scope"] == "individual"]
    assert len(chosen) >= 7, f"burst {BURST_ID} has {len(chosen)} individual complaints"
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    last = max(r["minute"] for r in chosen)
    return [
        {
            "channel": r["channel"],
            "channel_event_id": f"{r['id']}-{run}",
            "customer": {**r["customer"], "id": f"{r['customer']['id']}-{run}"},
            "title": r["title"],
            "description": r["description"],
            "occurred_at": (now - timedelta(minutes=last - r["minute"])).isoformat(),
            # A product of the run's own: the reports share a fingerprint with no other test's
            # complaints on the shared broker (their count set off the surge rule once: risk).
            "product_id": f"{r.get('product_id') or 'P'}-{run}",
        }
        for r in sorted(chosen, key=lambda r: r["minute"])[:7]
    ]


def alerts(stack: Stack, ids: set[str]) -> list[dict[str, Any]]:
    assert stack.sink is not None
    return [
        d["payload"]["data"]
        for d in stack.sink.received()
        if (d["payload"] or {}).get("data", {}).get("complaint_id") in ids
    ]


def settle(done: Callable[[], object], *, within: float) -> None:
    """Wait until `done()` or `within` seconds, without failing: the assertions say what."""
    deadline = time.monotonic() + within
    while not done() and time.monotonic() < deadline:
        time.sleep(0.25)


def summary(received: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (a["complaint_id"][-6:], a["clock"], a["scope"], a.get("cluster_size"), len(a["channels"]))
        for a in received
    ]


def test_six_paraphrases_are_one_cluster_alert_and_a_seventh_updates_it(
    cluster_stack: Stack,
) -> None:
    stack = cluster_stack
    intake = stack.services["intake"].base_url
    bodies = paraphrases()
    ids: list[str] = []
    for body in bodies[:6]:
        answer = httpx.post(f"{intake}/v1/complaints", json=body, timeout=10)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["complaint_id"])
    settle(lambda: [a for a in alerts(stack, set(ids)) if a["clock"] == "cluster"], within=60)
    time.sleep(MEMBER_SLA_SECONDS + 6)  # long enough for a member's own alert to arrive
    first = alerts(stack, set(ids))
    print(f"webhook deliveries for the first 6 paraphrases: {len(first)} {summary(first)}")
    answer = httpx.post(f"{intake}/v1/complaints", json=bodies[6], timeout=10)
    ids.append(answer.json()["complaint_id"])
    settle(
        lambda: len([a for a in alerts(stack, set(ids)) if a["clock"] == "cluster"]) >= 2,
        within=60,
    )
    time.sleep(4)
    after = alerts(stack, set(ids))
    print(f"webhook deliveries for the 7 paraphrases: {len(after)} {summary(after)}")
    clusters = [a for a in first if a["clock"] == "cluster"]
    assert [(a["cluster_size"], a["kind"]) for a in clusters] == [(6, "breach")]
    assert len(clusters[0]["channels"]) >= 2
    assert [a for a in first if a["clock"] != "cluster"] == []  # no member alert
    updates = [a for a in after if a["clock"] == "cluster"]
    assert [a["cluster_size"] for a in updates] == [6, 7]
    assert [a for a in after if a["clock"] != "cluster"] == []
