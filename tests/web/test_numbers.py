"""Numbers in URLs beyond what a row id can be: no page in a path, ignored in a page cursor."""

from __future__ import annotations

import pytest
from flask import Flask

from mailer.auth.models import Role
from mailer.web.numbers import MAX_ROW_ID, row_id
from tests.returns.conftest import mail_customers
from tests.web.conftest import data

TOO_LARGE = str(MAX_ROW_ID + 1)


@pytest.mark.parametrize(
    "path",
    [f"/customers/{TOO_LARGE}", f"/batches/{TOO_LARGE}", f"/batches/{TOO_LARGE}/progress",
     f"/batches/1/files/{TOO_LARGE}", "/customers/99999999999999999999"],
)
def test_a_path_with_a_number_no_row_can_have_is_no_page(app: Flask, logged_in, path: str) -> None:  # type: ignore[no-untyped-def]
    assert logged_in(Role.MARKETING).get(path).status_code == 404


@pytest.mark.parametrize(
    "path", ["/customers", "/admin/audit", "/retention"],
)
@pytest.mark.parametrize(
    "cursor", [f"after={TOO_LARGE}", f"before=-{TOO_LARGE}", "after=-1", "after=x", f"after=100-{TOO_LARGE}"]
)
def test_a_page_cursor_no_row_can_have_shows_the_first_page(
    app: Flask, logged_in, path: str, cursor: str  # type: ignore[no-untyped-def]
) -> None:
    client = logged_in(Role.ADMIN)
    assert client.get(f"{path}?{cursor}").status_code == 200


def test_a_batch_page_cursor_no_row_can_have_shows_its_first_page(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        batch_id = mail_customers(session, "C1")["C1"].batch_id
    client = logged_in(Role.MARKETING)
    for cursor in (f"after={TOO_LARGE}", f"before={TOO_LARGE}"):
        assert client.get(f"/batches/{batch_id}?{cursor}").status_code == 200


def test_row_id_reads_whole_numbers_of_a_row_ids_range() -> None:
    assert row_id("0") == 0 and row_id(str(MAX_ROW_ID)) == MAX_ROW_ID
    for bad in (TOO_LARGE, "-1", "1.5", ""):
        with pytest.raises(ValueError):
            row_id(bad)
