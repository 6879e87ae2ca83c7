"""Text normalisation so rules match regardless of width, case and spacing."""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
# CJK ideographs, kana, full-width forms and CJK punctuation: no spaces between words.
_CJK = r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_SPACE_NEXT_TO_CJK = re.compile(rf"(?<={_CJK}) (?={_CJK})")


def normalise(text: str) -> str:
    """NFKC (full-width -> half-width), lower case, one space between words, none inside CJK."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _WHITESPACE.sub(" ", text).strip()
    return _SPACE_NEXT_TO_CJK.sub("", text)
