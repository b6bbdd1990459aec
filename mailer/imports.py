"""Reading import files row by row, and reporting what went in and what was rejected.

Shared by every import (customers, orders, returned mail): each reads a UTF-8 CSV with a header
row, rejects bad rows with their row number and reason into ``<file>.rejects.csv`` beside the
input, and stores the good ones. A file that cannot be read at all raises ``UnusableFile`` before
anything is stored.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from mailer.audit.service import record
from mailer.messages import Message, join, shortened

# A header row is the file's row 1, so the first data row is row 2, as a spreadsheet shows it.
FIRST_DATA_ROW = 2

# Called with (rows just handled, total rows) as an import advances.
ProgressCallback = Callable[[int, int], None]

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


@dataclass(frozen=True, slots=True)
class CsvSource:
    """A CSV file whose header has been checked; its rows can be read any number of times."""

    path: Path
    columns: tuple[str, ...]
    row_count: int = 0

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Yield (row number, values) for each data row, values stripped, missing ones empty."""
        with _open_text(self.path) as handle:
            reader = csv.reader(handle)
            next(reader)
            width = len(self.columns)
            # The row before the first data row, so a record that fails to parse is always row_number + 1.
            row_number = FIRST_DATA_ROW - 1
            try:
                for row_number, record in enumerate(reader, start=FIRST_DATA_ROW):
                    if not any(cell.strip() for cell in record):
                        continue
                    values = {
                        name: (record[i].strip() if i < len(record) else "")
                        for i, name in enumerate(self.columns)
                    }
                    if len(record) > width:
                        values["__extra__"] = str(len(record))
                    yield row_number, values
            except UnicodeDecodeError as exc:
                raise _not_utf8(self.path) from exc
            except csv.Error as exc:
                raise UnusableFile(
                    Message("%(file)s: row %(row)s: %(error)s", file=self.path.name,
                            row=row_number + 1, error=str(exc))
                ) from exc


def _open_text(path: Path):  # type: ignore[no-untyped-def]
    # utf-8-sig drops the byte-order mark spreadsheets like to write.
    return path.open(encoding="utf-8-sig", newline="", errors="strict")


def open_csv(path: Path, *, required: Sequence[str], optional: Sequence[str] = ()) -> CsvSource:
    """Check that a file is a UTF-8 CSV whose header names the required columns."""
    if not path.is_file():
        raise UnusableFile(Message("%(file)s: no such file", file=str(path)))
    if _contains_nul(path):
        raise UnusableFile(Message("%(file)s: not a text file (it contains NUL bytes)", file=path.name))
    try:
        with _open_text(path) as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path) from exc
    except csv.Error as exc:
        raise UnusableFile(Message("%(file)s: not a CSV file (%(error)s)", file=path.name, error=str(exc))) from exc
    if not header:
        raise UnusableFile(Message("%(file)s: the file is empty; expected a header row", file=path.name))
    columns = tuple(name.strip().lower() for name in header)
    missing = [name for name in required if name not in columns]
    if missing:
        raise UnusableFile(_missing_columns(path, header, missing=missing, expected=[*required, *optional]))
    duplicated = sorted({name for name in columns if name and columns.count(name) > 1})
    if duplicated:
        raise UnusableFile(
            Message(
                "%(file)s: the header row names %(columns)s twice",
                file=path.name, columns=", ".join(shortened(name) for name in duplicated),
            )
        )
    # Read the whole file once before storing anything, so a broken file stores nothing.
    row_count = sum(1 for _ in CsvSource(path=path, columns=columns).rows())
    return CsvSource(path=path, columns=columns, row_count=row_count)


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
    if "__extra__" in values:
        return Message("the row has %(count)s fields but the header has fewer", count=values["__extra__"])
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
    temporary = target.with_suffix(".csv.part")
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "reason", *columns])
        for rejection in sorted(report.rejected, key=lambda r: r.row):
            writer.writerow(
                [rejection.row, rejection.reason, *(rejection.values.get(name, "") for name in columns)]
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
