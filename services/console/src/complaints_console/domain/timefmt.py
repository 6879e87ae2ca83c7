"""Remaining times and clock states as people read them (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta


def remaining(deadline: datetime | None, *, now: datetime) -> timedelta | None:
    return None if deadline is None else deadline - now


def human(delta: timedelta | None, *, lang: str = "en") -> str:
    """`12m`, `3h 05m`, `2d 4h`; `-` before an overdue one (`-4m`)."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    d, h, m, s = ("天", "小时", "分", "秒") if lang == "zh" else ("d", "h", "m", "s")
    if days:
        return f"{sign}{days}{d} {hours}{h}"
    if hours:
        return f"{sign}{hours}{h} {minutes:02d}{m}"
    if minutes:
        return f"{sign}{minutes}{m}"
    return f"{sign}{secs}{s}"


def urgency(delta: timedelta | None, *, budget_s: float | None = None) -> str:
    """A colour class: overdue, soon (under a quarter of the budget or 10 min), fine, none."""
    if delta is None:
        return "none"
    if delta <= timedelta(0):
        return "overdue"
    limit = timedelta(minutes=10)
    if budget_s:
        limit = max(limit, timedelta(seconds=budget_s / 4))
    return "soon" if delta <= limit else "fine"
