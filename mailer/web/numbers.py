"""Whole numbers from URLs, kept to what a database row id (or a BIGINT page key) can be.

A number larger than an id column holds would reach the database and fail there (PostgreSQL's
INTEGER has 32 bits, SQLite's 64); in a path it is simply no page (404), in a page cursor it is ignored.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

from mailer.db import MAX_ROW_ID


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in routes, refusing numbers beyond ``MAX_ROW_ID``."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ROW_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def row_id(value: str) -> int:
    """Read a row id from a query string (for ``request.args.get(..., type=row_id)``): a bad one is left out."""
    number = int(value)
    if not 0 <= number <= MAX_ROW_ID:
        raise ValueError(f"{value!r} is no row id")
    return number


# A BIGINT column's largest value, on both databases.
MAX_BIG_KEY = 2**63 - 1


def big_key(value: str) -> int:
    """Read a page cursor over a BIGINT key (a stored duplicate pair's position): a bad one is left out."""
    number = int(value)
    if not 0 <= number <= MAX_BIG_KEY:
        raise ValueError(f"{value!r} is no page key")
    return number
