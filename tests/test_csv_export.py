"""The one CSV writer: cells a spreadsheet would run are escaped, numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from mailer.csv_export import CsvWriter, escape_cell, unescape_cell, write_csv

FORMULAS = ['=HYPERLINK("http://x.invalid","x")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_starting_like_a_formula_gets_a_quote_in_front(text: str) -> None:
    assert escape_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["王磊", "John Smith", "12 Oak St", "C001", "", " =1", "a=b"])
def test_other_text_is_written_as_it_is(text: str) -> None:
    assert escape_cell(text) == text


@pytest.mark.parametrize("value", [-5, 0, 12.5, Decimal("-12.50"), None])
def test_numbers_are_not_text_and_stay_as_they_are(value: object) -> None:
    assert escape_cell(value) is value


@pytest.mark.parametrize("text", [*FORMULAS, "'=1", "'", "''", "'Tis", "plain"])
def test_taking_one_leading_quote_off_gives_back_what_was_escaped(text: str) -> None:
    escaped = escape_cell(text)

    assert isinstance(escaped, str) and unescape_cell(escaped) == text
    # As a print shop reads it: one leading quote off any text cell that has one.
    assert (escaped[1:] if escaped.startswith("'") else escaped) == text


def test_unescaping_leaves_text_that_was_never_escaped() -> None:
    assert [unescape_cell(t) for t in ["'Tis", "'0123", "plain"]] == ["'Tis", "'0123", "plain"]


def test_the_writer_quotes_every_text_cell_and_writes_numbers_bare() -> None:
    buffer = io.StringIO()

    write_csv(buffer, ["customer_no", "name", "amount", "page"], [["+1", "=HYPERLINK(\"x\")", Decimal("-12.50"), 3]])

    header, row = buffer.getvalue().splitlines()
    assert header == '\ufeff"customer_no","name","amount","page"'
    assert row == '"\'+1","\'=HYPERLINK(""x"")",-12.50,3'
    assert list(csv.reader(io.StringIO(buffer.getvalue())))[1] == ["'+1", "'=HYPERLINK(\"x\")", "-12.50", "3"]


def test_rows_written_one_at_a_time_are_escaped_as_well() -> None:
    buffer = io.StringIO()

    writer = CsvWriter(buffer, ["customer_no", "score"])
    writer.writerow(["@C1", Decimal("91.5")])
    writer.writerow(["C2", 90])

    assert buffer.getvalue().splitlines() == ['\ufeff"customer_no","score"', '"\'@C1",91.5', '"C2",90']


def test_every_file_starts_with_a_byte_order_mark_so_excel_reads_utf_8(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_csv(handle, ["name"], [["王磊"]])

    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf\"name\"")
    assert data.count(b"\xef\xbb\xbf") == 1
    assert data.decode("utf-8-sig").splitlines() == ['"name"', '"王磊"']


def test_a_stream_for_another_program_can_leave_the_mark_out() -> None:
    buffer = io.StringIO()

    write_csv(buffer, ["name"], [["王磊"]], bom=False)

    assert buffer.getvalue().splitlines() == ['"name"', '"王磊"']
