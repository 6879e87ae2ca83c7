"""Normalisation and phrase matching: width, case, spacing, word edges."""

from __future__ import annotations

import pytest

from complaints_classifier.domain.matching import PhraseMatcher
from complaints_classifier.domain.text import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Payment FAILED", "payment failed"),
        ("ＡＰＰ闪退", "app闪退"),  # full-width Latin -> half-width, lower case
        ("１２３１５", "12315"),  # full-width digits
        ("  tracking\t not\n\nupdating  ", "tracking not updating"),
        ("账号 被盗", "账号被盗"),  # no spaces inside Chinese text
        ("账号　被盗", "账号被盗"),  # ideographic space
        ("我要打 12315 投诉", "我要打 12315 投诉"),  # spaces next to Latin/digits kept
        ("Ｃａｆé", "café"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("phrases", "text", "expected"),
    [
        (["sue"], "i will sue you", "sue"),
        (["sue"], "this issue is open", None),  # Latin phrases match whole words only
        (["12315"], "我要打12315投诉", "12315"),  # digits next to CJK still match
        (["12315"], "order 123150", None),
        (["鼓包"], "电池鼓包了", "鼓包"),  # Chinese matches as a substring
        (["Tracking Not Updating"], "tracking not updating since monday", "tracking not updating"),
        (["fire", "smoke"], "there was smoke", "smoke"),
        (["fire"], "i got fired", None),
    ],
)
def test_phrase_matcher(phrases: list[str], text: str, expected: str | None) -> None:
    assert PhraseMatcher.build(phrases=phrases).first(text) == expected


def test_pattern_reports_the_matched_text() -> None:
    matcher = PhraseMatcher.build(phrases=[], patterns=[r"charged \d+ times"])
    assert matcher.first("i was charged 3 times today") == "charged 3 times"
