"""A linear model per decision over TF-IDF features: category, severity, risk.

Inference in numpy, exactly as scikit-learn's TfidfVectorizer (sublinear tf, smoothed idf,
l2 norm) and LogisticRegression (softmax; a binary head is a sigmoid) compute it, with a
temperature per head fitted on out-of-fold predictions (calibration).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from complaints_classifier.model.features import tokens
from complaints_classifier.model.likeness import Likeness

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Head:
    """One decision: its classes and the columns of the weight matrix that score them."""

    name: str
    classes: tuple[str, ...]
    start: int  # first column in the weight matrix
    temperature: float = 1.0

    @property
    def binary(self) -> bool:
        return len(self.classes) == 2


@dataclass(frozen=True, slots=True)
class HeadResult:
    classes: tuple[str, ...]
    probabilities: tuple[float, ...]
    top: tuple[str, ...]  # the features that pushed most towards the winning class

    def p(self, label: str) -> float:
        return self.probabilities[self.classes.index(label)]

    @property
    def best(self) -> tuple[str, float]:
        i = max(range(len(self.classes)), key=self.probabilities.__getitem__)
        return self.classes[i], self.probabilities[i]


@dataclass(frozen=True, slots=True)
class Prediction:
    heads: dict[str, HeadResult]
    version: str


@dataclass(frozen=True)
class LinearModel:
    version: str
    vocabulary: dict[str, int]
    idf: Floats  # per feature
    weights: Floats  # features x columns (all heads side by side)
    bias: Floats  # per column
    heads: tuple[Head, ...]
    # What similarity compares (model/likeness.py), apart from the classifying features.
    likeness: Likeness = field(default_factory=lambda: Likeness({}, 1.0, {}, 1.0))

    def vector(self, text: str) -> tuple[list[str], npt.NDArray[np.int64], Floats]:
        """The TF-IDF vector of model-normalised text: its features, their ids and weights."""
        vocabulary = self.vocabulary
        known = [(t, c) for t, c in Counter(tokens(text)).items() if t in vocabulary]
        if not known:
            return [], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        index = np.array([vocabulary[t] for t, _ in known], dtype=np.int64)
        tf = np.array([1.0 + math.log(c) for _, c in known], dtype=np.float32)
        x = tf * self.idf[index]
        x /= np.linalg.norm(x)
        return [t for t, _ in known], index, x

    def predict(self, text: str, *, top: int = 3) -> Prediction:
        """Every head's class probabilities for model-normalised text."""
        names, index, x = self.vector(text)
        if len(index):
            contributions = x[:, None] * self.weights[index]  # features x columns
            scores = contributions.sum(axis=0) + self.bias
        else:
            contributions = np.zeros((0, self.weights.shape[1]), dtype=np.float32)
            scores = self.bias.copy()
        results = {}
        probs: tuple[float, ...]
        order: npt.NDArray[np.int64] | list[int]
        for head in self.heads:
            k = len(head.classes)
            if head.binary:
                z = float(scores[head.start]) / head.temperature
                p1 = 1.0 / (1.0 + math.exp(-z))
                probs = (1.0 - p1, p1)
                column = head.start
                toward = 1 if p1 >= 0.5 else -1
            else:
                z_all = scores[head.start : head.start + k] / head.temperature
                z_all = z_all - z_all.max()
                e = np.exp(z_all)
                probs = tuple(float(v) for v in e / e.sum())
                winner = int(np.argmax(probs))
                column, toward = head.start + winner, 1
            order = np.argsort(-toward * contributions[:, column])[:top] if len(index) else []
            results[head.name] = HeadResult(
                classes=head.classes,
                probabilities=tuple(probs),
                top=tuple(names[i] for i in order if toward * contributions[i, column] > 0),
            )
        return Prediction(heads=results, version=self.version)
