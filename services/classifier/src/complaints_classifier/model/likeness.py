"""What similarity compares: a complaint's signature, built from five views of its text.

- words: Chinese words (jieba) and Latin words of the model-normalised text;
- glosses: the English of each Chinese word (CC-CEDICT, a table in the model file) and the
  English words themselves, stemmed, so that a report in Chinese and one in English about one
  problem share terms;
- grams: character 2-3 grams (typos, traditional characters and odd segmentation still meet);
- signals: the harm and spread signals (a fire is a fire in either language);
- codes: promo codes, model numbers and versions as written (digits kept: "SP-2", "v5.8.2").

Each view is TF-IDF (idf from the training writers; a term never seen there counts as the
rarest), l2-normalised, and scaled by the square root of its weight, learned on the training
writers' bursts; the signature is the strongest terms of the concatenation, so the cosine
of two signatures is, up to the views one side lacks, the weighted sum of the views' cosines.
Term ids are CRC-32 hashes with the view in the top bits: stable across processes.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from complaints_classifier.model.signals import signals
from complaints_classifier.model.words import STOP, words

VIEWS = ("words", "glosses", "grams", "signals", "codes")
SIZE = 96  # terms kept per signature

_CODE = re.compile(r"(?<![a-z0-9])(?:[a-z]+[-_.]?\d[a-z0-9.-]*|\d+[a-z][a-z0-9.-]*)")
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[a-z]+")
# Gloss words that say nothing of the problem (CC-CEDICT's own vocabulary of definitions).
GLOSS_STOP = STOP | frozenset(
    [
        "sth",
        "sb",
        "one",
        "oneself",
        "something",
        "someone",
        "used",
        "also",
        "esp",
        "abbr",
        "variant",
        "see",
        "kind",
        "type",
        "person",
        "thing",
        "things",
        "make",
        "get",
        "take",
        "very",
        "etc",
        "cl",
        "pr",
        "old",
        "name",
        "surname",
    ]
)


def stem(word: str) -> str:
    """A crude English stem: enough for "charging"/"charged"/"charges" to meet."""
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def views(
    raw: str, normalised: str, dictionary: Mapping[str, frozenset[str]]
) -> dict[str, Counter[str]]:
    """The five views' term counts: `raw` as the channel sent it, `normalised` as the model,
    `dictionary` the English glosses of Chinese words."""
    found = [w for w in words(normalised) if not w.isdigit()]
    glossed: list[str] = []  # counted once at the end: Counter.update per word costs more
    for word in found:
        if _HAN.search(word):
            # A word the dictionary lacks ("烫得") is glossed character by character.
            known = dictionary.get(word)
            glossed.extend(known if known else {g for c in word for g in dictionary.get(c, ())})
        elif _LATIN.fullmatch(word) and word not in GLOSS_STOP:
            glossed.append(stem(word))
    grams: list[str] = []
    for run in normalised.split(" "):
        padded = f" {run} "
        for n in (2, 3):
            grams.extend([padded[i : i + n] for i in range(len(padded) - n + 1)])
    folded = unicodedata.normalize("NFKC", raw).lower()
    return {
        "words": Counter(found),
        "glosses": Counter(glossed),
        "grams": Counter(grams),
        "signals": Counter(s.name for s in signals(normalised)),
        "codes": Counter(_CODE.findall(folded)),
    }


def term_ids(view: str, terms: Iterable[str]) -> list[int]:
    """Each term's id, in order: the view in the top bits, the term's CRC-32 below."""
    prefix, crc = VIEWS.index(view) << 28, zlib.crc32
    return [prefix | (crc(t.encode()) & 0x0FFFFFFF) for t in terms]


@dataclass(frozen=True)
class Likeness:
    """The idf of each view's terms and each view's weight: a trained part of the model."""

    idf: Mapping[int, float]  # term id -> idf
    rarest: float  # idf of a term the training writers never used
    weights: Mapping[str, float]  # view -> weight (>= 0)
    threshold: float  # average cosine at which a complaint joins a group
    # Chinese word -> stemmed English gloss words (CC-CEDICT, taken in at training).
    glosses: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def vectors(self, raw: str, normalised: str) -> dict[str, dict[int, float]]:
        """Each view's l2-normalised TF-IDF vector."""
        out = {}
        idf, rarest, log = self.idf.get, self.rarest, math.log
        for view, counts in views(raw, normalised, self.glosses).items():
            vector = {}
            for term, k in zip(counts, term_ids(view, counts), strict=True):
                vector[k] = (1.0 + log(counts[term])) * idf(k, rarest)
            norm = math.sqrt(sum(v * v for v in vector.values()))
            out[view] = {k: v / norm for k, v in vector.items()} if norm else {}
        return out

    def signature(self, raw: str, normalised: str) -> tuple[tuple[int, int], ...]:
        """The strongest weighted terms (id, weight quantised to 1-255), sorted by id."""
        weighted: dict[int, float] = {}
        for view, vector in self.vectors(raw, normalised).items():
            scale = math.sqrt(self.weights.get(view, 0.0))
            for k, v in vector.items():
                weighted[k] = v * scale
        # Ties broken by id: the glosses come from sets, whose order varies between processes.
        strongest = heapq.nsmallest(SIZE, weighted.items(), key=lambda kv: (-kv[1], kv[0]))
        top = strongest[0][1] if strongest else 0.0
        if top <= 0:
            return ()
        return tuple(sorted((k, max(1, round(v / top * 255))) for k, v in strongest if v > 0))


def idf_table(
    texts: Iterable[tuple[str, str]], dictionary: Mapping[str, frozenset[str]]
) -> tuple[dict[int, float], float]:
    """Smoothed idf (as scikit-learn's) of terms in at least two of the (raw, normalised)
    texts, and the idf a term seen in none gets."""
    df: Counter[int] = Counter()
    n = 0
    for raw, normalised in texts:
        n += 1
        found = views(raw, normalised, dictionary)
        df.update({k for v, counts in found.items() for k in term_ids(v, counts)})
    table = {k: math.log((1 + n) / (1 + d)) + 1 for k, d in df.items() if d >= 2}
    return table, math.log(1 + n) + 1
