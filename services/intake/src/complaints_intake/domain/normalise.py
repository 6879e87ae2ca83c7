"""Turning a submitted complaint into an accepted one: tidy text, settled language."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from complaints_schemas.events import ComplaintAccepted, ComplaintSubmitted, Customer

_SPACES = re.compile(r"[^\S\n]+")  # whitespace except newlines (includes U+3000 ideographic space)
_BLANK_LINES = re.compile(r"\n{3,}")
_ANY_SPACE = re.compile(r"\s+")
# CJK unified ideographs (+ extension A, compatibility ideographs, extension B-F).
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_PHONE_SEPARATORS = re.compile(r"[\s\-]")


def fold_line(text: str) -> str:
    """Collapse every whitespace run, newlines included, into one space."""
    return _ANY_SPACE.sub(" ", text).strip()


def fold_paragraphs(text: str) -> str:
    """Collapse spaces within lines and keep at most one blank line between paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def detect_language(*texts: str) -> Literal["zh", "en"]:
    """Any CJK ideograph makes it Chinese; everything else is English."""
    return "zh" if any(_CJK.search(t) for t in texts) else "en"


def normalise_phone(phone: str) -> str:
    """Digits only, keeping a leading "+" (e.g. "+86 138-1234-1234" -> "+8613812341234")."""
    return _PHONE_SEPARATORS.sub("", phone)


def _normalise_customer(customer: Customer) -> Customer:
    changes: dict[str, str] = {}
    if customer.phone is not None:
        changes["phone"] = normalise_phone(customer.phone)
    if customer.name is not None:
        changes["name"] = fold_line(customer.name)
    return customer.model_copy(update=changes) if changes else customer


def accept(
    submitted: ComplaintSubmitted, *, complaint_id: str, accepted_at: datetime
) -> ComplaintAccepted:
    """The accepted form of a submitted complaint (validated again on construction)."""
    title = fold_line(submitted.title)
    description = fold_paragraphs(submitted.description)
    data = submitted.model_dump()
    data.update(
        complaint_id=complaint_id,
        accepted_at=accepted_at,
        title=title,
        description=description,
        customer=_normalise_customer(submitted.customer).model_dump(),
        language=submitted.language or detect_language(title, description),
    )
    return ComplaintAccepted.model_validate(data)
