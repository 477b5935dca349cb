"""Inline SVG charts (line charts, stacked and grouped bar charts) with axes, tick labels, axis titles and a
legend. Every chart's root is <svg data-plot="<id>">; its data elements carry class "series" (lines) or "bar"
(bars) and a <title> tooltip with the exact value. Line charts may carry labelled horizontal reference lines
(<g class="reference" data-reference="<name>">: a dashed line across the plot and its label), such as the
PSNR of a classical baseline."""

from __future__ import annotations

import html
import math
from typing import Callable, Sequence

WIDTH = 640
PLOT_HEIGHT = 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP = 72, 20, 44
FONT = 12
CHAR_WIDTH = 7.0  # estimate of a character's width at FONT px, for the legend layout

# Tableau-like qualitative palette: distinguishable, also in grey print.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round tick values covering [lo, hi] (about `count` of them)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step + 1e-9) * step
    stop = math.ceil(hi / step - 1e-9) * step
    n = int(round((stop - start) / step))
    return [start + i * step for i in range(n + 1)]


def tick_label(value: float, ticks: Sequence[float]) -> str:
    """`value` with as many decimals as the tick step needs (0.25 steps: two, 0.1 steps: one)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = 0
    if step > 0:
        exponent = math.floor(math.log10(step) + 1e-9)
        mantissa = step / 10 ** exponent
        decimals = max(0, -exponent + (1 if math.isclose(mantissa, 2.5, rel_tol=1e-6) else 0))
    text = f"{value:.{min(decimals, 6)}f}"
    return "0" if float(text) == 0 else text


class _Frame:
    """Axes of a chart: maps data to pixels and draws the grid, ticks, titles."""

    def __init__(self, x_ticks: list[float] | None, y_ticks: list[float], height: int):
        self.x_ticks = x_ticks
        self.y_ticks = y_ticks
        self.left, self.right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, MARGIN_TOP + height

    def x(self, value: float) -> float:
        lo, hi = self.x_ticks[0], self.x_ticks[-1]
        return self.left + (value - lo) / (hi - lo) * (self.right - self.left)

    def y(self, value: float) -> float:
        lo, hi = self.y_ticks[0], self.y_ticks[-1]
        return self.bottom - (value - lo) / (hi - lo) * (self.bottom - self.top)

    def draw(self, title: str, x_title: str, y_title: str) -> list[str]:
        out = [f'<text class="title" x="{WIDTH / 2:.1f}" y="20" text-anchor="middle" font-size="15" '
               f'font-weight="bold">{_e(title)}</text>']
        out.append('<g class="axis y-axis">')
        for t in self.y_ticks:
            y = self.y(t)
            out.append(f'<line x1="{self.left}" x2="{self.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>')
            out.append(f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{FONT}">'
                       f'{_e(tick_label(t, self.y_ticks))}</text>')
        cy = (self.top + self.bottom) / 2
        out.append(f'<text class="axis-title" x="18" y="{cy:.1f}" text-anchor="middle" font-size="13" '
                   f'transform="rotate(-90 18 {cy:.1f})">{_e(y_title)}</text>')
        out.append('</g><g class="axis x-axis">')
        if self.x_ticks is not None:
            for t in self.x_ticks:
                x = self.x(t)
                out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.top}" y2="{self.bottom}" stroke="#f0f0f0"/>')
                out.append(f'<text x="{x:.1f}" y="{self.bottom + 16}" text-anchor="middle" font-size="{FONT}">'
                           f'{_e(tick_label(t, self.x_ticks))}</text>')
        out.append(f'<text class="axis-title" x="{(self.left + self.right) / 2:.1f}" y="{self.bottom + 36}" '
                   f'text-anchor="middle" font-size="13">{_e(x_title)}</text>')
        out.append(f'<line x1="{self.left}" x2="{self.right}" y1="{self.bottom}" y2="{self.bottom}" stroke="#333"/>')
        out.append(f'<line x1="{self.left}" x2="{self.left}" y1="{self.top}" y2="{self.bottom}" stroke="#333"/>')
        out.append('</g>')
        return out


# Dash patterns cycled over the lines of a line chart, so that lines lying on each other stay visible.
DASHES = ["", "7 4", "2 3", "10 3 2 3"]


def _dash(index: int) -> str:
    pattern = DASHES[index % len(DASHES)]
    return f' stroke-dasharray="{pattern}"' if pattern else ""


def _legend(items: list[tuple[str, str]], top: float, lines: bool = False) -> tuple[list[str], float]:
    """Legend entries (label, colour) laid out in rows from `top` (a dashed line sample for line charts, a
    square for bars); returns the elements and the bottom."""
    out = ['<g class="legend">']
    x, y = MARGIN_LEFT, top
    for index, (label, fill) in enumerate(items):
        sample = 26 if lines else 14
        width = sample + 6 + CHAR_WIDTH * len(label) + 18
        if x + width > WIDTH - MARGIN_RIGHT and x > MARGIN_LEFT:
            x, y = MARGIN_LEFT, y + 20
        mark = (f'<line x1="{x:.1f}" x2="{x + sample:.1f}" y1="{y - 4:.1f}" y2="{y - 4:.1f}" stroke="{fill}" '
                f'stroke-width="2.5"{_dash(index)}/>' if lines else
                f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="14" height="12" fill="{fill}"/>')
        out.append(f'<g class="legend-item" data-series="{_e(label)}">{mark}'
                   f'<text x="{x + sample + 6:.1f}" y="{y:.1f}" font-size="{FONT}">{_e(label)}</text></g>')
        x += width
    out.append('</g>')
    return out, y + 12


def _wrap(plot_id: str, title: str, body: list[str], height: float) -> str:
    h = int(math.ceil(height + 8))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" data-plot="{_e(plot_id)}" role="img" '
            f'aria-label="{_e(title)}" viewBox="0 0 {WIDTH} {h}" width="{WIDTH}" height="{h}" '
            f'font-family="DejaVu Sans, Arial, sans-serif"><title>{_e(title)}</title>'
            + "".join(body) + "</svg>")


def _no_data(frame: _Frame) -> str:
    return (f'<text class="no-data" x="{(frame.left + frame.right) / 2:.1f}" y="{(frame.top + frame.bottom) / 2:.1f}" '
            f'text-anchor="middle" font-size="14" fill="#888">no data</text>')


REFERENCE_LABEL_GAP = 13  # px between the labels of reference lines


def _references(frame: _Frame, references: list[tuple[str, str, float, str]]) -> list[str]:
    """Horizontal dashed lines at y = value across the plot, labelled at their right end; labels that would
    overlap are moved apart vertically (the line stays at its value)."""
    if not references:
        return []
    ordered = sorted(references, key=lambda r: -r[2])  # top to bottom
    label_y = []
    for _, _, value, _ in ordered:
        y = frame.y(value) - 3
        if label_y and y < label_y[-1] + REFERENCE_LABEL_GAP:
            y = label_y[-1] + REFERENCE_LABEL_GAP
        label_y.append(y)
    overflow = label_y[-1] - (frame.bottom - 2) if label_y else 0
    if overflow > 0:  # pushed below the axis: move the whole stack up
        label_y = [y - overflow for y in label_y]
    out = ['<g class="references">']
    for (label, stroke, value, tooltip), ty in zip(ordered, label_y):
        y = frame.y(value)
        out.append(f'<g class="reference" data-reference="{_e(label)}" data-value="{value:.6g}">'
                   f'<line x1="{frame.left}" x2="{frame.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{stroke}" '
                   f'stroke-width="1.5" stroke-dasharray="6 4"/>'
                   f'<text x="{frame.right - 4}" y="{ty:.1f}" text-anchor="end" font-size="{FONT - 1}" '
                   f'fill="{stroke}" stroke="#fff" stroke-width="3" paint-order="stroke">{_e(label)}</text>'
                   f'<title>{_e(tooltip)}</title></g>')
    out.append('</g>')
    return out


def line_chart(plot_id: str, title: str, x_title: str, y_title: str,
               series: list[tuple[str, str, list[tuple[float, float]]]],
               x_format: Callable[[float], str] = lambda v: f"{v:g}",
               y_format: Callable[[float], str] = lambda v: f"{v:.2f}",
               references: list[tuple[str, str, float, str]] | None = None) -> str:
    """One polyline (with point markers and tooltips) per (label, colour, points); each reference
    (label, colour, y value, tooltip) a labelled horizontal dashed line (the y range covers it)."""
    references = [r for r in references or [] if math.isfinite(r[2])]
    xs = [p[0] for _, _, pts in series for p in pts]
    ys = [p[1] for _, _, pts in series for p in pts] + [r[2] for r in references]
    frame = _Frame(nice_ticks(min(xs, default=0), max(xs, default=1)),
                   nice_ticks(min(ys, default=0), max(ys, default=1)), PLOT_HEIGHT)
    body = frame.draw(title, x_title, y_title)
    if not xs:
        body.append(_no_data(frame))
    body += _references(frame, references)
    for index, (label, stroke, points) in enumerate(series):
        if not points:
            continue
        d = " ".join(f"{'M' if i == 0 else 'L'}{frame.x(x):.1f},{frame.y(y):.1f}" for i, (x, y) in enumerate(points))
        body.append(f'<g class="series" data-series="{_e(label)}"><path d="{d}" fill="none" stroke="{stroke}" '
                    f'stroke-width="2"{_dash(index)}/>')
        for x, y in points:
            body.append(f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="2.5" fill="{stroke}">'
                        f'<title>{_e(label)}: {_e(x_title)} {_e(x_format(x))}, {_e(y_title)} {_e(y_format(y))}'
                        f'</title></circle>')
        body.append('</g>')
    legend, bottom = _legend([(label, c) for label, c, _ in series], frame.bottom + 62, lines=True)
    return _wrap(plot_id, title, body + legend, bottom)


def bar_chart(plot_id: str, title: str, y_title: str, categories: list[list[str]],
              series: list[tuple[str, str, list[float | None]]], stacked: bool,
              value_format: Callable[[float], str] = lambda v: f"{v:.3g}") -> str:
    """Bars per category (each category label a list of lines), the series stacked or side by side.
    None values are left out (drawn as nothing)."""
    n = len(categories)
    if stacked:
        totals = [sum(v[i] or 0 for _, _, v in series) for i in range(n)]
    else:
        totals = [max((v[i] or 0 for _, _, v in series), default=0) for i in range(n)]
    top = max(totals, default=0)
    frame = _Frame(None, nice_ticks(0, top if top > 0 else 1), PLOT_HEIGHT)
    body = frame.draw(title, "", y_title)
    has_data = any(v is not None for _, _, values in series for v in values)
    if not has_data:
        body.append(_no_data(frame))
    slot = (frame.right - frame.left) / max(1, n)
    bar_width = min(90.0, slot * 0.7)
    for i, lines in enumerate(categories):
        center = frame.left + slot * (i + 0.5)
        for k, line in enumerate(lines):
            body.append(f'<text class="category" x="{center:.1f}" y="{frame.bottom + 16 + 14 * k}" '
                        f'text-anchor="middle" font-size="{FONT if k == 0 else FONT - 2}">{_e(line)}</text>')
        base = 0.0
        count = len(series)
        for s, (name, fill, values) in enumerate(series):
            value = values[i]
            if value is None:
                continue
            if stacked:
                x, w = center - bar_width / 2, bar_width
                y0, y1 = frame.y(base + value), frame.y(base)
                base += value
            else:
                w = bar_width / max(1, count)
                x = center - bar_width / 2 + s * w
                y0, y1 = frame.y(value), frame.y(0)
            body.append(f'<rect class="bar" data-series="{_e(name)}" x="{x:.1f}" y="{y0:.1f}" width="{w:.1f}" '
                        f'height="{max(0.0, y1 - y0):.1f}" fill="{fill}"><title>{_e(lines[0])}: {_e(name)} '
                        f'{_e(value_format(value))}</title></rect>')
    label_lines = max((len(c) for c in categories), default=1)
    legend, bottom = _legend([(name, c) for name, c, _ in series], frame.bottom + 30 + 14 * label_lines)
    return _wrap(plot_id, title, body + legend, bottom)
