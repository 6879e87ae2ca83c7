"""The window's search over signatures is the cosine average it claims, to the last bit."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from complaints_classifier.domain.similarity import Signature, best_group, sparse

# Ids as the model makes them (view in the top bits, CRC-32 below), and ids that share their
# low 16 bits, which the lookup table cannot tell apart.
_IDS = st.one_of(
    st.integers(min_value=0, max_value=(5 << 28) - 1),
    st.integers(min_value=0, max_value=7).map(lambda n: (n << 16) | 0x1234),
)
_SIGNATURES = st.dictionaries(_IDS, st.integers(1, 255), max_size=96).map(
    lambda d: tuple(sorted(d.items()))
)


def reference(
    signature: Signature, members: list[tuple[str, Signature]], threshold: float
) -> tuple[str | None, float]:
    mine = dict(signature)
    norm = math.sqrt(sum(w * w for w in mine.values()))
    if not norm or not members:
        return None, 0.0
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for group, other in members:
        dot = sum(w * mine.get(k, 0) for k, w in other)
        square = sum(w * w for _, w in other)
        sums[group] = sums.get(group, 0.0) + (dot / (norm * math.sqrt(square)) if square else 0.0)
        counts[group] = counts.get(group, 0) + 1
    best, score = max(((g, total / counts[g]) for g, total in sums.items()), key=lambda gs: gs[1])
    if score <= 0:
        return None, score
    return (best, score) if score >= threshold else (None, score)


@given(
    _SIGNATURES,
    st.lists(st.tuples(st.sampled_from("abcd"), _SIGNATURES), max_size=30),
    st.floats(0.0, 1.0),
)
def test_best_group_is_the_plain_average_cosine(
    signature: Signature, members: list[tuple[str, Signature]], threshold: float
) -> None:
    found = best_group(signature, [(g, sparse(s)) for g, s in members], threshold=threshold)
    assert found == reference(signature, members, threshold)


def test_a_paraphrase_joins_the_group_it_shares_terms_with() -> None:
    fire = ((1, 200), (2, 100), (3, 50))
    refund = ((7, 200), (8, 100))
    members = [("fire", sparse(fire)), ("refund", sparse(refund)), ("fire", sparse(fire[:2]))]
    group, score = best_group(((1, 180), (2, 120), (9, 30)), members, threshold=0.5)
    assert group == "fire"
    assert 0.9 < score < 1.0
    assert best_group(((5, 10),), members, threshold=0.1) == (None, 0.0)
