"""Charts for printed reports: small, plain SVG drawn from the same figures as the tables.

Each function returns one ``<svg>`` element as text, ready to place inline in a report's HTML. The
charts are meant for paper: a 680-unit wide drawing that prints about 170 mm wide, labels at about 8
point, colours from the Okabe–Ito palette (distinguishable with the common colour-vision
deficiencies) and blues that still read apart in greyscale for ordered categories (stages, ages). Every
label is escaped: district names and reasons come from the database. Every chart carries a ``<title>``
and ``role="img"`` so a screen reader announces it; the table beside it holds the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 680
FONT = 'font-family="Atkinson Hyperlegible, sans-serif"'
INK = "#1d1d1b"
GRID = "#d9d9d9"

#: Okabe–Ito: for unordered categories (priorities, outcomes).
QUALITATIVE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: Light to dark blue: for ordered categories (stages 0–4, age bands).
SEQUENTIAL = ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b")
URGENT = "#D55E00"
NON_URGENT = "#0072B2"


@dataclass(frozen=True)
class Series:
    """One named run of values, one per category, and the colour it is drawn in."""

    name: str
    values: Sequence[float]
    colour: str


def sequential(count: int) -> tuple[str, ...]:
    """``count`` blues from light to dark, spread across :data:`SEQUENTIAL`."""
    if count <= 1:
        return SEQUENTIAL[3:4]
    step = (len(SEQUENTIAL) - 1) / (count - 1)
    return tuple(SEQUENTIAL[round(i * step)] for i in range(count))


def nice_scale(largest: float, ticks: int = 5) -> tuple[float, float]:
    """An axis top and tick step that are round numbers (1, 2, 2.5 or 5 × a power of ten) above ``largest``."""
    if largest <= 0:
        return 1.0, 1.0
    rough = largest / ticks
    power = 10 ** math.floor(math.log10(rough))
    # Counts and days are whole numbers: no fractional steps (2.5 only from 25 up).
    steps = [m * power for m in (1, 2, 2.5, 5, 10) if float(m * power).is_integer()]
    step = next((s for s in steps if s >= rough), 1.0)
    return math.ceil(largest / step) * step, step


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = 11,
    anchor: str = "start",
    weight: str = "normal",
    fill: str = INK,
    extra: str = "",
) -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{bold} '
        f"{FONT}{extra}>{escape(content)}</text>"
    )


def _svg(height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
        f'height="{height:.0f}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _legend(series: Sequence[Series], y: float, left: float) -> list[str]:
    parts, x = [], left
    for s in series:
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{s.colour}"/>')
        parts.append(_text(x + 14, y, s.name))
        x += 14 + 6.2 * len(s.name) + 18
    return parts


def column_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    axis_label: str,
    stacked: bool = True,
    height: int = 250,
    value_label: Callable[[float], str] = _number,
) -> str | None:
    """Vertical columns, one group per category: stacked (parts of a whole) or side by side.

    Stacked columns carry their total on top; side-by-side columns each carry their value. None when
    every value is zero (a chart of nothing is left out).
    """
    if not has_figures(series):
        return None
    left, right, top, bottom = 56, 10, 28, 44
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    largest = max(totals if stacked else [v for s in series for v in s.values], default=0)
    axis_top, step = nice_scale(largest)
    scale = plot_h / axis_top
    body = _legend(series, 14, left)
    body += _grid(left, top, plot_w, plot_h, axis_top, step)
    body.append(
        _text(
            14,
            top + plot_h / 2,
            axis_label,
            anchor="middle",
            extra=f' transform="rotate(-90 14 {top + plot_h / 2:.1f})"',
        )
    )
    band = plot_w / max(len(categories), 1)
    bar_w = band * (0.62 if stacked else 0.8 / max(len(series), 1))
    for i, category in enumerate(categories):
        x0 = left + band * i + (band - (bar_w if stacked else bar_w * len(series))) / 2
        base: float = top + plot_h
        for j, s in enumerate(series):
            value = s.values[i]
            h = value * scale
            x = x0 if stacked else x0 + j * bar_w
            y = base - h if stacked else top + plot_h - h
            if h > 0:
                body.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - (0 if stacked else 2):.1f}" height="{h:.1f}" fill="{s.colour}"/>'
                )
            if not stacked and value:
                body.append(_text(x + (bar_w - 2) / 2, y - 3, value_label(value), size=9, anchor="middle"))
            if stacked:
                base -= h
        if stacked and totals[i]:
            body.append(
                _text(
                    x0 + bar_w / 2, base - 4, value_label(totals[i]), size=10, anchor="middle", weight="bold"
                )
            )
        body.extend(_wrapped(left + band * i + band / 2, top + plot_h + 15, category, band))
    return _svg(height, title, body)


def _grid(left: float, top: float, width: float, height: float, axis_top: float, step: float) -> list[str]:
    parts = []
    ticks = round(axis_top / step)
    for k in range(ticks + 1):
        value = step * k
        y = top + height - height * value / axis_top
        colour = INK if k == 0 else GRID
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" stroke="{colour}" stroke-width="{1 if k == 0 else 0.6}"/>'
        )
        parts.append(_text(left - 6, y + 4, _number(value), size=10, anchor="end"))
    return parts


def _wrapped(x: float, y: float, label: str, band: float) -> list[str]:
    """A category label under its column, on two lines if it is wider than the column."""
    room = max(int(band / 6.0), 6)
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return [_text(x, y + 12 * n, text, size=10, anchor="middle") for n, text in enumerate(lines[:2])]


def _value_axis(
    left: float, top: float, width: float, height: float, scale: tuple[float, float], label: str
) -> list[str]:
    """The vertical grid lines and the value scale under a horizontal chart."""
    axis_top, step = scale
    parts = []
    ticks = round(axis_top / step)
    for k in range(ticks + 1):
        x = left + width * k / ticks
        colour, stroke = (INK, 1.0) if k == 0 else (GRID, 0.6)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + height}" stroke="{colour}" stroke-width="{stroke}"/>'
        )
        parts.append(_text(x, top + height + 14, _number(step * k), size=10, anchor="middle"))
    parts.append(_text(left + width / 2, top + height + 30, label, size=10, anchor="middle"))
    return parts


def _fit(label: str, width: float) -> str:
    """``label`` cut with an ellipsis to fit ``width`` units at the 10-unit label size."""
    room = int(width / 5.4)
    return label if len(label) <= room else label[: room - 1] + "…"


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    axis_label: str,
    value_label: Callable[[float], str] = _number,
    label_width: int = 190,
    legend: bool = True,
) -> str | None:
    """Horizontal bars, one per category (stacked when there are several series): for long labels such
    as district names and closure reasons. Each bar carries its total at its end. None when every value
    is zero."""
    if not has_figures(series):
        return None
    left, right, top, row = label_width, 50, 30 if legend else 8, 18
    plot_w, plot_h = WIDTH - left - right, row * len(categories)
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    axis_top, step = nice_scale(max(totals, default=0))
    scale = plot_w / axis_top
    body = _legend(series, 14, left) if legend else []
    body += _value_axis(left, top, plot_w, plot_h, (axis_top, step), axis_label)
    for i, category in enumerate(categories):
        y = top + row * i + 3
        body.append(_text(left - 8, y + 10, _fit(category, left - 12), size=10, anchor="end"))
        x = float(left)
        for s in series:
            w = s.values[i] * scale
            if w > 0:
                body.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{row - 6}" fill="{s.colour}"/>'
                )
            x += w
        if totals[i]:
            body.append(_text(x + 4, y + 10, value_label(totals[i]), size=10))
    return _svg(top + plot_h + 34, title, body)


def line_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    axis_label: str,
    height: int = 230,
) -> str | None:
    """Lines over time (months), with a dot at each value: for throughput. None when every value is zero."""
    if not has_figures(series):
        return None
    left, right, top, bottom = 56, 14, 28, 36
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    axis_top, step = nice_scale(max((v for s in series for v in s.values), default=0))
    body = _legend(series, 14, left)
    body += _grid(left, top, plot_w, plot_h, axis_top, step)
    body.append(
        _text(
            14,
            top + plot_h / 2,
            axis_label,
            anchor="middle",
            extra=f' transform="rotate(-90 14 {top + plot_h / 2:.1f})"',
        )
    )
    count = max(len(categories), 1)
    band = plot_w / count

    def x_of(i: int) -> float:
        return left + band * i + band / 2

    for i, category in enumerate(categories):
        body.append(_text(x_of(i), top + plot_h + 15, category, size=10, anchor="middle"))
    for s in series:
        points = [(x_of(i), top + plot_h - plot_h * v / axis_top) for i, v in enumerate(s.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2"/>')
        body.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{s.colour}"/>' for x, y in points)
    return _svg(height, title, body)


@dataclass(frozen=True)
class Spread:
    """A row of a :func:`spread_chart`: median and 90th percentile, and an optional target line."""

    label: str
    median: float | None
    p90: float | None
    colour: str
    target: float | None = None


def spread_chart(
    rows: Sequence[Spread],
    *,
    title: str,
    axis_label: str,
    legend: Sequence[tuple[str, str]] = (("median", QUALITATIVE[0]),),
    label_width: int = 230,
) -> str | None:
    """How long intervals took: a bar to the median, a whisker on to the 90th percentile, and a dark tick
    at the target where there is one. ``legend`` names the bars' colours. Rows without figures say so;
    None when no row has any."""
    if all(r.median is None for r in rows):
        return None
    left, right, top, row = label_width, 40, 30, 18
    plot_w, plot_h = WIDTH - left - right, row * len(rows)
    largest = max([v for r in rows for v in (r.p90, r.target) if v is not None], default=0)
    axis_top, step = nice_scale(largest)
    scale = plot_w / axis_top
    body, x = [], 10.0  # the legend runs from the left edge: the labels column is often wide
    for name, colour in legend:
        body += [f'<rect x="{x:.1f}" y="5" width="10" height="10" fill="{colour}"/>', _text(x + 14, 14, name)]
        x += 14 + 6.2 * len(name) + 18
    body += [
        f'<line x1="{x:.1f}" y1="10" x2="{x + 24:.1f}" y2="10" stroke="{INK}" stroke-width="1.4"/>',
        f'<line x1="{x + 24:.1f}" y1="6" x2="{x + 24:.1f}" y2="14" stroke="{INK}" stroke-width="1.4"/>',
        _text(x + 30, 14, "to 90th percentile"),
    ]
    if any(r.target is not None for r in rows):
        x += 30 + 6.2 * len("to 90th percentile") + 18
        body += [
            f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="16" stroke="{INK}" stroke-width="3"/>',
            _text(x + 6, 14, "target"),
        ]
    body += _value_axis(left, top, plot_w, plot_h, (axis_top, step), axis_label)
    for i, r in enumerate(rows):
        y = top + row * i + 3
        body.append(_text(left - 8, y + 10, _fit(r.label, left - 12), size=10, anchor="end"))
        if r.median is None or r.p90 is None:
            body.append(_text(left + 6, y + 10, "no cases", size=9, fill="#595959"))
            continue
        mid, median_x, p90_x = y + (row - 6) / 2, left + r.median * scale, left + r.p90 * scale
        body += [
            f'<rect x="{left}" y="{y:.1f}" width="{median_x - left:.1f}" height="{row - 6}" fill="{r.colour}"/>',
            f'<line x1="{median_x:.1f}" y1="{mid:.1f}" x2="{p90_x:.1f}" y2="{mid:.1f}" stroke="{INK}" stroke-width="1.4"/>',
            f'<line x1="{p90_x:.1f}" y1="{mid - 4:.1f}" x2="{p90_x:.1f}" y2="{mid + 4:.1f}" stroke="{INK}" stroke-width="1.4"/>',
        ]
        if r.target is not None:
            tx = left + r.target * scale
            body.append(
                f'<line x1="{tx:.1f}" y1="{y - 2:.1f}" x2="{tx:.1f}" y2="{y + row - 4:.1f}" stroke="{INK}" stroke-width="3"/>'
            )
    return _svg(top + plot_h + 34, title, body)


def has_figures(series: Sequence[Series]) -> bool:
    """Whether any value is above zero: a chart of nothing but zeros is left out of the report."""
    return any(v > 0 for s in series for v in s.values)
