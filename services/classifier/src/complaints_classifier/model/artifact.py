"""The model's file: arrays in a compressed .npz, the rest in a JSON header inside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from complaints_classifier.model.likeness import Likeness
from complaints_classifier.model.linear import Head, LinearModel


class ModelFileError(ValueError):
    pass


def save(model: LinearModel, path: Path, *, meta: dict[str, Any]) -> None:
    header = {
        "version": model.version,
        "heads": [[h.name, list(h.classes), h.start, h.temperature] for h in model.heads],
        "likeness": {
            "weights": dict(model.likeness.weights),
            "threshold": model.likeness.threshold,
            "rarest": model.likeness.rarest,
        },
        "meta": meta,
    }
    vocabulary = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    np.savez_compressed(
        path,
        header=np.array(json.dumps(header, ensure_ascii=False)),
        vocabulary=np.array(vocabulary),
        idf=model.idf.astype(np.float32),
        weights=model.weights.astype(np.float32),
        bias=model.bias.astype(np.float32),
        likeness_terms=np.array(list(model.likeness.idf), dtype=np.uint32),
        likeness_idf=np.array(list(model.likeness.idf.values()), dtype=np.float32),
        gloss_words=np.array(list(model.likeness.glosses)),
        gloss_terms=np.array([" ".join(sorted(g)) for g in model.likeness.glosses.values()]),
    )


def load(path: Path) -> tuple[LinearModel, dict[str, Any]]:
    """The model in `path` and its metadata (what it was trained on, its figures)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            vocabulary = {str(t): i for i, t in enumerate(data["vocabulary"])}
            model = LinearModel(
                version=str(header["version"]),
                vocabulary=vocabulary,
                idf=data["idf"].astype(np.float32),
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                heads=tuple(
                    Head(name=n, classes=tuple(c), start=int(s), temperature=float(t))
                    for n, c, s, t in header["heads"]
                ),
                likeness=Likeness(
                    idf=dict(
                        zip(
                            data["likeness_terms"].tolist(),
                            data["likeness_idf"].tolist(),
                            strict=True,
                        )
                    ),
                    rarest=float(header["likeness"]["rarest"]),
                    weights={str(k): float(v) for k, v in header["likeness"]["weights"].items()},
                    threshold=float(header["likeness"]["threshold"]),
                    glosses={
                        str(w): frozenset(str(g).split())
                        for w, g in zip(data["gloss_words"], data["gloss_terms"], strict=True)
                    },
                ),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise ModelFileError(f"{path}: not a classifier model: {exc}") from exc
    if model.weights.shape != (
        len(vocabulary),
        sum(len(h.classes) if not h.binary else 1 for h in model.heads),
    ):
        raise ModelFileError(f"{path}: weights do not match the vocabulary and heads")
    return model, dict(header.get("meta", {}))
