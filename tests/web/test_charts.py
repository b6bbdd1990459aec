"""The SVG bar charts: sizes follow the values, text is escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from mailer.web.charts import Bar, Series, column_chart, grouped_columns, horizontal_bars, stacked_columns

SVG = "{http://www.w3.org/2000/svg}"


def test_horizontal_bars_are_as_long_as_their_values() -> None:
    svg = horizontal_bars([Bar("a", 50), Bar("b", 100), Bar("c", 0)], title="T", width=560, label_width=160)
    root = ET.fromstring(str(svg))
    widths = [float(r.get("width", 0)) for r in root.iter(f"{SVG}rect")][1::2]  # each bar after its track
    assert widths == [160, 320, 0]
    assert root.find(f"{SVG}title").text == "T"  # type: ignore[union-attr]


def test_column_chart_draws_one_column_per_bar_and_its_label() -> None:
    svg = column_chart([Bar("0–10%", 3, "3"), Bar("10–20%", 6, "6")], title="Risk", axis_label="churn risk")
    root = ET.fromstring(str(svg))
    heights = [float(r.get("height", 0)) for r in root.iter(f"{SVG}rect")]
    assert heights[1] == 2 * heights[0]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["3", "0–10%", "6", "10–20%", "churn risk"]


def test_all_zero_values_draw_without_dividing_by_zero() -> None:
    assert "<svg" in column_chart([Bar("x", 0)], title="t")
    assert "<svg" in horizontal_bars([], title="t")


def test_labels_are_escaped() -> None:
    svg = str(horizontal_bars([Bar('<script>alert("x")</script>', 1, color='red" onload="x')], title="<b>"))
    assert "<script>" not in svg and "<b>" not in svg
    assert not re.search(r'\sonload="', svg)
    ET.fromstring(svg)


def test_stacked_columns_stack_each_series_and_total_them() -> None:
    svg = stacked_columns(
        ["w1", "w2", "w3"], [Series("moved", "#111"), Series("refused", "#222")], [[2, 0, 1], [2, 0, 0]],
        title="Returns", height=240, format_value=lambda n: f"{n:,}",
    )
    root = ET.fromstring(str(svg))
    parts = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [(r.get("fill"), r.find(f"{SVG}title").text) for r in parts] == [  # type: ignore[union-attr]
        ("#111", "moved: 2"), ("#222", "refused: 2"), ("#111", "moved: 1"),
    ]
    first, second, third = (float(r.get("height", 0)) for r in parts)
    assert first == second == 2 * third
    # The second part sits on the first.
    assert float(parts[1].get("y", 0)) + second == pytest.approx(float(parts[0].get("y", 0)))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["4", "w1", "0", "w2", "1", "w3", "moved", "refused"]


def test_the_legend_wraps_below_the_columns() -> None:
    series = [Series(f"reason {i}") for i in range(5)]
    svg = stacked_columns(["w"], series, [[1]] * 5, title="t", width=560, height=200, legend_width=240)
    root = ET.fromstring(str(svg))
    assert root.get("viewBox") == "0 0 560 280"  # two entries a row: three rows of 24 and a margin
    assert "<svg" in stacked_columns([], [], [], title="empty")


def test_grouped_columns_stand_side_by_side_against_one_scale() -> None:
    svg = grouped_columns(
        ["1", "2"], [Series("predicted", "#111"), Series("observed", "#222")],
        [[0.5, 1.0], [0.25, 0.0]], title="Calibration", height=124, format_value=lambda v: f"{v:.0%}",
    )

    heights = [float(h) for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)]
    # Plot height 124 - 24 - 26 = 74: a share of 1 fills it, whatever the largest value drawn.
    assert heights[:4] == [37.0, 18.5, 74.0, 0.0]
    assert "<title>observed: 25%</title>" in svg and "<title>predicted: 100%</title>" in svg
