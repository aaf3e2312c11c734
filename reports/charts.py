"""Bar charts as inline SVG for the HTML report: no script, no font, nothing
fetched, so the page reads the same offline and on paper.

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says
the numbers in words; each bar is a `<rect class="bar">` whose `data-value`
holds the number it stands for ("none" where there is nothing to measure).
Every text passes through `html.escape`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

# Okabe–Ito colours: told apart with the common colour-vision deficiencies.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
LINE_COLOURS = ("#D55E00", "#117733", "#555555")

WIDTH = 720
FONT = 'font-family="system-ui, sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str  # what the bar stands for: "2027Q1", "es-2", a rule
    value: float | None  # None: nothing to measure (no bar drawn)
    text: str  # the value as a reader sees it: "43%", "no due contacts"
    series: int = 0  # index into SERIES_COLOURS


@dataclass(frozen=True)
class Group:
    """Bars side by side above one label of the category axis."""

    label: str
    bars: Sequence[Bar]


@dataclass(frozen=True)
class Line:
    """A horizontal reference line across a column chart (a benchmark, a target)."""

    value: float
    label: str


def data_value(value: float | None) -> str:
    """The `data-value` of a bar: the number exactly as given (repr round-trips)."""
    if value is None:
        return "none"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _a(text: str) -> str:
    return escape(text, quote=True)


def _open(chart_id: str, title: str, description: str, height: float) -> list[str]:
    return [
        f'<svg id="{_a(chart_id)}" class="chart" role="img" viewBox="0 0 {WIDTH} {_num(height)}"'
        f' width="100%" aria-labelledby="{_a(chart_id)}-title {_a(chart_id)}-desc" {FONT}>',
        f'<title id="{_a(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{_a(chart_id)}-desc">{escape(description)}</desc>',
    ]


def _legend(series: Sequence[str], x: float, y: float) -> list[str]:
    parts = []
    for i, name in enumerate(series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        cy = y + i * 20
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(cy - 11)}" width="14" height="14" fill="{colour}"/>'
            f'<text x="{_num(x + 20)}" y="{_num(cy)}" font-size="13">{escape(name)}</text>'
        )
    return parts


def column_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    groups: Sequence[Group],
    y_max: float,
    y_ticks: Sequence[float],
    y_tick_text: Callable[[float], str],
    y_label: str,
    x_label: str,
    lines: Sequence[Line] = (),
    series: Sequence[str] = (),
) -> str:
    """Vertical bars, grouped by category, with horizontal reference lines.

    `series` names the bars of a group in order (shown as a legend) when a
    group holds more than one.
    """
    top, bottom, left = 20.0, 60.0, 70.0
    right = 130.0 if series or lines else 20.0
    plot_h = 260.0
    height = top + plot_h + bottom
    plot_w = WIDTH - left - right
    base = top + plot_h

    def y_of(v: float) -> float:
        return base - plot_h * min(max(v, 0.0), y_max) / y_max

    parts = _open(chart_id, title, description, height)
    for tick in y_ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{_num(left)}" x2="{_num(left + plot_w)}" y1="{_num(y)}" y2="{_num(y)}"'
            ' stroke="#dddddd"/>'
            f'<text x="{_num(left - 8)}" y="{_num(y + 4)}" font-size="12" text-anchor="end">'
            f"{escape(y_tick_text(tick))}</text>"
        )
    n = max(len(groups), 1)
    slot = plot_w / n
    # Label at most ~10 categories, so that week labels do not overlap.
    label_every = max(1, math.ceil(n / 10))
    for i, group in enumerate(groups):
        x0 = left + i * slot
        inner = slot * 0.8
        bar_w = inner / max(len(group.bars), 1)
        parts.append(f'<g class="group" data-label="{_a(group.label)}">')
        for j, bar in enumerate(group.bars):
            x = x0 + slot * 0.1 + j * bar_w
            colour = SERIES_COLOURS[bar.series % len(SERIES_COLOURS)]
            y = y_of(bar.value) if bar.value is not None else base
            parts.append(
                f'<rect class="bar" data-value="{data_value(bar.value)}"'
                f' data-label="{_a(bar.label)}" x="{_num(x)}" y="{_num(y)}"'
                f' width="{_num(bar_w * 0.92)}" height="{_num(base - y)}" fill="{colour}">'
                f"<title>{escape(group.label)}, {escape(bar.label)}: {escape(bar.text)}</title>"
                "</rect>"
            )
            if bar_w >= 28 or bar.value is None:
                size = 13 if bar_w >= 28 else 10
                parts.append(
                    f'<text x="{_num(x + bar_w * 0.46)}" y="{_num(y - 5)}" font-size="{size}"'
                    f' text-anchor="middle">{escape(bar.text)}</text>'
                )
        parts.append("</g>")
        if i % label_every == 0:
            parts.append(
                f'<text x="{_num(x0 + slot / 2)}" y="{_num(base + 18)}" font-size="12"'
                f' text-anchor="middle">{escape(group.label)}</text>'
            )
    for k, line in enumerate(lines):
        y = y_of(line.value)
        colour = LINE_COLOURS[k % len(LINE_COLOURS)]
        parts.append(
            f'<line class="reference" data-value="{data_value(line.value)}" x1="{_num(left)}"'
            f' x2="{_num(left + plot_w)}" y1="{_num(y)}" y2="{_num(y)}" stroke="{colour}"'
            ' stroke-width="2" stroke-dasharray="8 4"/>'
            f'<text x="{_num(left + plot_w + 8)}" y="{_num(y + 4)}" font-size="13"'
            f' fill="{colour}">{escape(line.label)}</text>'
        )
    parts.append(
        f'<line x1="{_num(left)}" x2="{_num(left + plot_w)}" y1="{_num(base)}" y2="{_num(base)}"'
        ' stroke="#333333"/>'
        f'<line x1="{_num(left)}" x2="{_num(left)}" y1="{_num(top)}" y2="{_num(base)}"'
        ' stroke="#333333"/>'
        f'<text class="axis-label" x="{_num(left + plot_w / 2)}" y="{_num(height - 15)}"'
        f' font-size="14" text-anchor="middle">{escape(x_label)}</text>'
        f'<text class="axis-label" x="20" y="{_num(top + plot_h / 2)}" font-size="14"'
        f' text-anchor="middle" transform="rotate(-90 20 {_num(top + plot_h / 2)})">'
        f"{escape(y_label)}</text>"
    )
    if len(series) > 1:
        parts.extend(_legend(series, left + plot_w + 8, top + 10 + 20 * len(lines) + 30))
    parts.append("</svg>")
    return "".join(parts)


def share_bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    x_label: str,
    y_label: str,
) -> str:
    """Horizontal bars for shares, from 0 to 100%, one row per bar."""
    top, left, right, row = 30.0, 190.0, 140.0, 30.0
    plot_w = WIDTH - left - right
    plot_h = row * max(len(bars), 1)
    height = top + plot_h + 60

    parts = _open(chart_id, title, description, height)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = left + plot_w * tick
        parts.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{_num(top)}" y2="{_num(top + plot_h)}"'
            ' stroke="#dddddd"/>'
            f'<text x="{_num(x)}" y="{_num(top + plot_h + 18)}" font-size="12"'
            f' text-anchor="middle">{tick:.0%}</text>'
        )
    for i, bar in enumerate(bars):
        y = top + i * row
        share = min(max(bar.value, 0.0), 1.0) if bar.value is not None else 0.0
        colour = SERIES_COLOURS[bar.series % len(SERIES_COLOURS)]
        parts.append(
            f'<text x="{_num(left - 8)}" y="{_num(y + row / 2 + 4)}" font-size="13"'
            f' text-anchor="end">{escape(bar.label)}</text>'
            f'<rect class="bar" data-value="{data_value(bar.value)}" data-label="{_a(bar.label)}"'
            f' x="{_num(left)}" y="{_num(y + 6)}" width="{_num(plot_w * share)}"'
            f' height="{_num(row - 12)}" fill="{colour}">'
            f"<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>"
            f'<text x="{_num(left + plot_w * share + 6)}" y="{_num(y + row / 2 + 4)}"'
            f' font-size="13">{escape(bar.text)}</text>'
        )
    parts.append(
        f'<line x1="{_num(left)}" x2="{_num(left)}" y1="{_num(top)}" y2="{_num(top + plot_h)}"'
        ' stroke="#333333"/>'
        f'<text class="axis-label" x="{_num(left + plot_w / 2)}" y="{_num(height - 12)}"'
        f' font-size="14" text-anchor="middle">{escape(x_label)}</text>'
        f'<text class="axis-label" x="{_num(left - 8)}" y="{_num(top - 6)}" font-size="14"'
        f' text-anchor="end">{escape(y_label)}</text>'
        "</svg>"
    )
    return "".join(parts)
