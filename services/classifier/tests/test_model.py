"""The learned model on the held-out writers (never trained or tuned on), and its contract.

Floors are the figures the shipped model reaches on writers E and F (config/classifier/
corpus/split.yaml), rounded down: a change that makes the model worse fails here. The
issue's targets (red recall 0.95, category macro-F1 0.85, risk recall 0.90 at precision
0.85) are not all reached; BENCHMARKS.md and the issue note give the figures.
"""

from __future__ import annotations

import hashlib

import pytest

from complaints_classifier.evaluation import Evaluation, evaluate, load_corpus
from complaints_classifier.live_rules import build_classifier
from complaints_classifier.model.features import complaint_text, normalise
from complaints_classifier.model.signals import signals
from complaints_classifier.rules_file import load_rules
from complaints_schemas.events import ClassificationHint, CustomerTier, Severity

from .factories import RULES_FILE, complaint

CORPUS = RULES_FILE.parent / "corpus"
RULES = load_rules(RULES_FILE)
CLASSIFIER = build_classifier(RULES, rules_path=RULES_FILE)


@pytest.fixture(scope="module")
def holdout() -> Evaluation:
    return evaluate(RULES, load_corpus(CORPUS, "holdout"), CLASSIFIER)


def test_held_out_category(holdout: Evaluation) -> None:
    assert holdout.reports["category"].macro("f1") >= 0.80


def test_held_out_red_recall_and_precision(holdout: Evaluation) -> None:
    severity = holdout.reports["severity"]
    assert (severity.recall("red") or 0) >= 0.92
    assert (severity.precision("red") or 0) >= 0.80
    # The worst error, red rated green: at most 1 % of the red complaints.
    assert severity.confusion["red"]["green"] <= 0.01 * severity.support("red")


def test_held_out_risk(holdout: Evaluation) -> None:
    scope = holdout.reports["scope"]
    assert (scope.recall("risk") or 0) >= 0.78
    assert (scope.precision("risk") or 0) >= 0.75


def test_every_decision_carries_model_version_confidence_and_reasons(
    holdout: Evaluation,
) -> None:
    for event in holdout.events[:50]:
        assert event.model_version == CLASSIFIER.judge.version  # type: ignore[union-attr]
        assert event.confidence is not None
        assert 0 <= event.confidence <= 1
        rules = {r.rule for r in event.reasons}
        assert any(r.startswith("model.") and r.endswith(".category") for r in rules)
        assert any(r.startswith("model.") and r.endswith(".severity") for r in rules)
    assert any(e.needs_triage for e in holdout.events)
    for event in holdout.events:
        if event.needs_triage:
            assert event.severity is not Severity.GREEN


def test_the_model_was_trained_on_the_corpus_as_it_is() -> None:
    """Editing the corpus without `complaints train-classifier` leaves a stale model."""
    digest = hashlib.sha256()
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
        digest.update(path.relative_to(CORPUS).as_posix().encode() + path.read_bytes())
    assert CLASSIFIER.judge is not None
    assert CLASSIFIER.judge.version == "lr-" + digest.hexdigest()[:12]


@pytest.mark.parametrize(
    ("title", "description", "expected"),
    [
        ("充電器", "充電器插著很燙還有焦味，插頭都黑了", "safety"),  # traditional characters
        ("Charger", "the charger smelled like burning plastic", "safety"),
        ("余额", "早上起来余额变成0了，我没有用过", "money"),
        ("Account", "I got an email about a login from Guangzhou, that wasn't me", "account"),
        ("差评", "再不处理我就发小红书曝光", "media"),
        ("投诉", "我要打12315投诉你们", "regulator"),
    ],
)
def test_harm_and_spread_signals(title: str, description: str, expected: str) -> None:
    assert expected in {s.name for s in signals(complaint_text(title, description))}


def test_a_harm_signal_is_never_green_and_a_vip_at_stake_is_red() -> None:
    hazard = complaint(title="Charger", description="my kid said the charger smelled burnt")
    decided = CLASSIFIER.classify(hazard)
    assert decided.severity is not Severity.GREEN
    vip = complaint(title="余额", description="余额少了五百块，我没买东西", tier=CustomerTier.VIP)
    assert CLASSIFIER.classify(vip).severity is Severity.RED
    assert any(r.rule == "severity.raise_for.at_stake" for r in CLASSIFIER.classify(vip).reasons)


def test_normalisation_makes_traditional_and_full_width_text_alike() -> None:
    assert normalise("退貨運費ＡＢＣ 123") == normalise("退货运费abc 999")


def test_a_channel_hint_raises_severity_never_lowers_it_and_says_so() -> None:
    base = complaint(title="Question", description="How do I change my delivery address?")
    plain = CLASSIFIER.classify(base)
    assert plain.severity is Severity.GREEN
    raised = CLASSIFIER.classify(
        base.model_copy(update={"hint": ClassificationHint(severity=Severity.RED, source="ivr")})
    )
    assert raised.severity is Severity.RED
    assert any(r.rule == "hint.severity" and "ivr says red" in r.detail for r in raised.reasons)
    hazard = complaint(title="Charger", description="the charger caught fire and burned my desk")
    lowered = CLASSIFIER.classify(
        hazard.model_copy(update={"hint": ClassificationHint(severity=Severity.GREEN)})
    )
    assert lowered.severity is Severity.RED
