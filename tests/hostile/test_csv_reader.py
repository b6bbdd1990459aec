"""The CSV reader every import shares: any file reads as rows or is refused whole as UnusableFile."""

from __future__ import annotations

import codecs
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import example, given
from hypothesis import strategies as st

from mailer.imports import MAX_COLUMNS, UnusableFile, open_csv, row_shape_problem

REQUIRED = ("customer_no", "name")
HEADER = "customer_no,name,city\r\n"

# Pieces a CSV file is made of, so that many examples are almost right rather than noise.
csv_pieces = st.sampled_from(['"', '""', ",", ";", "\t", "\r", "\n", "\r\n", "'", "=", "customer_no", "name", "x", " "])
csv_text = st.lists(csv_pieces | st.text(max_size=8), max_size=60).map("".join)
files = st.one_of(
    st.binary(max_size=400),
    csv_text.map(lambda text: (HEADER + text).encode()),
    csv_text.map(lambda text: (HEADER + text).encode("utf-16")),
    csv_text.map(lambda text: codecs.BOM_UTF8 + (HEADER + text).encode()),
    st.integers(1, 40_000).map(lambda length: (HEADER + "C1," + "a" * length + "\n").encode()),
)


def _read_all(content: bytes) -> list[tuple[int, dict[str, str]]] | None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.csv"
        path.write_bytes(content)
        try:
            source = open_csv(path, required=REQUIRED, optional=("city",))
        except UnusableFile as exc:
            assert str(exc)
            return None
        rows = list(source.rows())
        assert len(rows) == source.row_count
        return rows


@given(files)
@example(b"")
@example(b"\xef\xbb\xbf")
@example(b"customer_no,name\n\"C1,unclosed\n")
@example(b"customer_no,name\r\nC1,\xff\r\n")
@example(("," * (MAX_COLUMNS + 1) + "customer_no,name\n").encode())
@example(b"customer_no,name\r" + b"a" * 20_001 + b"\r\nC2,b\r\n")
def test_any_file_reads_as_rows_or_is_refused_as_unusable(content: bytes) -> None:
    rows = _read_all(content)
    if rows is None:
        return
    numbers = [number for number, _ in rows]
    assert numbers == sorted(set(numbers))
    for _, values in rows:
        assert set(REQUIRED) <= set(values)
        problem = row_shape_problem(values, required=REQUIRED)
        assert problem is None or str(problem)
