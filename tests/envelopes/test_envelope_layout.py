"""The layout check: what would not mail is reported, naming the piece and the line."""

from __future__ import annotations

import pytest

from mailer.envelopes import PROFILES, LayoutError, LayoutProblem, check_layout, check_pieces, check_sender, reasons_for
from mailer.envelopes.fonts import font_stack
from mailer.envelopes.layout import fit_block, wrap

from .helpers import SENDERS, cn_piece, us_piece

CN = PROFILES["cn-dl"]
US = PROFILES["us-10"]


def test_pieces_that_fit_have_no_problems() -> None:
    assert check_layout(cn_piece(), CN) == []
    assert check_layout(us_piece(), US) == []


def test_too_wide_line_names_piece_and_line() -> None:
    line = "1234 " + "VERY LONG STREET NAME " * 6
    problems = check_layout(us_piece(9, lines=("JANE Q PUBLIC", line, "SPRINGFIELD IL 62704")), US)
    assert [(p.piece_code, p.field, p.text) for p in problems] == [("U7K3M909", "line 2", line)]
    assert "at 8 pt" in problems[0].message
    assert "U7K3M909" in str(problems[0]) and line in str(problems[0])


def test_too_many_lines() -> None:
    lines = tuple(f"LINE {n}" for n in range(1, 9))
    problems = check_layout(us_piece(lines=lines), US)
    assert problems[0].field == "line 7"
    assert problems[0].text == "LINE 7"
    assert "8 lines" in problems[0].message


def test_long_line_shrinks_before_it_fails() -> None:
    block = US.recipient
    fonts = font_stack()
    # Too wide at the full size, narrow enough at the minimum: set smaller, not refused.
    line = "W" * int(block.box.width / fonts.width("W", block.font_size) + 3)
    assert fonts.width(line, block.min_font_size) < block.box.width
    size, problems = fit_block(("JANE Q PUBLIC", line), block, fonts)
    assert problems == []
    assert block.min_font_size <= size < block.font_size
    assert fonts.width(line, size) <= block.box.width


def test_lines_at_max_count_fit_the_height() -> None:
    block = CN.recipient
    fonts = font_stack()
    size, problems = fit_block(tuple("张" for _ in range(block.max_lines)), block, fonts)
    assert problems == []
    assert size * (1.25 + (block.max_lines - 1) * block.leading) <= block.box.height


def test_character_without_glyph_is_refused() -> None:
    problems = check_layout(cn_piece(lines=("김민준 님", "上海市浦东新区世纪大道1号")), CN)
    assert [(p.field, p.text) for p in problems] == [("line 1", "김민준 님")]
    assert "no glyph" in problems[0].message


@pytest.mark.parametrize("line", ["שלום כהן", "محمد عبد الله"])
def test_right_to_left_text_is_refused_rather_than_printed_reversed(line: str) -> None:
    problems = check_layout(us_piece(lines=(line, "12 OAK ST", "SPRINGFIELD IL 62704")), US)
    assert [p.field for p in problems] == ["line 1"]
    assert "is written right to left" in problems[0].message


def test_an_empty_postal_code_is_said_to_be_missing() -> None:
    (problem,) = check_layout(cn_piece(postal_code=""), CN)
    assert problem.message == "missing: this envelope prints a postal code matching [0-9]{6}"


def test_blank_line_is_refused() -> None:
    problems = check_layout(us_piece(lines=("JANE Q PUBLIC", " ", "SPRINGFIELD IL 62704")), US)
    assert [(p.field, p.message) for p in problems] == [("line 2", "blank line")]


def test_no_lines_is_refused() -> None:
    assert [p.message for p in check_layout(us_piece(lines=()), US)] == ["no address lines"]


@pytest.mark.parametrize("postal_code", ["20012", "2001200", "20O120", ""])
def test_cn_postcode_must_fill_the_six_boxes(postal_code: str) -> None:
    problems = check_layout(cn_piece(postal_code=postal_code), CN)
    assert [(p.field, p.text) for p in problems] == [("postal_code", postal_code)]


@pytest.mark.parametrize("piece_code", ["", "件号123", "CN\t1"])
def test_piece_code_must_be_printable_ascii(piece_code: str) -> None:
    problems = check_layout(cn_piece(piece_code=piece_code), CN)
    assert [p.field for p in problems] == ["piece_code"]


def test_piece_code_too_long_for_its_barcode_space() -> None:
    code = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnop"
    problems = check_layout(us_piece(piece_code=code), US)
    assert [(p.field, p.text) for p in problems] == [("piece_code", code)]
    assert "Code 128" in problems[0].message


def test_update_url_too_long_for_the_qr_space() -> None:
    url = "https://mailer.example.cn/address/update?t=" + "x" * 600
    problems = check_layout(cn_piece(update_url=url), CN)
    assert [p.field for p in problems] == ["update_url"]


def test_short_url_too_wide() -> None:
    short = "mailer.example.com/u/" + "x" * 80
    problems = check_layout(us_piece(short_url=short), US)
    assert [(p.field, p.text) for p in problems] == [("short_url", short)]


def test_batch_check_reports_only_the_bad_pieces_in_order() -> None:
    pieces = [us_piece(1), us_piece(2, lines=()), us_piece(3), us_piece(4, postal_code="x", piece_code="é")]
    problems = check_pieces(pieces, US)
    assert [p.piece_code for p in problems] == ["U7K3M902", "é"]


def test_layout_error_lists_the_problems() -> None:
    problems = [LayoutProblem(f"P{n}", "line 1", "x" * n, "too wide") for n in range(1, 8)]
    error = LayoutError(problems)
    assert error.problems == tuple(problems)
    assert str(error).startswith("7 layout problem(s): piece P1: line 1: too wide: 'x'")
    assert "(and 2 more)" in str(error)


def test_sender_and_reasons_fit() -> None:
    for key, profile in PROFILES.items():
        assert check_sender(SENDERS[key], reasons_for(profile), profile) == []


def test_sender_problems() -> None:
    sender = SENDERS["cn-dl"]
    long_sender = type(sender)(sender.name, ("北京市朝阳区建国路88号" * 5,), "100022", sender.website, sender.hotline)
    problems = check_sender(long_sender, reasons_for(CN), CN)
    assert [(p.piece_code, p.field) for p in problems] == [(None, "sender line 2")]
    too_many = (*reasons_for(CN), ("XX", "另一个原因"))
    assert [p.field for p in check_sender(sender, too_many, CN)] == ["reasons"]
    assert [p.field for p in check_sender(sender, (), CN)] == ["reasons"]
    wide = (("ANK", "原址查无此人原址查无此人原址查无此人"),)
    assert [p.field for p in check_sender(sender, wide, CN)] == ["reason ANK"]


def test_wrap_breaks_chinese_anywhere_but_before_closing_punctuation() -> None:
    fonts = font_stack()
    text = "为保证您按时收到免费目录，请您在地址有变更时通知我们。"
    for first in ("为保证您按时收到免费目录", "为保证您按时收到免费目录，", "为保证您按时收到"):
        width = fonts.width(first, 11) + 0.5
        lines = wrap(text, width, 11)
        assert "".join(lines) == text
        assert all(fonts.width(line, 11) <= width for line in lines)
        assert not any(line.startswith(("，", "。")) for line in lines)
    # Where the comma does not fit, the character before it goes down with it.
    assert wrap(text, fonts.width("为保证您按时收到免费目录", 11) + 0.5, 11)[1].startswith("录，")
    assert wrap(text, fonts.width("为保证您按时收到", 11) + 0.5, 11)[0] == "为保证您按时收到"


def test_wrap_breaks_latin_at_spaces() -> None:
    lines = wrap("to keep receiving your free catalog tell us", 100, 11)
    assert " ".join(lines) == "to keep receiving your free catalog tell us"
    assert all(not line.startswith(" ") and not line.endswith(" ") for line in lines)
    assert len(lines) > 1
