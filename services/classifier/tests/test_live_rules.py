"""Rules reload on SIGHUP or file change; an invalid new file keeps the rules in force."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry

from complaints_classifier.live_rules import LiveRules
from complaints_classifier.metrics import ClassifierMetrics
from complaints_classifier.rules_file import load_rules

from .factories import RULES_FILE, complaint


def shipped() -> str:
    """The shipped rules; the model stays beside them, so the copy names it by absolute path."""
    model = RULES_FILE.parent / "model.npz"
    return RULES_FILE.read_text(encoding="utf-8").replace("file: model.npz", f"file: {model}")


def live(tmp_path: Path) -> tuple[LiveRules, Path, CollectorRegistry]:
    path = tmp_path / "rules.yaml"
    path.write_text(shipped(), encoding="utf-8")
    registry = CollectorRegistry()
    rules = LiveRules(path, load_rules(path), metrics=ClassifierMetrics(registry))
    return rules, path, registry


def reloads(registry: CollectorRegistry, outcome: str) -> float | None:
    return registry.get_sample_value(
        "complaints_classifier_rule_reloads_total", {"outcome": outcome}
    )


def touch(path: Path, text: str) -> None:
    """Write and move the mtime forward, whatever the file system's resolution."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_a_changed_file_is_applied_on_the_next_poll(tmp_path: Path) -> None:
    rules, path, registry = live(tmp_path)
    assert rules.poll() is None  # nothing changed
    text = path.read_text(encoding="utf-8").replace("threshold: 5", "threshold: 7", 1)
    touch(path, text)
    assert rules.poll() == "applied"
    assert rules.rules.scope.common.threshold == 7
    assert rules.poll() is None
    assert reloads(registry, "applied") == 1


def test_an_invalid_file_keeps_the_old_rules_and_is_reported_once(tmp_path: Path) -> None:
    rules, path, registry = live(tmp_path)
    old_classifier = rules.classifier
    touch(path, path.read_text(encoding="utf-8") + "\ncolour: blue\n")
    assert rules.poll() == "invalid"
    assert rules.poll() is None  # the same bad file is not re-read on every poll
    assert rules.classifier is old_classifier
    assert rules.classifier.classify(complaint(title="Payment failed")).category == "payment"
    assert reloads(registry, "invalid") == 1
    touch(path, shipped())  # fixed: same rules as before
    assert rules.poll() == "unchanged"


def test_sighup_reload_without_a_change_is_unchanged(tmp_path: Path) -> None:
    rules, _, registry = live(tmp_path)
    assert rules.reload(trigger="SIGHUP") == "unchanged"
    assert reloads(registry, "unchanged") == 1


def test_a_deleted_file_keeps_the_old_rules(tmp_path: Path) -> None:
    rules, path, registry = live(tmp_path)
    path.unlink()
    assert rules.poll() == "invalid"
    assert rules.rules.categories
    assert reloads(registry, "invalid") == 1
