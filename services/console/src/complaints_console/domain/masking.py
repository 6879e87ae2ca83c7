"""Personal data as the read model keeps it: masked before it is stored (PIPL)."""

from __future__ import annotations

from complaints_schemas.pii import mask


def mask_name(name: str | None) -> str | None:
    """The first character and stars: 张**, J***."""
    if not name:
        return None
    return name[0] + "*" * max(1, min(len(name) - 1, 4))


def mask_text(text: str | None) -> str | None:
    return None if text is None else mask(text)


def contact(phone: str | None, email: str | None) -> str | None:
    value = phone or email
    return mask(value) if value else None
