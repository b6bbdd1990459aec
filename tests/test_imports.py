"""Reading import files and writing their rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailer.imports import ImportReport, Rejection, UnusableFile, open_csv, rejects_path_for, write_rejects


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
