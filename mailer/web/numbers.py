"""Whole numbers from URLs, kept to what a database row id can be.

A number too large for a 64-bit integer would reach the database and fail there (SQLite and
PostgreSQL both refuse it); in a path it is simply no page (404), in a page cursor it is ignored.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

MAX_ROW_ID = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in routes, refusing numbers beyond ``MAX_ROW_ID``."""

    def __init__(self, map: Map, *args: Any, max: int | None = MAX_ROW_ID, **kwargs: Any) -> None:
        super().__init__(map, *args, max=max, **kwargs)


def row_id(value: str) -> int:
    """Read a row id from a query string (for ``request.args.get(..., type=row_id)``): a bad one is left out."""
    number = int(value)
    if not 0 <= number <= MAX_ROW_ID:
        raise ValueError(f"{value!r} is no row id")
    return number
