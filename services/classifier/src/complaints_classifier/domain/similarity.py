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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Signature = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Sparse:
    """A signature as arrays (term ids ascending, integer weights) with its norm: made once
    per window entry, not per look."""

    ids: npt.NDArray[np.int64]
    weights: npt.NDArray[np.int64]
    norm: float


def sparse(signature: Signature) -> Sparse:
    pairs = sorted(dict(signature).items())
    ids = np.array([k for k, _ in pairs], dtype=np.int64)
    weights = np.array([w for _, w in pairs], dtype=np.int64)
    # Integer weights: the sums are exact, as in plain Python.
    return Sparse(ids, weights, math.sqrt(int(weights @ weights)))


def best_group(
    signature: Signature, members: Iterable[tuple[str, Sparse]], *, threshold: float
) -> tuple[str | None, float]:
    """The group (id) whose members are on average most similar, if it reaches `threshold`."""
    mine = sparse(signature)
    looked = list(members)
    if not mine.norm or not looked:
        return None, 0.0
    # Every member's terms at once: where each would sit among ours, and whether it is there.
    ids = np.concatenate([m.ids for _, m in looked])
    pos = _positions(mine.ids, ids)
    products = np.where(
        mine.ids[pos] == ids, np.concatenate([m.weights for _, m in looked]) * mine.weights[pos], 0
    )
    lengths = np.array([len(m.ids) for _, m in looked])
    ends = np.cumsum(lengths)
    totals = np.concatenate(([0], np.cumsum(products)))
    dots = (totals[ends] - totals[ends - lengths]).tolist()
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for (group, other), dot in zip(looked, dots, strict=True):
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


_SLOTS = (1 << 16) - 1


def _positions(ours: npt.NDArray[np.int64], ids: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """For each id, the index in `ours` (ascending, non-empty) it would match if present.
    A table on the ids' low 16 bits (CRC bits) is 20x faster than a binary search; two of our
    ids on one slot (about 7 % of signatures) take the search."""
    slots = ours & _SLOTS
    if len(np.unique(slots)) < len(ours):
        return np.minimum(np.searchsorted(ours, ids), len(ours) - 1)
    table = np.zeros(_SLOTS + 1, dtype=np.intp)
    table[slots] = np.arange(len(ours))
    found: npt.NDArray[np.intp] = table[ids & _SLOTS]
    return found


def groups_of(assigned: Sequence[str | None]) -> int:
    return len({g for g in assigned if g is not None})
