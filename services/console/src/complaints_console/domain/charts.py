"""Server-rendered SVG charts for the reports (pure string building, labels escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

COLOURS = ("#2563eb", "#dc2626", "#9ca3af", "#16a34a", "#d97706")


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 520,
    bar_height: int = 22,
    colour: str = COLOURS[0],
    value_format: str = "{:g}",
) -> str:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    label_w, gap, top = 170, 6, 28
    height = top + len(items) * (bar_height + gap) + 8
    biggest = max((v for _, v in items), default=0) or 1
    scale = (width - label_w - 60) / biggest
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="16" font-size="14" font-weight="600">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_height + gap)
        w = max(1.0, value * scale) if value else 0.0
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_height - 6}" font-size="12" '
            f'text-anchor="end">{escape(label[:28])}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height - 6}" font-size="12">'
            f"{escape(value_format.format(value))}</text>"
        )
    if not items:
        parts.append(f'<text x="0" y="{top + 14}" font-size="12" fill="#6b7280">—</text>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_bars(
    items: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    legend: Sequence[str],
    width: int = 520,
    bar_height: int = 22,
) -> str:
    """Horizontal bars split into parts (e.g. met / breached / open), with a legend."""
    label_w, gap, top = 170, 6, 48
    height = top + len(items) * (bar_height + gap) + 8
    biggest = max((sum(parts) for _, parts in items), default=0) or 1
    scale = (width - label_w - 60) / biggest
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="16" font-size="14" font-weight="600">{escape(title)}</text>',
    ]
    x = 0
    for i, name in enumerate(legend):
        out.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{COLOURS[i % 5]}"/>')
        out.append(f'<text x="{x + 14}" y="35" font-size="11">{escape(name)}</text>')
        x += 14 + 8 * len(name) + 16
    for row, (label, parts) in enumerate(items):
        y = top + row * (bar_height + gap)
        out.append(
            f'<text x="{label_w - 6}" y="{y + bar_height - 6}" font-size="12" '
            f'text-anchor="end">{escape(label[:28])}</text>'
        )
        cursor = float(label_w)
        for i, value in enumerate(parts):
            w = value * scale
            if w > 0:
                out.append(
                    f'<rect x="{cursor:.1f}" y="{y}" width="{w:.1f}" height="{bar_height}" '
                    f'fill="{COLOURS[i % 5]}"/>'
                )
            cursor += w
        out.append(
            f'<text x="{cursor + 4:.1f}" y="{y + bar_height - 6}" font-size="12">'
            f"{escape(' / '.join(f'{v:g}' for v in parts))}</text>"
        )
    out.append("</svg>")
    return "".join(out)
