"""Which earlier complaints a new one is about the same problem as: cosine over signatures.

A signature is a complaint's strongest TF-IDF features (id, weight 1-255). A complaint joins
the group whose members it is most similar to on average (average linkage: one look-alike
member is not enough, so a different problem about the same product stays out), when that
average reaches the threshold; otherwise it starts a group of its own. The window keeps at
most a few hundred entries per key, so an exact search over them is cheaper than an
approximate index (measured in bench/classifier.py).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Signature = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Sparse:
    """A signature as a lookup table with its norm: made once per window entry, not per look."""

    weights: dict[int, int]
    norm: float


def sparse(signature: Signature) -> Sparse:
    weights = dict(signature)
    values = weights.values()
    # Integer weights: the sums are exact whatever their order.
    return Sparse(weights, math.sqrt(sum(map(operator.mul, values, values))))


def best_group(
    signature: Signature, members: Iterable[tuple[str, Sparse]], *, threshold: float
) -> tuple[str | None, float]:
    """The group (id) whose members are on average most similar, if it reaches `threshold`."""
    mine = sparse(signature)
    if not mine.norm:
        return None, 0.0
    ours = mine.weights
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for group, other in members:
        theirs = other.weights
        dot = sum(ours[k] * theirs[k] for k in ours.keys() & theirs.keys())
        sums[group] = sums.get(group, 0.0) + (dot / (mine.norm * other.norm) if other.norm else 0.0)
        counts[group] = counts.get(group, 0) + 1
    best, best_score = None, 0.0
    for group, total in sums.items():
        score = total / counts[group]
        if score > best_score:
            best, best_score = group, score
    return (
        (best, best_score) if best is not None and best_score >= threshold else (None, best_score)
    )


def groups_of(assigned: Sequence[str | None]) -> int:
    return len({g for g in assigned if g is not None})
