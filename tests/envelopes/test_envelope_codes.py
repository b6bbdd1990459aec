"""Code 128 patterns and QR paths, checked against the symbologies' own arithmetic."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mailer.envelopes.codes import (
    bars_op,
    code128_pattern,
    pattern_modules,
    qr_matrix,
    qr_op,
    qr_version_for,
    qr_version_modules,
)
from mailer.envelopes.fonts import FONT_DIR, font_stack


@pytest.mark.parametrize("value", ["CN2611A0000001", "US-2611/a b", "12345678"])
def test_code128_pattern_is_whole_symbols(value: str) -> None:
    pattern = code128_pattern(value)
    # Each symbol is 3 bars and 3 spaces over 11 modules; the stop is 4 bars and 3 spaces over 13.
    symbols, remainder = divmod(pattern_modules(pattern) - 13, 11)
    assert remainder == 0
    assert len(pattern) == 6 * symbols + 7
    assert re.fullmatch(r"(?:[A-D][a-d]){3}", pattern[:6])  # starts with a bar


def test_code128_packs_digits_two_a_symbol() -> None:
    # Start C, four digit pairs, check symbol, stop.
    assert pattern_modules(code128_pattern("12345678")) == 11 * (1 + 4 + 1) + 13


def test_bars_op_draws_one_rectangle_per_bar() -> None:
    pattern = code128_pattern("US2611A0000001")
    op = bars_op(pattern, 10, 20, 0.72, 21.6)
    rectangles = re.findall(r"^(\d+) 0 (\d) 1 re$", op, re.M)
    assert len(rectangles) == sum(1 for element in pattern if element.isupper())
    assert op.startswith("q 0.7200 0 0 21.600 10.000 20.000 cm") and op.endswith("f Q")
    # The last bar ends where the pattern ends.
    start, width = rectangles[-1]
    assert int(start) + int(width) == pattern_modules(pattern)


def test_qr_capacity_bounds() -> None:
    assert qr_version_for("x" * 14, 40) == 1
    assert qr_version_for("x" * 15, 40) == 2
    assert qr_version_for("x" * 84, 5) == 5
    assert qr_version_for("x" * 85, 5) is None
    assert qr_version_modules(1) == 21 and qr_version_modules(5) == 37


def test_qr_matrix_version_is_within_the_estimate() -> None:
    url = "https://mailer.example.cn/address/update?t=" + "A1b2C3d4" * 4
    dark = qr_matrix(url)
    assert dark.dtype == bool and dark.shape[0] == dark.shape[1]
    assert dark.shape[0] <= qr_version_modules(qr_version_for(url, 20) or 0)
    # Finder pattern in the top left corner: a dark 7x7 ring round a light ring round a dark 3x3.
    assert dark[0, :7].all() and dark[6, :7].all() and not dark[1, 1:6].any() and dark[2:5, 2:5].all()


def test_qr_op_covers_exactly_the_dark_modules() -> None:
    dark = qr_matrix("https://mailer.example.com/u/abc")
    op = qr_op(dark, 0, 100, 1.0)
    painted = np.zeros_like(dark)
    for column, row, width in re.findall(r"^(\d+) (\d+) (\d+) 1 re$", op, re.M):
        row_index, start = int(row), int(column)
        assert not painted[row_index, start : start + int(width)].any()
        painted[row_index, start : start + int(width)] = True
    assert (painted == dark).all()


def test_fonts_are_shipped_with_their_licences() -> None:
    names = {path.name for path in FONT_DIR.iterdir()}
    assert {
        "DejaVuSans.ttf",
        "DroidSansFallbackFull.ttf",
        "LICENSE-DejaVu.txt",
        "LICENSE-Apache-2.0.txt",
        "README.md",
    } <= names


def test_font_stack_sets_each_script_in_a_font_that_has_it() -> None:
    fonts = font_stack()
    runs = fonts.runs("上海市世纪大道1号 Apt 5")
    assert [(run.font.fontName, run.text) for run in runs] == [
        ("MailerSansCJK", "上海市世纪大道"),
        ("MailerSans", "1"),
        ("MailerSansCJK", "号"),
        ("MailerSans", " Apt 5"),
    ]
    assert fonts.missing("上海 Apt 5 – “Straße”") == ""
    assert fonts.missing("김 \x01") == "김\x01"
    assert fonts.width("上海", 10) == pytest.approx(20, abs=0.5)
    assert fonts.width("", 10) == 0
