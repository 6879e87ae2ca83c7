"""Severity raises: VIP and high spend, repeated complaints, negative emotion; at most one level."""

from __future__ import annotations

from datetime import timedelta

import pytest

from complaints_classifier.domain.content import ContentClassifier
from complaints_classifier.domain.pipeline import InMemoryPipeline
from complaints_schemas.events import Channel, ComplaintClassified, CustomerTier, Severity

from .factories import T0, complaint, rules

CLASSIFIER = ContentClassifier(rules())
D = timedelta(days=1)


def rule_ids(event: ComplaintClassified) -> set[str]:
    return {r.rule for r in event.reasons}


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("The coupon did not apply.", 0),
        ("I am disappointed and annoyed.", 2),
        ("This is a scam, I am furious!!!", 5),
        ("气死我了，太过分了，失望", 5),
        ("我很生气", 1),
        ("气死", 2),  # 气死 is strong; the mild 生气 is not inside it, nothing counted twice
        ("I am so fed up, fed up!", 2),  # distinct terms only
    ],
)
def test_emotion_score(text: str, score: int) -> None:
    from complaints_classifier.domain.text import normalise

    assert CLASSIFIER.emotion(normalise(text))[0] == score


@pytest.mark.parametrize(
    ("description", "tier", "spend", "expected", "rules_present"),
    [
        ("The coupon did not apply. I am furious, this is a scam.", "standard", None,
         Severity.YELLOW, {"severity.emotion"}),
        ("The coupon did not apply. Slightly disappointed.", "standard", None,
         Severity.GREEN, set()),
        # Two causes, one level: VIP and emotion lift green only to yellow.
        ("The coupon did not apply. I am furious, this is a scam.", "vip", None,
         Severity.YELLOW, {"severity.raise_for", "severity.emotion"}),
        ("The coupon did not apply.", "standard", 120_000.0, Severity.YELLOW,
         {"severity.raise_for"}),
    ],
)  # fmt: skip
def test_content_raises(
    description: str, tier: str, spend: float | None, expected: Severity, rules_present: set[str]
) -> None:
    decision = CLASSIFIER.classify(
        complaint(description=description, tier=CustomerTier(tier), annual_spend=spend)
    )
    assert decision.severity is expected
    assert {r.rule for r in decision.reasons} >= rules_present
    if len(rules_present) == 2:
        details = " ".join(r.detail for r in decision.reasons)
        assert "at most 1 level(s) in all" in details


def test_a_repeated_complaint_within_seven_days_is_raised() -> None:
    pipeline = InMemoryPipeline(rules())
    first = pipeline.classify(complaint("C-1", title="Coupon not applied", accepted_at=T0))
    second = pipeline.classify(
        complaint("C-2", title="App crashes", description="Keeps crashing.", accepted_at=T0 + 2 * D)
    )
    much_later = pipeline.classify(
        complaint(
            "C-3", title="Invoice missing", description="No invoice.", accepted_at=T0 + 20 * D
        )
    )
    assert (first.severity, second.severity, much_later.severity) == (
        Severity.GREEN,
        Severity.YELLOW,
        Severity.GREEN,
    )
    (repeat,) = [r for r in second.reasons if r.rule == "severity.repeat"]
    assert "1 time(s) before within 7d (last C-1)" in repeat.detail
    assert "severity.repeat" not in rule_ids(much_later)


def test_a_redelivered_complaint_gets_the_same_severity() -> None:
    pipeline = InMemoryPipeline(rules())
    pipeline.classify(complaint("C-1", accepted_at=T0))
    once = pipeline.classify(complaint("C-2", accepted_at=T0 + D))
    again = pipeline.classify(complaint("C-2", accepted_at=T0 + D))
    first_again = pipeline.classify(complaint("C-1", accepted_at=T0))
    assert once.severity is again.severity is Severity.YELLOW
    assert first_again.severity is Severity.GREEN


@pytest.mark.parametrize("resent_after", [timedelta(seconds=1), timedelta(hours=3), 3 * D])
def test_a_complaint_accepted_again_later_is_not_a_repeat_of_itself(
    resent_after: timedelta,
) -> None:
    # A resend that reached a second intake process (or came after a restart) is published
    # again under the same complaint id with a later accepted_at.
    pipeline = InMemoryPipeline(rules())
    first = pipeline.classify(complaint("C-1", accepted_at=T0))
    resent = pipeline.classify(complaint("C-1", accepted_at=T0 + resent_after))
    assert first.severity is resent.severity is Severity.GREEN
    assert "severity.repeat" not in rule_ids(resent)
    # ... and a later complaint counts it once, as one earlier complaint
    later = pipeline.classify(complaint("C-2", accepted_at=T0 + 4 * D))
    (repeat,) = [r for r in later.reasons if r.rule == "severity.repeat"]
    assert "1 time(s) before within 7d (last C-1)" in repeat.detail


def test_a_raised_complaint_resent_later_keeps_its_own_raise_only() -> None:
    pipeline = InMemoryPipeline(rules())
    pipeline.classify(complaint("C-1", accepted_at=T0))
    second = pipeline.classify(complaint("C-2", accepted_at=T0 + D))
    resent = pipeline.classify(complaint("C-2", accepted_at=T0 + 2 * D))
    assert second.severity is resent.severity is Severity.YELLOW  # raised once, not twice
    (repeat,) = [r for r in resent.reasons if r.rule == "severity.repeat"]
    assert "1 time(s) before" in repeat.detail


def test_repeat_is_per_customer() -> None:
    pipeline = InMemoryPipeline(rules())
    pipeline.classify(complaint("C-1", customer_id="a", accepted_at=T0))
    other = pipeline.classify(complaint("C-2", customer_id="b", accepted_at=T0 + D))
    assert other.severity is Severity.GREEN


def test_channel_of_factory_is_app() -> None:
    assert complaint().channel is Channel.APP
