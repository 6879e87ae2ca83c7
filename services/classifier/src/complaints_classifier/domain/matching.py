"""Phrase matching on normalised text: substrings for CJK, whole words for Latin script."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from complaints_classifier.domain.text import normalise

_LATIN_WORD_EDGE = "a-z0-9"


def _phrase_pattern(phrase: str) -> str:
    """A Latin-script edge must not touch another letter or digit ("sue" is not in "issue")."""
    body = re.escape(phrase)
    if re.match(rf"[{_LATIN_WORD_EDGE}]", phrase):
        body = rf"(?<![{_LATIN_WORD_EDGE}]){body}"
    if re.search(rf"[{_LATIN_WORD_EDGE}]$", phrase):
        body = rf"{body}(?![{_LATIN_WORD_EDGE}])"
    return body


@dataclass(frozen=True, slots=True)
class PhraseMatcher:
    """Finds a phrase or pattern in normalised text; longer phrases first (the most specific)."""

    # (phrase, compiled, is_pattern): a pattern reports the text it matched.
    entries: tuple[tuple[str, re.Pattern[str], bool], ...]

    @classmethod
    def build(cls, *, phrases: Iterable[str], patterns: Iterable[str] = ()) -> PhraseMatcher:
        normalised = sorted({normalise(x) for x in phrases} - {""}, key=lambda p: (-len(p), p))
        entries = [(p, re.compile(_phrase_pattern(p)), False) for p in normalised]
        entries += [(p, re.compile(p), True) for p in patterns]
        return cls(entries=tuple(entries))

    def first(self, text: str) -> str | None:
        """The longest phrase found in `text` (already normalised), else a pattern's match."""
        for phrase, compiled, is_pattern in self.entries:
            # A plain substring test first: most phrases are absent, and `in` is cheap.
            if not is_pattern and phrase not in text:
                continue
            found = compiled.search(text)
            if found:
                return found.group(0) if is_pattern else phrase
        return None

    def all(self, text: str) -> tuple[str, ...]:
        """Every distinct phrase or pattern match; a longer phrase hides the shorter ones in it."""
        found: list[str] = []
        for phrase, compiled, is_pattern in self.entries:
            if not is_pattern and phrase not in text:
                continue
            hit = compiled.search(text)
            if hit:
                found.append(hit.group(0) if is_pattern else phrase)
                # Blank the span so "very angry" does not also count "angry".
                text = compiled.sub(lambda m: "\x00" * len(m.group(0)), text)
        return tuple(found)
