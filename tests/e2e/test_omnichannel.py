"""Omni-channel: the same customer's same problem by app and then by hotline is one thread:
the hotline copy (the classifier's duplicate_of) runs no chain of its own, both ledgers show
the link, and the original's alert names both channels (issue 15, item 5)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from complaints_cli.stack import Stack
from tests.e2e.conftest import RED_SLA_SECONDS
from tests.e2e.test_pipeline import QUIET_PERIOD, deliveries_for, post, red_complaint
from tests.kafka_reader import wait_for

pytestmark = pytest.mark.e2e


def ledger(stack: Stack, complaint_id: str) -> dict[str, Any] | None:
    """The complaint's ledger from whichever escalation worker owns it."""
    token = {"Authorization": f"Bearer {stack.status_token}"}
    for name, worker in stack.services.items():
        if not name.startswith("escalation") or not worker.running():
            continue
        url = f"{worker.base_url}/v1/complaints/{complaint_id}"
        try:
            answer = httpx.get(url, headers=token, timeout=5)
        except httpx.HTTPError:
            continue
        if answer.status_code == 200:
            found: dict[str, Any] = answer.json()
            return found
    return None


def test_a_duplicate_by_another_channel_joins_the_original_thread(
    stack: Stack, intake_url: str
) -> None:
    by_app = red_complaint(channel="app")
    by_phone = {
        **red_complaint(channel="hotline"),
        "customer": by_app["customer"],
        "title": by_app["title"],
        "description": by_app["description"],
        "product_id": by_app["product_id"],
    }
    original = post(intake_url, by_app)["complaint_id"]
    duplicate = post(intake_url, by_phone)["complaint_id"]
    assert original != duplicate

    joined = wait_for(
        lambda: (found := ledger(stack, duplicate)) is not None and found,
        timeout=30,
        what="the hotline copy at escalation",
    )
    assert joined["duplicate_of"] == original
    assert joined["clocks"] == []  # no chain of its own
    linked = wait_for(
        lambda: (found := ledger(stack, original)) is not None and found["linked"] and found,
        timeout=30,
        what="the original learning of the hotline copy",
    )
    assert linked["linked"] == [{"complaint_id": duplicate, "channel": "hotline"}]

    alerts = wait_for(
        lambda: deliveries_for(stack, original),
        timeout=RED_SLA_SECONDS + 30,
        what="the original's alert",
    )
    time.sleep(QUIET_PERIOD)
    alerts = deliveries_for(stack, original)
    copies = deliveries_for(stack, duplicate)
    print(f"webhook deliveries: original {len(alerts)}, hotline duplicate {len(copies)}")
    assert len(alerts) == 1
    assert copies == []
    data = alerts[0]["payload"]["data"]
    assert data["channels"] == ["app", "hotline"]
    assert data["linked_complaints"] == [duplicate]
