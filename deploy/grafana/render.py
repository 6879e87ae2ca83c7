"""Render a dashboard's panels as one SVG from a Prometheus' query results.

Grafana cannot run on the build machines, so this draws what each panel's queries return
(a line per series over the range, or the value for a stat panel), laid out on the panel
grid of the committed JSON. Used by the end-to-end Prometheus test; with
RENDER_DASHBOARDS_TO set, that test writes the pictures linked from the README.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

Series = list[tuple[float, float]]
Query = Callable[[str], Sequence[tuple[str, Series]]]

CELL_W, CELL_H = 40, 30  # pixels per grid unit (24 columns, height in rows)
COLORS = ("#3274d9", "#e02f44", "#56a64b", "#ff9830", "#a352cc", "#8ab8ff")


def render(dashboard: dict[str, Any], query: Query) -> tuple[str, int]:
    """The SVG, and how many panels drew at least one series."""
    parts: list[str] = []
    drawn = 0
    bottom = 0
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        x, y, w, h = pos["x"] * CELL_W, pos["y"] * CELL_H, pos["w"] * CELL_W, pos["h"] * CELL_H
        bottom = max(bottom, y + h)
        if panel["type"] == "row":
            parts.append(_text(x + 4, y + 20, panel["title"], 16, "bold"))
            continue
        series = [
            (legend or target["expr"][:40], points)
            for target in panel.get("targets", [])
            for legend, points in query(target["expr"])
        ]
        drawn += bool(series)
        parts.append(
            f'<rect x="{x + 2}" y="{y + 2}" width="{w - 4}" height="{h - 4}" '
            'fill="#181b1f" rx="4"/>'
        )
        parts.append(_text(x + 10, y + 22, panel["title"], 13, "bold"))
        if not series:
            parts.append(_text(x + 10, y + h / 2, "No data", 13, "normal", "#888"))
        elif panel["type"] == "stat":
            parts.extend(_stat(series, panel["fieldConfig"]["defaults"], x + 10, y, h))
        else:
            parts.extend(_lines(series, x + 10, y + 34, w - 20, h - 64))
    body = "\n".join(parts)
    title = html.escape(dashboard["title"])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{24 * CELL_W}" height="{bottom + 10}" '
        f'font-family="sans-serif"><rect width="100%" height="100%" fill="#0b0c0e"/>'
        f"<title>{title}</title>\n{body}\n</svg>\n",
        drawn,
    )


def _stat(
    series: list[tuple[str, Series]], defaults: dict[str, Any], x: float, y: float, h: float
) -> list[str]:
    """The last value of each series as Grafana's stat shows it: the panel's unit and decimals."""

    def shown(values: Series) -> str:
        value = values[-1][1] if values else float("nan")
        decimals = defaults.get("decimals")
        if defaults.get("unit") == "percentunit":
            return f"{value * 100:.{1 if decimals is None else decimals}f}%"
        return f"{value:,.{decimals}f}" if decimals is not None else f"{value:,.4g}"

    if len(series) == 1:
        return [_text(x, y + h / 2 + 14, shown(series[0][1]), 34, "bold", COLORS[2])]
    rows = series[: max(1, int((h - 40) // 18))]
    return [
        _text(
            x,
            y + 44 + i * 18,
            f"{legend[:28]}  {shown(values)}",
            14,
            "bold",
            COLORS[i % len(COLORS)],
        )
        for i, (legend, values) in enumerate(rows)
    ]


def _text(x: float, y: float, text: str, size: int, weight: str, color: str = "#ccc") -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" font-weight="{weight}" '
        f'fill="{color}">{html.escape(text)}</text>'
    )


def _lines(series: list[tuple[str, Series]], x: float, y: float, w: float, h: float) -> list[str]:
    points = [p for _, s in series for p in s if p[1] == p[1]]  # drop NaN
    if not points:
        return [_text(x, y + h / 2, "NaN (no observations in range)", 12, "normal", "#888")]
    t0, t1 = min(p[0] for p in points), max(p[0] for p in points)
    v0, v1 = min(0.0, min(p[1] for p in points)), max(p[1] for p in points)
    span_t, span_v = (t1 - t0) or 1.0, (v1 - v0) or 1.0
    out = [_text(x, y + 10, f"max {v1:,.4g}", 10, "normal", "#888")]
    for i, (legend, values) in enumerate(series[: len(COLORS)]):
        coords = " ".join(
            f"{x + (t - t0) / span_t * w:.1f},{y + h - (v - v0) / span_v * h:.1f}"
            for t, v in values
            if v == v
        )
        color = COLORS[i % len(COLORS)]
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{coords}"/>')
        out.append(_text(x + (i % 3) * w / 3, y + h + 22, legend[:38], 10, "normal", color))
    return out
