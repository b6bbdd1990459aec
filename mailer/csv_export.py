"""Writing CSV files that a spreadsheet opens as data, never as formulas.

Every CSV the app writes goes through ``write_csv``. Text cells come from people (names, address
lines, customer numbers, rejected rows) and a spreadsheet runs a cell starting with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return before one) as a formula. As OWASP recommends, such a
cell gets a leading single quote, and every text cell is quoted. A cell that already starts with a
quote gets one more, so taking one leading quote off any text cell that has one gives back exactly
what was written (``unescape_cell``). Numbers (amounts, scores, counts, page numbers) are written as
numbers: pass them as int, float or Decimal (``Decimal(f"{score:.1f}")`` keeps a chosen number of
digits), not as formatted text.

Every file starts with a UTF-8 byte-order mark: without it Excel on Windows reads the file in the
machine's legacy code page and garbles Chinese names and addresses. Readers that expect plain
UTF-8 open the files with ``utf-8-sig`` (as mailer's own imports do); a stream that is no file for
people (a pipe) can leave the mark out with ``bom=False``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import TextIO

# OWASP's list of characters a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
_ESCAPED_STARTS = (*FORMULA_STARTS, ESCAPE)
BYTE_ORDER_MARK = "\ufeff"


def escape_cell(value: object) -> object:
    """Return a text cell with a quote in front if a spreadsheet could run it; other values as they are."""
    if isinstance(value, str) and value.startswith(_ESCAPED_STARTS):
        return ESCAPE + value
    return value


def unescape_cell(text: str) -> str:
    """Return a cell's text as it was before ``escape_cell``."""
    if text.startswith(ESCAPE) and text[1:].startswith(_ESCAPED_STARTS):
        return text[1:]
    return text


class CsvWriter:
    """A CSV writer that quotes and escapes every text cell and writes numbers as numbers."""

    def __init__(self, handle: TextIO, header: Sequence[str], *, bom: bool = True) -> None:
        if bom:
            handle.write(BYTE_ORDER_MARK)
        # QUOTE_NONNUMERIC quotes every str and writes int, float and Decimal bare.
        self._writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)
        self.writerow(header)

    def writerow(self, row: Iterable[object]) -> None:
        """Write one row."""
        self._writer.writerow([escape_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        """Write every row."""
        self._writer.writerows([escape_cell(value) for value in row] for row in rows)


def write_csv(
    handle: TextIO, header: Sequence[str], rows: Iterable[Iterable[object]], *, bom: bool = True
) -> None:
    """Write a byte-order mark, a header and rows, every text cell quoted and escaped, numbers as numbers."""
    CsvWriter(handle, header, bom=bom).writerows(rows)
