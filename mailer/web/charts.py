"""Bar charts drawn as inline SVG on the server: no script, no chart library, readable when printed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

DEFAULT_COLOR = "#3567a8"
TEXT_COLOR = "#1f2933"
MUTED_COLOR = "#6b7785"
GRID_COLOR = "#d8dee6"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its label, its value, how the value is written, and its colour."""

    label: str
    value: int
    value_text: str = ""
    color: str = DEFAULT_COLOR

    @property
    def text(self) -> str:
        """Return the value as written on the chart."""
        return self.value_text or str(self.value)


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _baseline(x1: int, x2: int, y: int) -> str:
    return f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{GRID_COLOR}" stroke-width="1"/>'


def horizontal_bars(
    bars: Sequence[Bar], *, title: str, width: int = 560, label_width: int = 160, row_height: int = 34
) -> Markup:
    """Draw one labelled horizontal bar per item, longest = the largest value."""
    value_width = 80
    track = width - label_width - value_width
    top = max((bar.value for bar in bars), default=0) or 1
    body: list[str] = []
    for index, bar in enumerate(bars):
        y = index * row_height
        length = round(track * bar.value / top)
        middle = y + row_height / 2
        body.append(
            f'<text x="{label_width - 10}" y="{middle}" text-anchor="end" dominant-baseline="middle" '
            f'font-size="14" fill="{TEXT_COLOR}">{escape(bar.label)}</text>'
            f'<rect x="{label_width}" y="{y + 6}" width="{track}" height="{row_height - 12}" '
            f'fill="#f1f4f8" rx="3"/>'
            f'<rect x="{label_width}" y="{y + 6}" width="{length}" height="{row_height - 12}" '
            f'fill="{escape(bar.color)}" rx="3"/>'
            f'<text x="{label_width + track + 8}" y="{middle}" dominant-baseline="middle" font-size="14" '
            f'fill="{TEXT_COLOR}">{escape(bar.text)}</text>'
        )
    return _svg(width, max(row_height * len(bars), row_height), title, body)


def column_chart(
    bars: Sequence[Bar], *, title: str, width: int = 560, height: int = 260, axis_label: str = ""
) -> Markup:
    """Draw vertical columns side by side (a histogram), each labelled below and valued above."""
    left, right, top_margin, bottom_margin = 8, 8, 24, 44 if axis_label else 26
    plot_height = height - top_margin - bottom_margin
    slot = (width - left - right) / max(len(bars), 1)
    top = max((bar.value for bar in bars), default=0) or 1
    baseline = top_margin + plot_height
    body = [_baseline(left, width - right, baseline)]
    for index, bar in enumerate(bars):
        column = round(plot_height * bar.value / top, 1)
        x = left + index * slot
        center = x + slot / 2
        body.append(
            f'<rect x="{x + slot * 0.12:.1f}" y="{baseline - column}" width="{slot * 0.76:.1f}" '
            f'height="{column}" fill="{escape(bar.color)}" rx="2"/>'
            f'<text x="{center:.1f}" y="{baseline - column - 6}" text-anchor="middle" font-size="13" '
            f'fill="{TEXT_COLOR}">{escape(bar.text)}</text>'
            f'<text x="{center:.1f}" y="{baseline + 17}" text-anchor="middle" font-size="13" '
            f'fill="{MUTED_COLOR}">{escape(bar.label)}</text>'
        )
    if axis_label:
        body.append(
            f'<text x="{width / 2}" y="{height - 6}" text-anchor="middle" font-size="14" '
            f'fill="{MUTED_COLOR}">{escape(axis_label)}</text>'
        )
    return _svg(width, height, title, body)


@dataclass(frozen=True, slots=True)
class Series:
    """One stacked part of every column: its name in the legend and its colour."""

    label: str
    color: str = DEFAULT_COLOR


def _legend(series: Sequence[Series], *, left: int, top: int, span: int, legend_width: int) -> tuple[list[str], int]:
    """Return one colour swatch and name per series, as many to a row as fit ``span``, and the legend's height."""
    per_row = max(1, span // legend_width)
    entries = []
    for index, part in enumerate(series):
        x = left + (index % per_row) * legend_width
        y = top + (index // per_row) * 24
        entries.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{escape(part.color)}" rx="2"/>'
            f'<text x="{x + 20}" y="{y + 7}" dominant-baseline="middle" font-size="13" '
            f'fill="{TEXT_COLOR}">{escape(part.label)}</text>'
        )
    return entries, -(-len(series) // per_row) * 24 + 8


def stacked_columns(
    labels: Sequence[str],
    series: Sequence[Series],
    values: Sequence[Sequence[int]],
    *,
    title: str,
    width: int = 560,
    height: int = 260,
    axis_label: str = "",
    legend_width: int = 240,
    format_value: Callable[[int], str] = str,
) -> Markup:
    """Draw one column per label, stacked from ``values[series][column]`` bottom up, totalled above.

    ``height`` is that of the columns with their labels; the legend goes under them, as many
    entries to a row as fit ``legend_width`` each. Every part has a tooltip naming its series.
    """
    left, right, top_margin = 8, 8, 24
    label_band = 44 if axis_label else 26
    plot_height = height - top_margin - label_band
    slot = (width - left - right) / max(len(labels), 1)
    totals = [sum(part[column] for part in values) for column in range(len(labels))]
    top = max(totals, default=0) or 1
    baseline = top_margin + plot_height
    body = [_baseline(left, width - right, baseline)]
    for column, (label, total) in enumerate(zip(labels, totals, strict=True)):
        x = left + column * slot
        center = x + slot / 2
        y = float(baseline)
        for part, counts in zip(series, values, strict=True):
            if not counts[column]:
                continue
            size = round(plot_height * counts[column] / top, 1)
            y -= size
            body.append(
                f'<rect x="{x + slot * 0.12:.1f}" y="{y:.1f}" width="{slot * 0.76:.1f}" height="{size}" '
                f'fill="{escape(part.color)}"><title>{escape(part.label)}: {escape(format_value(counts[column]))}'
                "</title></rect>"
            )
        body.append(
            f'<text x="{center:.1f}" y="{y - 6:.1f}" text-anchor="middle" font-size="13" '
            f'fill="{TEXT_COLOR}">{escape(format_value(total))}</text>'
            f'<text x="{center:.1f}" y="{baseline + 17}" text-anchor="middle" font-size="13" '
            f'fill="{MUTED_COLOR}">{escape(label)}</text>'
        )
    if axis_label:
        body.append(
            f'<text x="{width / 2}" y="{baseline + label_band - 6}" text-anchor="middle" font-size="14" '
            f'fill="{MUTED_COLOR}">{escape(axis_label)}</text>'
        )
    legend, legend_height = _legend(
        series, left=left, top=height + 8, span=width - left - right, legend_width=legend_width
    )
    body.extend(legend)
    return _svg(width, height + legend_height, title, body)


def grouped_columns(
    labels: Sequence[str],
    series: Sequence[Series],
    values: Sequence[Sequence[float]],
    *,
    title: str,
    top: float = 1.0,
    width: int = 560,
    height: int = 260,
    axis_label: str = "",
    legend_width: int = 240,
    format_value: Callable[[float], str] = str,
) -> Markup:
    """Draw, per label, one column of each series side by side, ``values[series][column]`` high out of ``top``.

    For comparing figures of one scale (a share predicted beside the share observed): the height of
    every column is its value against ``top``, not against the largest value. Each column carries
    its value as a tooltip and, above it, as text.
    """
    left, right, top_margin = 8, 8, 24
    label_band = 44 if axis_label else 26
    plot_height = height - top_margin - label_band
    slot = (width - left - right) / max(len(labels), 1)
    column_width = slot * 0.8 / max(len(series), 1)
    baseline = top_margin + plot_height
    body = [_baseline(left, width - right, baseline)]
    for column, label in enumerate(labels):
        x = left + column * slot + slot * 0.1
        for index, (part, counts) in enumerate(zip(series, values, strict=True)):
            value = counts[column]
            size = round(plot_height * max(0.0, min(value, top)) / top, 1)
            cx = x + index * column_width
            body.append(
                f'<rect x="{cx:.1f}" y="{baseline - size:.1f}" width="{column_width * 0.92:.1f}" height="{size}" '
                f'fill="{escape(part.color)}"><title>{escape(part.label)}: {escape(format_value(value))}</title></rect>'
                f'<text x="{cx + column_width * 0.46:.1f}" y="{baseline - size - 4:.1f}" text-anchor="middle" '
                f'font-size="10" fill="{TEXT_COLOR}">{escape(format_value(value))}</text>'
            )
        body.append(
            f'<text x="{left + column * slot + slot / 2:.1f}" y="{baseline + 17}" text-anchor="middle" '
            f'font-size="12" fill="{MUTED_COLOR}">{escape(label)}</text>'
        )
    if axis_label:
        body.append(
            f'<text x="{width / 2}" y="{baseline + label_band - 6}" text-anchor="middle" font-size="13" '
            f'fill="{MUTED_COLOR}">{escape(axis_label)}</text>'
        )
    legend, legend_height = _legend(
        series, left=left, top=height + 8, span=width - left - right, legend_width=legend_width
    )
    body.extend(legend)
    return _svg(width, height + legend_height, title, body)
