"""The SVG bar charts: sizes follow the values, text is escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from mailer.web.charts import Bar, column_chart, horizontal_bars

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
