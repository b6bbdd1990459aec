"""Keyset pagination: pages of rows ordered by a unique integer key, never by OFFSET.

A page is asked for by the key it continues ``after`` (the next page) or the key it ends
``before`` (the previous page), so a page deep in a million rows costs what the first one does,
and rows added or removed meanwhile never shift a page into duplicates or gaps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Row, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")
U = TypeVar("U")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

# The unique integer column a page is ordered by: a mapped attribute or a labelled expression.
KeyColumn = ColumnElement[int] | InstrumentedAttribute[int]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows and the cursors of its neighbours (None where there is no neighbour)."""

    items: list[T]
    next_after: int | None
    previous_before: int | None

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """Return the same page with each item converted."""
        return Page([convert(item) for item in self.items], self.next_after, self.previous_before)


def keyset_page(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    *,
    key: KeyColumn,
    after: int | None = None,
    before: int | None = None,
    size: int = DEFAULT_PAGE_SIZE,
    descending: bool = False,
    key_of: Callable[[Row[Any]], int] | None = None,
) -> Page[Row[Any]]:
    """Return the page of ``statement``'s rows (ordered by ``key``) after or before a key.

    ``statement`` selects the rows with their filters but no ORDER BY; ``key_of`` reads a row's
    key (by default the attribute named like the key column). ``after`` wins when both cursors
    are given.
    """
    size = max(1, min(size, MAX_PAGE_SIZE))
    if key_of is None:
        key_name = str(key.key)

        def key_of(row: Row[Any]) -> int:
            return int(getattr(row, key_name))
    forward = before is None or after is not None
    cursor = after if forward else before
    # Reading forward in display order walks the key up, unless the display is newest first.
    ascending = forward != descending

    query = statement
    if cursor is not None:
        query = query.where(key > cursor if ascending else key < cursor)
    query = query.order_by(key.asc() if ascending else key.desc()).limit(size + 1)
    rows = list(session.execute(query).all())
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    if not rows:
        return Page([], None, None)

    first_key, last_key = key_of(rows[0]), key_of(rows[-1])
    if forward:
        has_next = more
        has_previous = cursor is not None and _exists(session, statement, key, first_key, beyond=descending)
    else:
        has_previous = more
        has_next = _exists(session, statement, key, last_key, beyond=not descending)
    return Page(rows, last_key if has_next else None, first_key if has_previous else None)


def _exists(
    session: Session, statement: Select[*tuple[Any, ...]], key: KeyColumn, edge: int, *, beyond: bool
) -> bool:
    # Is there a row past ``edge``, upwards (beyond) or downwards, under the same filters?
    condition = key > edge if beyond else key < edge
    return bool(session.scalar(select(statement.where(condition).exists())))
