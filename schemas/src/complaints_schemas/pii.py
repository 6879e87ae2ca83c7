"""Masking of personal data (PIPL): CN mobile numbers, ID numbers, bank cards, emails.

Part of the contract: services mask a contact before it goes on the wire, in a log line or
in a notification, and pure domain code may use it.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_CN_ID = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_CARD = re.compile(r"(?<!\d)(\d{4})\d{8,11}(\d{4})(?!\d)")
# Cards as people write them: groups of four separated by spaces or dashes.
_GROUPED_CARD = re.compile(r"(?<![\d-])(\d{4})(?:[ -]\d{4}){2,3}[ -](\d{1,4})(?![\d-])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask(text: str) -> str:
    """Mask personal data in free text, keeping enough to recognise it (138****1234)."""
    text = _EMAIL.sub(r"\1***@\2", text)
    text = _CN_ID.sub(r"\1********\2", text)
    text = _CARD.sub(r"\1********\2", text)
    text = _GROUPED_CARD.sub(r"\1 **** **** \2", text)
    return _MOBILE.sub(r"\1****\2", text)
