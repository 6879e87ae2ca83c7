"""Similarity's signature (model/likeness.py) with the shipped model: views, languages, file."""

from __future__ import annotations

import math
from pathlib import Path

from complaints_classifier.live_rules import build_classifier
from complaints_classifier.model import artifact
from complaints_classifier.model.features import complaint_text
from complaints_classifier.model.likeness import views
from complaints_classifier.rules_file import load_rules

from .factories import RULES_FILE, complaint

CLASSIFIER = build_classifier(load_rules(RULES_FILE), rules_path=RULES_FILE)
assert CLASSIFIER.judge is not None
JUDGE = CLASSIFIER.judge
LIKENESS = JUDGE.model.likeness  # type: ignore[attr-defined]


def cosine(title_a: str, text_a: str, title_b: str, text_b: str) -> float:
    a = dict(JUDGE.signature(complaint(title=title_a, description=text_a)))
    b = dict(JUDGE.signature(complaint(title=title_b, description=text_b)))
    dot = sum(w * b.get(k, 0) for k, w in a.items())
    return dot / (math.hypot(*a.values()) * math.hypot(*b.values()))


def test_a_chinese_and_an_english_report_of_one_problem_are_alike() -> None:
    zh = ("插座烫手", "这个智能插座插着电暖器，烫得不能摸，还有一股烧焦的味道")
    en = ("Plug hot", "the smart plug gets very hot with my heater and smells burnt")
    other = ("Plug light", "the smart plug's light is too bright at night, can I turn it off")
    # Through the glosses: with words alone the two share nothing. (Still below the joining
    # threshold: across languages the glosses are too noisy for a report to join; the issue
    # note gives the burst figures.)
    assert cosine(*zh, *en) > 2 * cosine(*zh, *other) > 0


def test_codes_keep_their_digits_and_chinese_words_their_english() -> None:
    raw = "SP-2 插座 v5.8.2 闪退, promo SPRING50"
    found = views(raw, complaint_text(raw, ""), LIKENESS.glosses)
    assert {"sp-2", "v5.8.2", "spring50"} <= set(found["codes"])
    assert "socket" in found["glosses"]  # 插座
    assert "0" not in found["words"]  # digits are not words


def test_the_similarity_part_survives_the_model_file(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    artifact.save(JUDGE.model, path, meta={})  # type: ignore[attr-defined]
    loaded, _ = artifact.load(path)
    assert loaded.likeness.weights == LIKENESS.weights
    assert loaded.likeness.threshold == LIKENESS.threshold
    assert loaded.likeness.glosses["插座"] == LIKENESS.glosses["插座"]
    text = "充电宝 PB-200 充电时鼓包发烫"
    assert loaded.likeness.signature(text, complaint_text(text, "")) == LIKENESS.signature(
        text, complaint_text(text, "")
    )
