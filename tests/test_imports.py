"""Reading import files and writing their rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.files import PRIVATE_FILE_MODE
from mailer.imports import (
    MAX_COLUMNS,
    MAX_ROW_CHARACTERS,
    ImportReport,
    Rejection,
    UnusableFile,
    control_character_problem,
    open_csv,
    other_rows,
    rejects_path_for,
    row_shape_problem,
    write_rejects,
)
from tests.conftest import file_mode


def test_blank_lines_are_skipped_and_rows_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("A,B\n1,2\n\n3\n", encoding="utf-8")

    source = open_csv(path, required=("a", "b"))

    assert source.columns == ("a", "b") and source.row_count == 2
    assert list(source.rows()) == [(2, {"a": "1", "b": "2"}), (4, {"a": "3", "b": ""})]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"a,a,b\n1,2,3\n", "names a twice"),
        (b"x,y\n", r"lacks column\(s\) a, b"),
        (b"a,b\n1,\x00\n", "NUL bytes"),
    ],
)
def test_unusable_files_say_why(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)

    with pytest.raises(UnusableFile, match=message):
        open_csv(path, required=("a", "b"))


def test_a_missing_file_is_unusable(tmp_path: Path) -> None:
    with pytest.raises(UnusableFile, match="no such file"):
        open_csv(tmp_path / "absent.csv", required=("a",))


@pytest.mark.usefixtures("open_umask")
def test_rejects_are_sorted_by_row_and_a_clean_run_removes_stale_ones(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    report = ImportReport(path=path, rejected=[Rejection(5, "late", {"a": "5"}), Rejection(3, "early", {"a": "3"})])

    write_rejects(report, columns=("a",))
    written = rejects_path_for(path).read_text(encoding="utf-8-sig").splitlines()
    # The rejected rows are personal data: readable by their owner only.
    assert file_mode(rejects_path_for(path)) == PRIVATE_FILE_MODE
    write_rejects(ImportReport(path=path), columns=("a",))

    assert written == ['"rejected_row","rejected_reason","a"', '3,"early","3"', '5,"late","5"']
    assert not rejects_path_for(path).exists() and report.exit_code == 1


def test_a_file_saved_in_another_encoding_is_unusable_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("a,b\n王磊,杭州\n".encode("gbk"))

    with pytest.raises(UnusableFile, match='line 2 is not UTF-8 text; save the file as "CSV UTF-8"'):
        open_csv(path, required=("a", "b"))


def test_another_encoding_further_down_the_file_is_caught_before_anything_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"a,b\n" + b"x,y\n" * 5000 + "王磊,杭州\n".encode("gbk"))

    with pytest.raises(UnusableFile, match='line 5002 is not UTF-8 text; save the file as "CSV UTF-8"'):
        open_csv(path, required=("a", "b"))


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_an_overlong_row_is_rejected_by_number_and_the_rows_after_it_are_read(tmp_path: Path, line_end: str) -> None:
    path = tmp_path / "huge.csv"
    longest = "1," + "x" * (MAX_ROW_CHARACTERS - 2)
    # The first overlong row is cut between CR and LF by a read of the limit and a line break.
    rows = ["a,b", longest, "2," + "x" * MAX_ROW_CHARACTERS, '3,"' + "y" * 200_000 + '"', "4,last", ""]
    path.write_text(line_end.join(rows), encoding="utf-8", newline="")

    source = open_csv(path, required=("a", "b"))
    rows_read = list(source.rows())

    assert source.row_count == 4
    assert [row for row, _ in rows_read] == [2, 3, 4, 5]
    assert rows_read[0][1] == {"a": "1", "b": longest[2:]} and rows_read[3][1] == {"a": "4", "b": "last"}
    for _, values in rows_read[1:3]:
        assert row_shape_problem(values, required=("a", "b")) == "the row is longer than 20000 characters"


@pytest.mark.parametrize(
    "rows",
    [
        # A quoted field that runs on over lines: where the row ends cannot be found without reading it.
        ["1,small", '2,"' + "x\n" * 15_000 + '"'],
        # An odd number of quotes: the overlong line opens a field that the next line continues.
        ["1,small", '2,"' + "x" * 30_000, 'still the same field",3'],
    ],
)
def test_an_overlong_row_whose_end_cannot_be_found_makes_the_file_unusable(tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("a,b\n" + "\n".join(rows) + "\n", encoding="utf-8")

    with pytest.raises(UnusableFile, match=r"huge\.csv: row 3 is longer than 20000 characters"):
        open_csv(path, required=("a", "b"))


def test_a_header_of_two_hundred_thousand_repeated_columns_is_refused_as_too_long(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["a"] * 200_000) + "\n1\n", encoding="utf-8")

    with pytest.raises(UnusableFile) as caught:
        open_csv(path, required=("a",))

    assert str(caught.value) == (
        "wide.csv: the header row is longer than 20000 characters; it is not an import file's header"
    )


def test_a_header_of_more_than_a_hundred_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{n}" for n in range(MAX_COLUMNS + 1)) + "\n1\n", encoding="utf-8")

    with pytest.raises(UnusableFile) as caught:
        open_csv(path, required=("c0",))

    assert str(caught.value) == "wide.csv: the header row has 101 columns; an import file has at most 100"


def test_a_hundred_columns_twice_named_are_each_found(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    names = [f"c{n % 50}" for n in range(MAX_COLUMNS)]
    path.write_text(",".join(names) + "\n1\n", encoding="utf-8")

    with pytest.raises(UnusableFile) as caught:
        open_csv(path, required=("c0",))

    assert str(caught.value) == f"wide.csv: the header row names {', '.join(sorted(set(names)))} twice"


def test_missing_columns_name_each_expected_column_once(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("a,x\n1,2\n", encoding="utf-8")

    with pytest.raises(UnusableFile) as caught:
        open_csv(path, required=("a", "b"), optional=("a", "b", "c"))

    assert str(caught.value) == "f.csv: the header row lacks column(s) b; expected a, b, c"


@pytest.mark.parametrize(
    ("header", "hint"),
    [
        ("a;b;c", "; the file seems to be separated by semicolons, not commas"),
        ("a\tb\tc", "; the file seems to be separated by tabs, not commas"),
        ("a;b\tc;d", "; the file seems to be separated by semicolons, not commas"),
        ("x", ""),
    ],
)
def test_a_one_column_header_with_semicolons_or_tabs_says_how_the_file_seems_separated(
    tmp_path: Path, header: str, hint: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_text(f"{header}\n1\n", encoding="utf-8")

    with pytest.raises(UnusableFile) as caught:
        open_csv(path, required=("a", "b"))

    assert str(caught.value) == f"f.csv: the header row lacks column(s) a, b; expected a, b{hint}"


def test_a_twice_named_long_column_is_quoted_shortened(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    long_name = "c" * 5000
    path.write_text(f"a,b,{long_name},{long_name}\n1,2,3,4\n", encoding="utf-8")

    with pytest.raises(UnusableFile) as caught:
        open_csv(path, required=("a", "b"))

    assert str(caught.value) == f"f.csv: the header row names {'c' * 39}… twice"


@pytest.mark.parametrize("character", ["\x00", "\r", "\n", "\x1b", "\x07", "\t", "\x7f", "\x85", "\u2028"])
def test_control_characters_are_found_and_their_field_named(character: str) -> None:
    problem = control_character_problem({"a": "fine", "b": f"x{character}y"}, ("a", "b"), prefix="new_")

    assert problem == (
        f"new_b contains a control character (U+{ord(character):04X}), which cannot be printed"
    )


def test_printable_text_in_any_script_has_no_control_character() -> None:
    assert control_character_problem({"a": "王磊 Zoë Ørsted 12-3 #4 ½", "b": None}, ("a", "b", "c")) is None


def test_a_rejects_file_read_again_leaves_out_its_own_columns_and_escapes(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    formula = '=HYPERLINK("http://x.invalid","x")'
    report = ImportReport(path=path, rejected=[Rejection(4, "no good", {"reason": formula, "row": "+1"})])
    write_rejects(report, columns=("reason", "row"))
    rejects = rejects_path_for(path)

    source = open_csv(rejects, required=("reason", "row"))
    rows = list(source.rows())
    again = ImportReport(path=rejects, rejected=[Rejection(row, "still no good", values) for row, values in rows])
    write_rejects(again, columns=source.columns)

    assert source.header == ("rejected_row", "rejected_reason", "reason", "row")
    assert source.columns == ("reason", "row")
    assert rows == [(2, {"reason": formula, "row": "+1"})]
    assert rejects_path_for(rejects).read_text(encoding="utf-8-sig").splitlines() == [
        '"rejected_row","rejected_reason","reason","row"',
        f'2,"still no good","\'{formula.replace(chr(34), chr(34) * 2)}","\'+1"',
    ]


def test_other_rows_of_a_repeated_value_are_named_up_to_ten_and_the_rest_counted() -> None:
    many = list(range(2, 32))

    assert other_rows([3, 7], besides=3) == "7"
    assert other_rows(list(range(2, 13)), besides=12) == "2, 3, 4, 5, 6, 7, 8, 9, 10, 11"
    assert other_rows(many, besides=5) == "2, 3, 4, 6, 7, 8, 9, 10, 11, 12 and 19 more"
    assert other_rows(many, besides=31) == "2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 19 more"
