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

Signature = tuple[tuple[int, int], ...]


def cosine(a: dict[int, int], b: dict[int, int], norm_a: float, norm_b: float) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b[k] for k, w in a.items() if k in b)
    return dot / (norm_a * norm_b) if norm_a and norm_b else 0.0


def norm(sig: dict[int, int]) -> float:
    return math.sqrt(sum(w * w for w in sig.values()))


def best_group(
    signature: Signature, members: Iterable[tuple[str, Signature]], *, threshold: float
) -> tuple[str | None, float]:
    """The group (id) whose members are on average most similar, if it reaches `threshold`."""
    mine = dict(signature)
    mine_norm = norm(mine)
    totals: dict[str, list[float]] = {}
    for group, other in members:
        theirs = dict(other)
        totals.setdefault(group, []).append(cosine(mine, theirs, mine_norm, norm(theirs)))
    best, best_score = None, 0.0
    for group, scores in totals.items():
        score = sum(scores) / len(scores)
        if score > best_score:
            best, best_score = group, score
    return (
        (best, best_score) if best is not None and best_score >= threshold else (None, best_score)
    )


def groups_of(assigned: Sequence[str | None]) -> int:
    return len({g for g in assigned if g is not None})
