"""Keyset pages: by id up or down, forwards and back, with filters, never repeating or skipping a row."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.audit.service import list_entries, record
from mailer.customers.models import Customer, CustomerStatus
from mailer.customers.service import CustomerFilters, list_customers
from mailer.pagination import Page
from tests.web.conftest import import_demo_customers


def _walk_forward(fetch, first: Page) -> list[list[int]]:  # type: ignore[no-untyped-def]
    pages, page = [], first
    while True:
        pages.append([item.id for item in page.items])
        if page.next_after is None:
            return pages
        page = fetch(after=page.next_after)


@pytest.fixture
def customer_ids(app: Flask, session: Session, tmp_path: Path) -> list[int]:
    return import_demo_customers(app, tmp_path, 23)


@pytest.mark.parametrize("size", [1, 5, 7, 23, 24, 100])
def test_forward_pages_cover_every_row_once_in_order(session: Session, customer_ids: list[int], size: int) -> None:
    def fetch(**cursor: int) -> Page:
        return list_customers(session, filters=CustomerFilters(), size=size, **cursor)

    pages = _walk_forward(fetch, fetch())
    assert [i for page in pages for i in page] == customer_ids
    assert all(len(page) == size for page in pages[:-1]) and 0 < len(pages[-1]) <= size
    for earlier, later in itertools.pairwise(pages):
        assert later[0] > earlier[-1]


def test_backward_pages_mirror_the_forward_ones(session: Session, customer_ids: list[int]) -> None:
    filters = CustomerFilters()
    forward = _walk_forward(lambda **c: list_customers(session, filters=filters, size=5, **c),
                            list_customers(session, filters=filters, size=5))
    page = list_customers(session, filters=filters, size=5, after=forward[-2][-1])
    backward = []
    while page.previous_before is not None:
        page = list_customers(session, filters=filters, size=5, before=page.previous_before)
        backward.append([c.id for c in page.items])
    assert backward == forward[-2::-1]
    assert page.next_after == forward[0][-1]


def test_neighbours_are_known_exactly_under_a_filter(session: Session, customer_ids: list[int]) -> None:
    # Only the middle customers are active: the first page has no previous page, the last no next.
    session.execute(update(Customer).values(status=CustomerStatus.DO_NOT_MAIL))
    session.execute(
        update(Customer).where(Customer.id.in_(customer_ids[5:15])).values(status=CustomerStatus.ACTIVE)
    )
    active = CustomerFilters(status=CustomerStatus.ACTIVE)
    first = list_customers(session, filters=active, size=5)
    assert [c.id for c in first.items] == customer_ids[5:10]
    assert first.previous_before is None and first.next_after == customer_ids[9]
    second = list_customers(session, filters=active, size=5, after=first.next_after)
    assert [c.id for c in second.items] == customer_ids[10:15]
    assert second.next_after is None and second.previous_before == customer_ids[10]
    # A cursor from before the filtered rows still gives a first page without a previous one.
    again = list_customers(session, filters=active, size=5, before=customer_ids[10])
    assert [c.id for c in again.items] == customer_ids[5:10] and again.previous_before is None


def test_a_deleted_cursor_row_does_not_shift_the_next_page(session: Session, customer_ids: list[int]) -> None:
    first = list_customers(session, filters=CustomerFilters(), size=10)
    last_shown = first.next_after
    session.execute(update(Customer).where(Customer.id == last_shown).values(status=CustomerStatus.MERGED))
    second = list_customers(
        session, filters=CustomerFilters(status=CustomerStatus.ACTIVE), size=10, after=last_shown
    )
    assert [c.id for c in second.items] == customer_ids[10:20]


def test_past_the_end_is_an_empty_page(session: Session, customer_ids: list[int]) -> None:
    page = list_customers(session, filters=CustomerFilters(), after=customer_ids[-1])
    assert page.items == [] and page.next_after is None and page.previous_before is None


def test_the_audit_log_pages_newest_first(session: Session) -> None:
    session.execute(delete(AuditEntry))
    entries = [record(session, actor="t", action="a" if n % 2 else "b", object_type="x") for n in range(30)]
    session.flush()
    newest_first = [e.id for e in reversed(entries)]

    pages = _walk_forward(lambda **c: list_entries(session, size=7, **c), list_entries(session, size=7))
    assert [i for page in pages for i in page] == newest_first
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]

    only_a = _walk_forward(lambda **c: list_entries(session, action="a", size=4, **c),
                           list_entries(session, action="a", size=4))
    assert [i for page in only_a for i in page] == [e.id for e in reversed(entries[1::2])]

    back = list_entries(session, size=7, before=pages[2][0])
    assert [e.id for e in back.items] == pages[1]
    assert back.previous_before == pages[1][0] and back.next_after == pages[1][-1]
