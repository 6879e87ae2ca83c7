"""Loading the rules YAML: the shipped file is valid; bad files name file, line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from complaints_classifier.rules_file import RulesFileError, load_rules, parse_rules
from complaints_classifier.settings import ClassifierSettings

from .factories import RULES_FILE

MINIMAL = """\
categories:
  - id: other
    department: customer_service
"""


def test_shipped_rules_cover_the_required_categories() -> None:
    rules = load_rules(RULES_FILE)
    assert {c.id for c in rules.categories} == {
        "payment",
        "account",
        "logistics",
        "order",
        "refund",
        "product_quality",
        "service_attitude",
        "policy_promotion",
        "billing",
        "technical",
        "other",
    }
    assert (rules.scope.common.threshold, rules.scope.common.window) == (5, timedelta(hours=24))
    assert {r.id for r in rules.scope.risk} == {"media", "regulator", "legal", "collective"}


def test_minimal_rules_take_defaults() -> None:
    rules = parse_rules(MINIMAL, source="mini.yaml")
    assert rules.fallback_category == "other"
    assert rules.scope.common.threshold == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: b\n  c: d\n", "bad.yaml: line 2, column 4: invalid YAML: mapping values"),
        ("- just a list", "bad.yaml: the rules file must be a mapping"),
        (
            MINIMAL + "scope:\n  common:\n    threshold: 1\n",
            "bad.yaml: line 6: scope.common.threshold: Input should be greater than or equal to 2",
        ),
        (
            MINIMAL + "scope:\n  common:\n    window: forever\n",
            "bad.yaml: line 6: scope.common.window:",
        ),
        (
            MINIMAL + "severity:\n  rules:\n    - id: x\n      level: purple\n      zh: [a]\n",
            "bad.yaml: line 7: severity.rules.0.level: Input should be 'red', 'yellow' or 'green'",
        ),
        (
            MINIMAL + "    problems:\n      - key: k\n",
            "bad.yaml: line 5: categories.0.problems.0: Value error, needs at least one",
        ),
        (
            MINIMAL + "    problems:\n      - key: k\n        patterns: ['(']\n",
            "bad.yaml: line 6: categories.0.problems.0.patterns: Value error, pattern '(' is not",
        ),
        (MINIMAL + "fallback_category: misc\n", "fallback_category 'misc' is not a category"),
        (MINIMAL + "colour: blue\n", "bad.yaml: line 4: colour: Extra inputs are not permitted"),
        (
            MINIMAL + "  - id: other\n    department: x\n",
            "duplicate category id 'other'",
        ),
    ],
)
def test_bad_rules_name_file_line_and_problem(text: str, expected: str) -> None:
    with pytest.raises(RulesFileError) as raised:
        parse_rules(text, source="bad.yaml")
    assert expected in str(raised.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RulesFileError, match=r"nope\.yaml: cannot read rules file"):
        load_rules(tmp_path / "nope.yaml")


def test_rules_path_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert ClassifierSettings().rules_path() == RULES_FILE  # relative: found in the repository
    absolute = tmp_path / "mine.yaml"
    monkeypatch.setenv("CLASSIFIER_RULES_FILE", str(absolute))
    assert ClassifierSettings().rules_path() == absolute
