"""Text -> features, the same at training and at run time.

Traditional characters become simplified (OpenCC t2s), full-width becomes half-width, digits
become 0 (amounts and order numbers differ, their shape does not), then: character 1-3
grams of each run of non-space characters, and Latin words with their bigrams.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import cache

import opencc

from complaints_classifier.model.signals import signals

_LATIN_WORD = re.compile(r"[a-z][a-z']*")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
# Complaint hotlines of regulators keep their meaning when other digits become 0.
_HOTLINES = re.compile(r"(?<!\d)(12315|12345|12321|12377|95598)(?!\d)")
NGRAMS = (1, 2, 3)


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """NFKC, simplified characters, lower case, digits as 0, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text).lower()
    text = _DIGITS.sub("0", _HOTLINES.sub(" 监管热线 ", text))
    return _SPACE.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    """Features of already normalised text (repeats kept: they are term frequencies)."""
    out: list[str] = []
    for run in text.split(" "):
        padded = f" {run} "
        for n in NGRAMS:
            out.extend([padded[i : i + n] for i in range(len(padded) - n + 1)])
    words = _LATIN_WORD.findall(text)
    out.extend([f"w:{w}" for w in words])
    out.extend([f"w:{a}_{b}" for a, b in itertools.pairwise(words)])
    out.extend([f"s:{s.name}" for s in signals(text)])
    return out


def complaint_text(title: str, description: str) -> str:
    return normalise(f"{title} \n {description}")
