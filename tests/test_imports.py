"""Reading import files and writing their rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.imports import (
    ImportReport,
    Rejection,
    UnusableFile,
    control_character_problem,
    open_csv,
    rejects_path_for,
    write_rejects,
)


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


def test_rejects_are_sorted_by_row_and_a_clean_run_removes_stale_ones(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    report = ImportReport(path=path, rejected=[Rejection(5, "late", {"a": "5"}), Rejection(3, "early", {"a": "3"})])

    write_rejects(report, columns=("a",))
    written = rejects_path_for(path).read_text(encoding="utf-8").splitlines()
    write_rejects(ImportReport(path=path), columns=("a",))

    assert written == ["row,reason,a", "3,early,3", "5,late,5"]
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


@pytest.mark.parametrize("row", [2, 3])
def test_a_field_over_the_csv_size_limit_makes_the_file_unusable_naming_its_row(tmp_path: Path, row: int) -> None:
    path = tmp_path / "huge.csv"
    rows = ["1,small"] * (row - 2) + ["2," + "x" * 200_000]
    path.write_text("a,b\n" + "\n".join(rows) + "\n", encoding="utf-8")

    with pytest.raises(UnusableFile, match=f"huge.csv: row {row}: field larger than field limit"):
        open_csv(path, required=("a", "b"))


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
