"""A complaint accepted on 2026-12-30 gets all its clocks, its T+3 closure on the provisional
2027 calendar, and its breach reaches the webhook sink (real broker, separate processes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from complaints_cli.stack import Stack
from tests.e2e_dates.conftest import RED_SLA_SECONDS, YEAR_END
from tests.kafka_reader import wait_for

pytestmark = pytest.mark.e2e


def test_a_complaint_accepted_on_2026_12_30_gets_every_clock_and_escalates(
    year_end_stack: Stack,
) -> None:
    intake = year_end_stack.services["intake"].base_url
    escalation = year_end_stack.services["escalation"].base_url
    complaint = {
        "channel": "app",
        "channel_event_id": f"year-end-{uuid.uuid4().hex}",
        "customer": {"id": f"cust-{uuid.uuid4().hex[:8]}"},
        "title": "支付失败但银行卡已扣款",
        "description": "提示支付失败，但是银行卡已经扣款 399 元。",
        "occurred_at": YEAR_END,
    }
    response = httpx.post(f"{intake}/v1/complaints", json=complaint, timeout=10)
    assert response.status_code == 202, response.text
    complaint_id = response.json()["complaint_id"]

    def ledger() -> dict[str, Any] | None:
        answer = httpx.get(
            f"{escalation}/v1/complaints/{complaint_id}",
            headers={"Authorization": f"Bearer {year_end_stack.status_token}"},
            timeout=5,
        )
        return answer.json() if answer.status_code == 200 else None

    status = wait_for(ledger, timeout=60, what="escalation state")
    accepted = datetime.fromisoformat(status["classification"]["accepted_at"])
    assert accepted.astimezone(UTC).date().isoformat() == "2026-12-30"
    clocks = {c["name"]: c for c in status["clocks"]}
    assert {"response", "resolution", "closure"} <= set(clocks)
    closure = clocks["closure"]
    assert closure["provisional"] is True
    assert [(h["year"], h["provisional"]) for h in closure["holidays"]] == [
        (2026, False),
        (2027, True),
    ]
    assert closure["deadline"].startswith("2027-01-05T16:00:00")  # end of 5 Jan, Shanghai
    assert clocks["response"]["holidays"] == []
    assert status["provisional_calendar"] is True

    def breach() -> list[dict[str, Any]]:
        assert year_end_stack.sink is not None
        return [
            d["payload"]["data"]
            for d in year_end_stack.sink.received()
            if (d["payload"] or {}).get("data", {}).get("complaint_id") == complaint_id
        ]

    [alert] = wait_for(breach, timeout=RED_SLA_SECONDS + 40, what="response breach webhook")
    assert (alert["clock"], alert["kind"], alert["level"]) == ("response", "breach", 1)
    assert alert["escalated_at"].startswith("2026-12-30")
    escalation_metrics = year_end_stack.services["escalation"].metrics()
    assert (
        'complaints_escalation_provisional_clocks_total{calendar="cn-days",year="2027"} 1.0'
        in escalation_metrics
    )
    assert "complaints_escalation_calendar_covered_until_timestamp_seconds" in escalation_metrics
