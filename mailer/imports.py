"""Reading import files row by row, and reporting what went in and what was rejected.

Shared by every import (customers, orders, returned mail): each reads a UTF-8 CSV with a header
row, rejects bad rows with their row number and reason into ``<file>.rejects.csv`` beside the
input, and stores the good ones. A file that cannot be read at all raises ``UnusableFile`` before
anything is stored. Every check reads the file once, in time proportional to its size, and a row
or header too long to be an import row is refused before it is held in memory.

A rejects file is itself an import file: its ``rejected_row`` and ``rejected_reason`` columns are
names no import reads, so once its rows are fixed it is imported again as it is.
"""

from __future__ import annotations

import csv
import os
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session

from mailer.audit.service import record
from mailer.csv_export import unescape_cell, write_csv
from mailer.files import open_private
from mailer.messages import Message, join, shortened

# A header row is the file's row 1, so the first data row is row 2, as a spreadsheet shows it.
FIRST_DATA_ROW = 2

# Called with (rows just handled, total rows) as an import advances.
ProgressCallback = Callable[[int, int], None]

# The longest row any import stores is under 2,000 characters (a customer's fields at their limits);
# ten times that leaves room for columns an import ignores, and a file of one endless line is refused
# after reading this much of it rather than held in memory whole.
MAX_ROW_CHARACTERS = 20_000
# The widest import reads 10 columns; a spreadsheet export with more than a hundred is not an import file.
MAX_COLUMNS = 100
# One read takes a row at the limit and its CR LF, or one character more than the limit.
_LINE_READ_LIMIT = MAX_ROW_CHARACTERS + 2

# The columns a rejects file adds in front of the rejected rows. No import reads them, so a fixed
# rejects file is imported again as it is, and an input column never clashes with them.
REJECTED_ROW_COLUMN = "rejected_row"
REJECTED_REASON_COLUMN = "rejected_reason"
REJECTS_COLUMNS = (REJECTED_ROW_COLUMN, REJECTED_REASON_COLUMN)

# A message about a value repeated on many rows names this many of the others and counts the rest,
# so rejecting every one of n repeats takes time and space in proportion to n, not n squared.
OTHER_ROWS_NAMED = 10

# Keys a row's values carry when the row itself is wrong, read by row_shape_problem.
_EXTRA_FIELDS = "__extra__"
_TOO_LONG = "__too_long__"

# Unicode category Cc, and the line and paragraph separators: nothing an envelope can print.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class UnusableFile(Exception):
    """The file cannot be imported at all; nothing was stored."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row left out of an import, and why."""

    row: int
    reason: str
    values: dict[str, str]


@dataclass(slots=True)
class ImportReport:
    """What an import did with each row of its file."""

    path: Path
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    rejects_path: Path | None = None

    @property
    def exit_code(self) -> int:
        """Return 0 when every row went in and 1 when some were rejected."""
        return 1 if self.rejected else 0

    def as_dict(self) -> dict[str, object]:
        """Return the counts as plain data (for --json and the audit log)."""
        return {
            "file": self.path.name,
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
            "rejects_file": str(self.rejects_path) if self.rejects_path else None,
        }


class _RowTooLong(Exception):
    """A row is longer than MAX_ROW_CHARACTERS; ``resumable`` when the reader can go on after it."""

    def __init__(self, *, resumable: bool) -> None:
        super().__init__()
        self.resumable = resumable


class _BoundedLines:
    """A text file's physical lines for csv.reader, refusing a row longer than MAX_ROW_CHARACTERS."""

    def __init__(self, handle: TextIO) -> None:
        self._readline = handle.readline
        self._row_length = 0
        self._skipped_cr = False
        # Whether the row read since start_row holds a single quote, which an escaped cell starts with.
        self.row_has_quote = False

    def __iter__(self) -> _BoundedLines:
        return self

    def start_row(self) -> None:
        """Count the characters of the next row from zero."""
        self._row_length = 0
        self.row_has_quote = False

    def __next__(self) -> str:
        line = self._readline(_LINE_READ_LIMIT)
        if self._skipped_cr and line == "\n":
            # The line feed of a skipped line's CR LF, which the read limit cut apart.
            line = self._readline(_LINE_READ_LIMIT)
        self._skipped_cr = False
        if not line:
            raise StopIteration
        length = self._row_length + len(line)
        # The line break that ends a row is not part of it; one inside a quoted field is.
        if length > MAX_ROW_CHARACTERS and self._row_length + len(line.rstrip("\r\n")) > MAX_ROW_CHARACTERS:
            quotes_pair_up = self._skip_line(line)
            # A row on one line whose quotes pair up ends with that line, so the next row is found again.
            raise _RowTooLong(resumable=self._row_length == 0 and quotes_pair_up)
        self._row_length = length
        self.row_has_quote = self.row_has_quote or "'" in line
        return line

    def _skip_line(self, start: str) -> bool:
        # Read past the rest of the line a bounded piece at a time; tell whether its quotes pair up.
        quotes = start.count('"')
        piece = start
        while piece and not piece.endswith(("\n", "\r")):
            piece = self._readline(_LINE_READ_LIMIT)
            quotes += piece.count('"')
        self._skipped_cr = piece.endswith("\r")
        return quotes % 2 == 0


@dataclass(frozen=True, slots=True)
class CsvSource:
    """A CSV file whose header has been checked; its rows can be read any number of times."""

    path: Path
    # The header's column names, lowercased, including those of a rejects file that no import reads.
    header: tuple[str, ...]
    row_count: int = 0

    @property
    def columns(self) -> tuple[str, ...]:
        """Return the columns an import reads (every header column but a rejects file's own)."""
        return tuple(name for name in self.header if name not in REJECTS_COLUMNS)

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Yield (row number, values) for each data row, values stripped, missing ones empty.

        A cell that a rejects file escaped for spreadsheets (``'=...``) is read as it was before.
        """
        read = [(index, name) for index, name in enumerate(self.header) if name not in REJECTS_COLUMNS]
        width = len(self.header)
        with _open_text(self.path) as handle:
            lines = _BoundedLines(handle)
            reader = csv.reader(lines)
            next(reader)
            row_number = FIRST_DATA_ROW - 1
            try:
                while True:
                    row_number += 1
                    lines.start_row()
                    try:
                        record = next(reader)
                    except StopIteration:
                        return
                    except _RowTooLong as exc:
                        if not exc.resumable:
                            raise _row_too_long(self.path, row_number) from None
                        yield row_number, {**{name: "" for _, name in read}, _TOO_LONG: str(MAX_ROW_CHARACTERS)}
                        continue
                    if not any(cell.strip() for cell in record):
                        continue
                    values = {name: (record[index].strip() if index < len(record) else "") for index, name in read}
                    if lines.row_has_quote:
                        values = {name: unescape_cell(value) for name, value in values.items()}
                    if len(record) > width:
                        values[_EXTRA_FIELDS] = str(len(record))
                    yield row_number, values
            except UnicodeDecodeError as exc:
                raise _not_utf8(self.path) from exc
            except csv.Error as exc:
                raise UnusableFile(
                    Message("%(file)s: row %(row)s: %(error)s", file=self.path.name, row=row_number, error=str(exc))
                ) from exc


def _open_text(path: Path) -> TextIO:
    # utf-8-sig drops the byte-order mark spreadsheets like to write.
    return path.open(encoding="utf-8-sig", newline="", errors="strict")


def _row_too_long(path: Path, row: int) -> UnusableFile:
    return UnusableFile(
        Message(
            "%(file)s: row %(row)s is longer than %(limit)s characters, and the rows after it cannot be told apart",
            file=path.name, row=row, limit=MAX_ROW_CHARACTERS,
        )
    )


def open_csv(path: Path, *, required: Sequence[str], optional: Sequence[str] = ()) -> CsvSource:
    """Check that a file is a UTF-8 CSV whose header names the required columns."""
    if not path.is_file():
        raise UnusableFile(Message("%(file)s: no such file", file=str(path)))
    if _contains_nul(path):
        raise UnusableFile(Message("%(file)s: not a text file (it contains NUL bytes)", file=path.name))
    try:
        with _open_text(path) as handle:
            header = next(csv.reader(_BoundedLines(handle)), None)
    except _RowTooLong:
        raise UnusableFile(
            Message(
                "%(file)s: the header row is longer than %(limit)s characters; it is not an import file's header",
                file=path.name, limit=MAX_ROW_CHARACTERS,
            )
        ) from None
    except UnicodeDecodeError as exc:
        raise _not_utf8(path) from exc
    except csv.Error as exc:
        raise UnusableFile(Message("%(file)s: not a CSV file (%(error)s)", file=path.name, error=str(exc))) from exc
    if not header:
        raise UnusableFile(Message("%(file)s: the file is empty; expected a header row", file=path.name))
    if len(header) > MAX_COLUMNS:
        raise UnusableFile(
            Message(
                "%(file)s: the header row has %(count)s columns; an import file has at most %(limit)s",
                file=path.name, count=len(header), limit=MAX_COLUMNS,
            )
        )
    columns = tuple(name.strip().lower() for name in header)
    named = set(columns)
    missing = [name for name in required if name not in named]
    if missing:
        raise UnusableFile(_missing_columns(path, header, missing=missing, expected=[*required, *optional]))
    duplicated = sorted(name for name, count in Counter(columns).items() if name and count > 1)
    if duplicated:
        raise UnusableFile(
            Message(
                "%(file)s: the header row names %(columns)s twice",
                file=path.name, columns=", ".join(shortened(name) for name in duplicated),
            )
        )
    # Read the whole file once before storing anything, so a broken file stores nothing.
    row_count = sum(1 for _ in CsvSource(path=path, header=columns).rows())
    return CsvSource(path=path, header=columns, row_count=row_count)


def _missing_columns(path: Path, header: Sequence[str], *, missing: Sequence[str], expected: Sequence[str]) -> Message:
    # Callers may pass required columns among the optional ones too: name each once, in order.
    problem = Message(
        "%(file)s: the header row lacks column(s) %(missing)s; expected %(expected)s",
        file=path.name, missing=", ".join(missing), expected=", ".join(dict.fromkeys(expected)),
    )
    hint = _separator_hint(header)
    return problem if hint is None else join("; ", [problem, hint])


def _separator_hint(header: Sequence[str]) -> Message | None:
    # A spreadsheet set to another list separator writes the whole header into one comma-less column.
    if len(header) != 1:
        return None
    semicolons, tabs = header[0].count(";"), header[0].count("\t")
    if not semicolons and not tabs:
        return None
    if semicolons >= tabs:
        return Message("the file seems to be separated by semicolons, not commas")
    return Message("the file seems to be separated by tabs, not commas")


def _not_utf8(path: Path) -> UnusableFile:
    # The decoder fails somewhere in a buffered chunk; find the line a person can look at.
    where = Message("it")
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                where = Message("line %(number)s", number=number)
                break
    return UnusableFile(
        Message('%(file)s: %(where)s is not UTF-8 text; save the file as "CSV UTF-8"', file=path.name, where=where)
    )


def _contains_nul(path: Path) -> bool:
    # Python's csv module reads NUL bytes as text since 3.11; they mean a binary or UTF-16 file.
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            if b"\x00" in chunk:
                return True
    return False


def row_shape_problem(values: dict[str, str], *, required: Sequence[str]) -> Message | None:
    """Return why a row's shape is wrong (extra fields, empty required fields), or None."""
    if _TOO_LONG in values:
        return Message("the row is longer than %(limit)s characters", limit=values[_TOO_LONG])
    if _EXTRA_FIELDS in values:
        return Message("the row has %(count)s fields but the header has fewer", count=values[_EXTRA_FIELDS])
    empty = [name for name in required if not values.get(name)]
    if empty:
        return Message("missing %(fields)s", fields=", ".join(empty))
    return None


def control_character_problem(
    values: Mapping[str, str | None], fields: Sequence[str], *, prefix: str = ""
) -> Message | None:
    """Return which field (named ``prefix + field``) holds a control character such as a line break, or None."""
    for name in fields:
        if found := _CONTROL_CHARACTER.search(values.get(name) or ""):
            # Named by code point: the character itself is invisible, or breaks the line it is shown on.
            character = f"U+{ord(found.group()):04X}"
            return Message(
                "%(field)s contains a control character (%(character)s), which cannot be printed",
                field=prefix + name, character=character,
            )
    return None


def other_rows(rows: Sequence[int], *, besides: int) -> str:
    """Return the rows (ascending) a repeated value is on besides one, naming at most OTHER_ROWS_NAMED of them."""
    named = [str(row) for row in islice((row for row in rows if row != besides), OTHER_ROWS_NAMED)]
    index = bisect_left(rows, besides)
    more = len(rows) - len(named) - (1 if index < len(rows) and rows[index] == besides else 0)
    if more == 0:
        return ", ".join(named)
    return Message("%(rows)s and %(count)s more", rows=", ".join(named), count=more)


def rejects_path_for(path: Path) -> Path:
    """Return where the rejects of an import file are written."""
    return path.with_name(f"{path.stem}.rejects.csv")


def write_rejects(report: ImportReport, *, columns: Sequence[str]) -> None:
    """Write the rejected rows beside the input, or remove a stale rejects file if there are none."""
    target = rejects_path_for(report.path)
    if not report.rejected:
        target.unlink(missing_ok=True)
        report.rejects_path = None
        return
    # A rejects file imported again brings its own rejected_* columns: they are written afresh.
    columns = [name for name in columns if name not in REJECTS_COLUMNS]
    temporary = target.with_suffix(".csv.part")
    with open_private(temporary) as handle:
        write_csv(
            handle,
            [*REJECTS_COLUMNS, *columns],
            (
                [rejection.row, rejection.reason, *(rejection.values.get(name, "") for name in columns)]
                for rejection in sorted(report.rejected, key=lambda r: r.row)
            ),
        )
    os.replace(temporary, target)
    report.rejects_path = target


def finish_import(session: Session, report: ImportReport, *, columns: Sequence[str], action: str, actor: str) -> None:
    """Write the rejects file and the audit row that every import ends with."""
    write_rejects(report, columns=columns)
    record(
        session, actor=actor, action=action, object_type="file", object_id=report.path.name,
        detail=report.as_dict(),
    )
    session.flush()
