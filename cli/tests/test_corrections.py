"""A person's reclassification becomes a labelled example in the corpus format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from complaints_cli.corrections import corrections
from complaints_schemas.events import (
    Channel,
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintLifecycleEvent,
    Customer,
    LifecycleAction,
    Scope,
    Severity,
)

T0 = datetime(2026, 12, 3, 9, tzinfo=UTC)


def _accepted(cid: str) -> ComplaintAccepted:
    return ComplaintAccepted(
        channel=Channel.APP,
        channel_event_id=cid,
        customer=Customer(id="c-1"),
        title="充电器很烫",
        description="充电器插着很烫，有焦味",
        occurred_at=T0,
        complaint_id=cid,
        accepted_at=T0,
        language="zh",
    )


def _classified(cid: str) -> ComplaintClassified:
    return ComplaintClassified(
        complaint_id=cid,
        classified_at=T0,
        severity=Severity.YELLOW,
        scope=Scope.INDIVIDUAL,
        category="product_quality",
        department="quality",
        fingerprint="fp",
        reasons=(),
        complaint=_accepted(cid),
    )


def _step(cid: str, minutes: int, severity: Severity) -> ComplaintLifecycleEvent:
    return ComplaintLifecycleEvent(
        event_id=f"{cid}-{minutes}",
        complaint_id=cid,
        action=LifecycleAction.RECLASSIFIED,
        occurred_at=T0 + timedelta(minutes=minutes),
        actor="owner.li",
        severity=severity,
    )


def test_the_latest_reclassification_is_the_label_and_the_rest_is_kept() -> None:
    ack = ComplaintLifecycleEvent(
        event_id="a", complaint_id="C-1", action=LifecycleAction.ACKNOWLEDGED, occurred_at=T0
    )
    rows = corrections(
        [_accepted("C-1"), _accepted("C-2")],
        [_classified("C-1"), _classified("C-2")],
        [_step("C-1", 5, Severity.GREEN), _step("C-1", 9, Severity.RED), ack],
    )
    [row] = rows  # C-2 was never reclassified
    assert row["expected"] == {
        "category": "product_quality",
        "severity": "red",
        "scope": "individual",
    }
    assert row["was"] == {"category": "product_quality", "severity": "yellow"}
    assert row["corrected_by"] == "owner.li"
    assert row["description"] == "充电器插着很烫，有焦味"


def test_a_complaint_whose_text_left_the_topics_is_skipped() -> None:
    assert corrections([], [_classified("C-1")], [_step("C-1", 5, Severity.RED)]) == []
