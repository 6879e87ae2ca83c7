"""Fingerprints: what makes two complaints "the same kind" for the common scope."""

from __future__ import annotations

import hashlib

from complaints_classifier.domain.text import normalise

_SEPARATOR = "\x1f"
_NONE = "-"


def fingerprint(*, category: str, product_id: str | None, region: str | None, key: str) -> str:
    """Stable id of category + product + region + normalised key phrase: `<category>.<hash>`."""
    parts = (category, product_id or _NONE, region or _NONE, key)
    digest = hashlib.sha256(_SEPARATOR.join(normalise(p) for p in parts).encode()).hexdigest()
    return f"{category}.{digest[:24]}"


def cluster_id(*, fingerprint: str, opened_by: str) -> str:
    """Deterministic cluster id: the fingerprint and the complaint whose arrival opened it."""
    digest = hashlib.sha256(f"{fingerprint}{_SEPARATOR}{opened_by}".encode()).hexdigest()
    return f"cluster.{digest[:24]}"
