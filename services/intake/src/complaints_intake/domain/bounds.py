"""What a complaint must also be, beyond its schema: text a person can read (no control
characters, not only invisible ones) and an occurred_at within a sane window around now.

Pure: the window's `now` is passed in; the HTTP API answers a violation with 422 problem
details and the Kafka consumer dead-letters it as `invalid_event`, both counted."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from complaints_schemas.events import ComplaintLifecycleEvent, ComplaintSubmitted

# Whitespace that text may carry (folded by normalise); every other C0/C1 control is refused.
_ALLOWED_CONTROLS = frozenset("\t\n\r")
# Unicode categories that draw nothing: format characters (zero-width space, joiners, BOM,
# bidi marks), separators, and unassigned or private code points (what a font cannot show).
_INVISIBLE = frozenset({"Cf", "Zs", "Zl", "Zp", "Cn", "Co", "Mn", "Me"})


@dataclass(frozen=True, slots=True)
class OccurredWindow:
    """How far before and after now an occurred_at may lie."""

    max_age: timedelta = timedelta(days=1830)
    max_ahead: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Violation:
    location: str
    message: str


class Unacceptable(ValueError):
    """A submission that passed its schema but breaks these rules; names each field."""

    def __init__(self, violations: tuple[Violation, ...]) -> None:
        super().__init__("; ".join(f"{v.location}: {v.message}" for v in violations))
        self.violations = violations

    def errors(self) -> list[dict[str, str]]:
        return [{"location": v.location, "message": v.message} for v in self.violations]


def text_violation(text: str) -> str | None:
    """Why this text is refused, or None: a control character, or nothing visible in it."""
    for char in text:
        if char in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(char)
        if category == "Cc" or category == "Cs":
            return f"contains the control character U+{ord(char):04X}"
    if all(c.isspace() or unicodedata.category(c) in _INVISIBLE for c in text):
        return "has no visible character (only spaces, zero-width or format characters)"
    return None


def occurred_violation(
    occurred_at: datetime, *, now: datetime, window: OccurredWindow
) -> str | None:
    if occurred_at > now + window.max_ahead:
        return f"is more than {_span(window.max_ahead)} after now ({now.isoformat()})"
    if occurred_at < now - window.max_age:
        return f"is more than {_span(window.max_age)} before now ({now.isoformat()})"
    return None


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400} days"
    if seconds % 60 == 0:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


def _texts(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in data.items():
        if isinstance(value, str):
            yield prefix + key, value
        elif isinstance(value, Mapping):
            yield from _texts(value, f"{prefix}{key}.")


def check_event(
    event: ComplaintSubmitted | ComplaintLifecycleEvent, *, now: datetime, window: OccurredWindow
) -> None:
    """Raise Unacceptable naming every text field and the occurred_at that break the rules."""
    violations = [
        Violation(location, message)
        for location, text in _texts(event.model_dump(mode="python"))
        if (message := text_violation(text)) is not None
    ]
    when = occurred_violation(event.occurred_at, now=now, window=window)
    if when is not None:
        violations.append(Violation("occurred_at", when))
    if violations:
        raise Unacceptable(tuple(violations))
