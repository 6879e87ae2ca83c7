"""`complaints train-classifier`: fit the classifier's model on the corpus's training writers.

scikit-learn fits; the model is exported to arrays the classifier runs with numpy alone.
Deterministic: the same corpus gives the same file. Operating thresholds (when a probability
means red, risk) are chosen on leave-one-writer-out predictions of the training writers, so
the held-out writers are never looked at here.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
import yaml

from complaints_classifier.domain.content import ContentClassifier
from complaints_classifier.model import artifact
from complaints_classifier.model.features import complaint_text, tokens
from complaints_classifier.model.judge import Judge, Thresholds
from complaints_classifier.model.likeness import Likeness
from complaints_classifier.model.linear import Head, LinearModel
from complaints_classifier.model.signals import HARM, SPREAD, signals
from complaints_classifier.rules_file import load_rules
from complaints_cli.train_similarity import fit_likeness

CORPUS = Path("config/classifier/corpus")
MODEL = Path("config/classifier/model.npz")
CATEGORY_C, SEVERITY_C, RISK_C = 10.0, 30.0, 10.0
RED_PRECISION, RISK_PRECISION = 0.80, 0.85  # the operating points' precision floors


@dataclass(frozen=True)
class Example:
    writer: str
    text: str
    category: str
    severity: str
    risk: bool
    vip: bool
    row: dict[str, Any]


def read_corpus(corpus: Path, part: str) -> list[Example]:
    """The examples of the writers in `part` (train or holdout) of split.yaml."""
    split = yaml.safe_load((corpus / "split.yaml").read_text(encoding="utf-8"))
    examples = []
    for writer in split[part]:
        for name in ("singles.jsonl", "bursts.jsonl"):
            path = corpus / writer / name
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    expected = row["expected"]
                    customer = row.get("customer", {})
                    examples.append(
                        Example(
                            writer=writer,
                            text=complaint_text(row["title"], row["description"]),
                            category=expected["category"],
                            severity=expected["severity"],
                            risk=expected["scope"] == "risk",
                            vip=customer.get("tier") == "vip"
                            or (customer.get("annual_spend") or 0) >= 50_000,
                            row=row,
                        )
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    raise typer.BadParameter(f"{path}:{number}: {exc}") from exc
    return examples


def _fit(texts: list[str], labels: list[Any], c: float) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=tokens, sublinear_tf=True, min_df=2, dtype=np.float32)
    x = vectorizer.fit_transform(texts)
    model = LogisticRegression(C=c, max_iter=5000).fit(x, labels)
    return vectorizer, model


def _out_of_fold(examples: list[Example], label: str, c: float) -> tuple[np.ndarray, list[Any]]:
    """Probabilities for each example from a model trained without its writer."""
    writers = sorted({e.writer for e in examples})
    classes = sorted({getattr(e, label) for e in examples})
    out = np.zeros((len(examples), len(classes)))
    for writer in writers:
        train = [e for e in examples if e.writer != writer]
        vectorizer, model = _fit([e.text for e in train], [getattr(e, label) for e in train], c)
        rows = [i for i, e in enumerate(examples) if e.writer == writer]
        probs = model.predict_proba(vectorizer.transform([examples[i].text for i in rows]))
        out[rows] = probs[:, [list(model.classes_).index(k) for k in classes]]
    return out, classes


def _temperature(probs: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the log loss of the out-of-fold predictions."""
    logits = np.log(np.clip(probs, 1e-9, 1.0))
    best, best_loss = 1.0, math.inf
    for t in np.arange(0.5, 3.01, 0.05):
        z = logits / t
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -float(np.mean(np.log(np.clip(p[np.arange(len(truth)), truth], 1e-9, 1.0))))
        if loss < best_loss:
            best, best_loss = round(float(t), 2), loss
    return best


def _operating_point(
    p: np.ndarray, signal: np.ndarray, truth: np.ndarray, precision_floor: float
) -> dict[str, float]:
    """Thresholds (alone, with a signal) with the best recall at the precision floor."""
    best: tuple[float, float, float, float] | None = None
    for alone in np.arange(0.2, 0.71, 0.05):
        for with_signal in np.arange(0.05, alone + 1e-9, 0.05):
            chosen = (p >= alone) | (signal & (p >= with_signal))
            tp = int(np.sum(chosen & truth))
            precision = tp / max(1, int(chosen.sum()))
            recall = tp / max(1, int(truth.sum()))
            if precision >= precision_floor and (
                best is None or (recall, precision) > (best[2], best[3])
            ):
                best = (round(float(alone), 2), round(float(with_signal), 2), recall, precision)
    if best is None:
        raise typer.BadParameter(f"no threshold reaches precision {precision_floor}")
    return {"alone": best[0], "with_signal": best[1], "cv_recall": best[2], "cv_precision": best[3]}


def _likeness(
    model: LinearModel, corpus: Path, writers: list[str]
) -> tuple[LinearModel, dict[str, Any]]:
    rules = load_rules(corpus.parent / "rules.yaml").model_copy(update={"model": None})

    def classifier(likeness: Likeness) -> ContentClassifier:
        return ContentClassifier(rules, Judge(replace(model, likeness=likeness), Thresholds()))

    likeness, figures = fit_likeness(corpus, writers, rules=rules, classifier=classifier)
    return replace(model, likeness=likeness), figures


def train(corpus: Path) -> tuple[LinearModel, dict[str, Any]]:
    examples = read_corpus(corpus, "train")
    plain = [e for e in examples if not e.vip]  # VIP labels carry the VIP raise, not the text
    texts = [e.text for e in examples]
    vectorizer, category = _fit(texts, [e.category for e in examples], CATEGORY_C)
    vocabulary = {str(t): int(i) for t, i in vectorizer.vocabulary_.items()}
    x_plain = vectorizer.transform([e.text for e in plain])
    x_all = vectorizer.transform(texts)
    from sklearn.linear_model import LogisticRegression

    severity = LogisticRegression(C=SEVERITY_C, max_iter=5000).fit(
        x_plain, [e.severity for e in plain]
    )
    risk = LogisticRegression(C=RISK_C, max_iter=5000).fit(x_all, [e.risk for e in examples])

    cat_oof, cat_classes = _out_of_fold(examples, "category", CATEGORY_C)
    sev_oof, sev_classes = _out_of_fold(plain, "severity", SEVERITY_C)
    risk_oof, _ = _out_of_fold(examples, "risk", RISK_C)
    harm = np.array([any(s.name in HARM for s in signals(e.text)) for e in plain])
    spread = np.array([any(s.name in SPREAD for s in signals(e.text)) for e in examples])
    red = _operating_point(
        sev_oof[:, sev_classes.index("red")],
        harm,
        np.array([e.severity == "red" for e in plain]),
        RED_PRECISION,
    )
    risky = _operating_point(
        risk_oof[:, 1], spread, np.array([e.risk for e in examples]), RISK_PRECISION
    )
    cat_pred = np.array(cat_classes)[cat_oof.argmax(axis=1)]
    cat_truth = np.array([e.category for e in examples])

    def index(classes: list[Any], labels: list[Any]) -> np.ndarray:
        return np.array([classes.index(v) for v in labels])

    temperatures = {
        "category": _temperature(cat_oof, index(cat_classes, [e.category for e in examples])),
        "severity": _temperature(sev_oof, index(sev_classes, [e.severity for e in plain])),
        "risk": _temperature(risk_oof, np.array([int(e.risk) for e in examples])),
    }
    weights = np.hstack([category.coef_.T, severity.coef_.T, risk.coef_.T]).astype(np.float32)
    bias = np.concatenate([category.intercept_, severity.intercept_, risk.intercept_])
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(corpus).as_posix().encode() + path.read_bytes())
    version = "lr-" + digest.hexdigest()[:12]
    n_category, n_severity = len(category.classes_), len(severity.classes_)
    model = LinearModel(
        version=version,
        vocabulary=vocabulary,
        idf=vectorizer.idf_.astype(np.float32),
        weights=weights,
        bias=bias.astype(np.float32),
        heads=(
            Head("category", tuple(category.classes_), 0, temperatures["category"]),
            Head("severity", tuple(severity.classes_), n_category, temperatures["severity"]),
            Head("risk", ("individual", "risk"), n_category + n_severity, temperatures["risk"]),
        ),
    )
    model, similarity = _likeness(model, corpus, sorted({e.writer for e in examples}))
    meta = {
        "similarity": similarity,
        "trained_on": sorted({e.writer for e in examples}),
        "examples": len(examples),
        "features": len(vocabulary),
        "thresholds": {"red": red, "risk": risky},
        "cv_category_accuracy": float(np.mean(cat_pred == cat_truth)),
        "temperatures": temperatures,
    }
    return model, meta


def train_classifier(
    corpus: Annotated[Path, typer.Option(help="The labelled corpus (split.yaml inside).")] = CORPUS,
    out: Annotated[Path, typer.Option(help="Where to write the model.")] = MODEL,
    similarity_only: Annotated[
        bool, typer.Option(help="Refit only the similarity part of the model in OUT.")
    ] = False,
) -> None:
    """Train the classifier's model on the corpus's training writers and write it to OUT."""
    if similarity_only:
        model, meta = artifact.load(out)
        model, meta["similarity"] = _likeness(model, corpus, meta["trained_on"])
    else:
        model, meta = train(corpus)
    artifact.save(model, out, meta=meta)
    typer.echo(
        f"model {model.version}: {meta['examples']} examples, {meta['features']} features -> {out}"
    )
    typer.echo(json.dumps({k: meta[k] for k in ("thresholds", "similarity")}, indent=2))
