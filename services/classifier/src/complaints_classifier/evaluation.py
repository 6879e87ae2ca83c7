"""Evaluation on a labelled set: precision, recall and confusion per decision, no broker."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from complaints_classifier.domain.content import ContentClassifier
from complaints_classifier.domain.pipeline import InMemoryPipeline
from complaints_classifier.domain.rules import RuleSet
from complaints_schemas.events import (
    Channel,
    ComplaintAccepted,
    ComplaintClassified,
    Customer,
    Scope,
)

DIMENSIONS = ("category", "severity", "scope")


@dataclass(frozen=True, slots=True)
class Labelled:
    complaint: ComplaintAccepted
    expected: dict[str, str]


def load_labelled(path: Path) -> list[Labelled]:
    """JSON Lines: id, channel, language, customer, product_id, accepted_at, title, description,
    expected {category, severity, scope}."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(_labelled(json.loads(line)))
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path}: line {number}: {exc}") from exc
    return items


def load_corpus(corpus: Path, part: str) -> list[Labelled]:
    """The single complaints of the writers in `part` (train or holdout) of split.yaml, a day
    apart so none forms a cluster with another: scope is individual or risk by its text."""
    import yaml

    split = yaml.safe_load((corpus / "split.yaml").read_text(encoding="utf-8"))
    items: list[Labelled] = []
    start = datetime(2026, 1, 5, tzinfo=UTC)
    for writer in split[part]:
        path = corpus / writer / "singles.jsonl"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                items.append(_labelled(_corpus_row(raw, at=start + len(items) * timedelta(days=1))))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path}: line {number}: {exc}") from exc
    return items


def corpus_complaint(row: dict[str, Any], *, at: datetime) -> ComplaintAccepted:
    """A corpus writer's row as intake would have accepted it (at `at`, unless it says)."""
    return _labelled(_corpus_row(row, at=at)).complaint


def _corpus_row(row: dict[str, Any], *, at: datetime) -> dict[str, Any]:
    """The writers' extra customer fields dropped, the title cut to intake's 200 characters."""
    customer = {k: v for k, v in row["customer"].items() if k in ("id", "tier", "annual_spend")}
    return {
        "accepted_at": at.isoformat(),
        **row,
        "customer": customer,
        "title": row["title"][:200],
    }


def _labelled(raw: dict[str, Any]) -> Labelled:
    at = raw["accepted_at"]
    complaint = ComplaintAccepted(
        channel=Channel(raw.get("channel", "other")),
        channel_event_id=f"eval-{raw['id']}",
        customer=Customer.model_validate(raw["customer"]),
        title=raw["title"],
        description=raw["description"],
        product_id=raw.get("product_id"),
        occurred_at=at,
        complaint_id=raw["id"],
        accepted_at=at,
        language=raw["language"],
    )
    expected = {d: str(raw["expected"][d]) for d in DIMENSIONS}
    return Labelled(complaint=complaint, expected=expected)


@dataclass
class ClassReport:
    """One decision's confusion matrix (expected -> predicted -> count) and per-class figures."""

    dimension: str
    confusion: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, expected: str, predicted: str) -> None:
        self.confusion.setdefault(expected, Counter())[predicted] += 1

    @property
    def labels(self) -> list[str]:
        seen = set(self.confusion) | {p for row in self.confusion.values() for p in row}
        return sorted(seen)

    def support(self, label: str) -> int:
        return sum(self.confusion.get(label, Counter()).values())

    def predicted(self, label: str) -> int:
        return sum(row[label] for row in self.confusion.values())

    def correct(self, label: str) -> int:
        return self.confusion.get(label, Counter())[label]

    def precision(self, label: str) -> float | None:
        predicted = self.predicted(label)
        return self.correct(label) / predicted if predicted else None

    def recall(self, label: str) -> float | None:
        support = self.support(label)
        return self.correct(label) / support if support else None

    @property
    def accuracy(self) -> float:
        total = sum(self.support(label) for label in self.labels)
        return sum(self.correct(label) for label in self.labels) / total if total else 0.0

    def f1(self, label: str) -> float | None:
        p, r = self.precision(label), self.recall(label)
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "macro_precision": self.macro("precision"),
            "macro_recall": self.macro("recall"),
            "macro_f1": self.macro("f1"),
            "classes": {
                label: {
                    "support": self.support(label),
                    "predicted": self.predicted(label),
                    "precision": self.precision(label),
                    "recall": self.recall(label),
                    "f1": self.f1(label),
                }
                for label in self.labels
            },
            "confusion": {e: dict(row) for e, row in self.confusion.items()},
        }

    def macro(self, figure: str) -> float:
        """Mean of per-class precision or recall over the classes with expected examples."""
        values = [
            getattr(self, figure)(label) or 0.0 for label in self.labels if self.support(label)
        ]
        return sum(values) / len(values) if values else 0.0


@dataclass
class Evaluation:
    reports: dict[str, ClassReport]
    misses: list[tuple[str, str, str, str]]  # complaint id, dimension, expected, predicted
    events: list[ComplaintClassified]


def evaluate(
    rules: RuleSet, labelled: list[Labelled], classifier: ContentClassifier | None = None
) -> Evaluation:
    """Run the labelled complaints in event-time order through one in-memory pipeline."""
    pipeline = InMemoryPipeline(rules, classifier)
    reports = {d: ClassReport(d) for d in DIMENSIONS}
    misses: list[tuple[str, str, str, str]] = []
    events = []
    for item in sorted(labelled, key=lambda x: (x.complaint.accepted_at, x.complaint.complaint_id)):
        event = pipeline.classify(item.complaint)
        events.append(event)
        predicted = {
            "category": event.category,
            "severity": event.severity.value,
            "scope": event.scope.value,
        }
        for dimension in DIMENSIONS:
            reports[dimension].add(item.expected[dimension], predicted[dimension])
            if item.expected[dimension] != predicted[dimension]:
                misses.append(
                    (
                        item.complaint.complaint_id,
                        dimension,
                        item.expected[dimension],
                        predicted[dimension],
                    )
                )
    return Evaluation(reports=reports, misses=misses, events=events)


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    name: str
    passed: bool
    detail: str


def stream_scenarios(rules: RuleSet, *, start: datetime) -> list[ScenarioResult]:
    """The cluster checks: the sixth complaint of a kind is common; a surge is risk."""
    return [_sixth_is_common(rules, start=start), _surge_is_risk(rules, start=start)]


def _logistics(n: int, *, at: datetime, zh: bool) -> ComplaintAccepted:
    title, text = (
        ("物流三天没更新", "快递停在中转站好几天了")
        if zh
        else ("Tracking stuck", "My parcel's tracking hasn't updated for three days.")
    )
    return ComplaintAccepted(
        channel=Channel.APP,
        channel_event_id=f"scenario-{n}",
        customer=Customer(id=f"scenario-customer-{n}", region="Hangzhou"),
        title=title,
        description=text,
        product_id="P-SCENARIO",
        occurred_at=at,
        complaint_id=f"S-{n}",
        accepted_at=at,
        language="zh" if zh else "en",
    )


def _sixth_is_common(rules: RuleSet, *, start: datetime) -> ScenarioResult:
    pipeline = InMemoryPipeline(rules)
    out = [
        pipeline.classify(_logistics(n, at=start + n * timedelta(minutes=30), zh=n % 2 == 0))
        for n in range(1, 7)
    ]
    scopes = [e.scope.value for e in out]
    clusters = {e.cluster_id for e in out if e.cluster_id}
    passed = out[5].scope is Scope.COMMON and len(clusters) == 1 and out[5].cluster_size == 6
    return ScenarioResult(
        "sixth similar complaint is common",
        passed,
        f"scopes {scopes}; cluster sizes {[e.cluster_size for e in out]}",
    )


def _surge_is_risk(rules: RuleSet, *, start: datetime) -> ScenarioResult:
    pipeline = InMemoryPipeline(rules)
    day = timedelta(days=1)
    n = 0
    for d in range(6):  # a quiet week: one a day
        n += 1
        pipeline.classify(_logistics(n, at=start + d * day, zh=True))
    burst = start + 7 * day
    out = []
    for k in range(12):  # then a dozen within a morning
        n += 1
        out.append(
            pipeline.classify(_logistics(n, at=burst + k * timedelta(minutes=15), zh=k % 2 == 0))
        )
    surged = [e for e in out if any(r.rule == "scope.risk.surge" for r in e.reasons)]
    passed = bool(surged) and surged[0].scope is Scope.RISK
    detail = (
        next(r.detail for r in surged[0].reasons if r.rule == "scope.risk.surge")
        if surged
        else f"no surge; scopes {[e.scope.value for e in out]}"
    )
    return ScenarioResult("surge against a quiet baseline is risk", passed, detail)
