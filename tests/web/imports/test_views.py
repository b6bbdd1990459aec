"""Uploading customer and order files: the result row by row, one transaction, audit rows."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from mailer.audit.models import AuditEntry
from mailer.auth.models import Role
from mailer.customers.models import Customer
from mailer.orders.importing import ORDER_COLUMNS
from mailer.orders.models import Order
from mailer.web.limits import SMALL_BODY_LIMIT
from tests.factories import CN_ROW, customer_row, write_csv
from tests.web.conftest import Staff, csrf_token, data, post


@pytest.fixture
def marketing(logged_in) -> FlaskClient:  # type: ignore[no-untyped-def]
    return logged_in(Role.MARKETING)


def _upload(client: FlaskClient, path: Path, kind: str = "customers"):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return post(client, "/imports", {"kind": kind, "file": (handle, path.name)})


def _upload_large(client: FlaskClient, path: Path) -> TestResponse:
    """Upload a file of more than 500 KB from memory (the test client would spool it to a file left open)."""
    with path.open("rb") as handle:
        file = FileStorage(handle, filename=path.name, content_type="text/csv")
        boundary, body = encode_multipart({"kind": "customers", "file": file, "csrf_token": csrf_token(client)})
    return client.post(
        "/imports", input_stream=io.BytesIO(body), content_type=f'multipart/form-data; boundary="{boundary}"'
    )


def _count(app: Flask, model: type) -> int:
    with data(app) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with data(app) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_customer_file_is_imported_and_each_rejected_row_is_listed(
    app: Flask, marketing: FlaskClient, staff: dict[Role, Staff], tmp_path: Path
) -> None:
    rows = [
        customer_row(customer_no="U1"),
        customer_row(CN_ROW, customer_no="U2"),
        customer_row(customer_no="U3", postal_code="6270"),
        customer_row(customer_no="U4", country="Atlantis"),
    ]
    response = _upload(marketing, write_csv(tmp_path / "spring.csv", rows))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Import result" in page and "spring.csv" in page
    assert '<div class="value">2</div><div class="label">created</div>' in page
    assert '<div class="value">2</div><div class="label">rejected</div>' in page
    assert '<td class="num">4</td>' in page and "postal code &#39;6270&#39; does not fit US" in page
    assert '<td class="num">5</td>' in page and "unknown country &#39;Atlantis&#39;" in page
    assert _count(app, Customer) == 2

    (entry,) = _audit(app, "customers.import")
    assert entry.actor == staff[Role.MARKETING].email
    assert entry.detail["created"] == 2 and entry.detail["rejected"] == 2
    # The uploaded file and its rejects lived only for the request.
    assert not Path(entry.detail["rejects_file"]).exists()
    assert not Path(entry.detail["rejects_file"]).parent.exists()


def test_an_order_file_is_imported(app: Flask, marketing: FlaskClient, tmp_path: Path) -> None:
    _upload(marketing, write_csv(tmp_path / "c.csv", [customer_row(customer_no="U1")]))
    orders = [
        {"customer_no": "U1", "order_date": "2026-01-05", "amount": "19.90"},
        {"customer_no": "NOBODY", "order_date": "2026-01-05", "amount": "5.00"},
    ]
    response = _upload(marketing, write_csv(tmp_path / "o.csv", orders, ORDER_COLUMNS), kind="orders")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Order file" in page
    assert '<td class="num">3</td>' in page
    assert _count(app, Order) == 1
    assert len(_audit(app, "orders.import")) == 1


def test_an_unusable_file_stores_nothing_and_says_why(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("customer_no,name\nU1,Anna\n", encoding="utf-8")
    response = _upload(marketing, path)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This file cannot be imported" in page and "lacks column(s) line1" in page
    assert _count(app, Customer) == 0
    (entry,) = _audit(app, "customers.import_failed")
    assert entry.object_id == "wrong.csv"
    assert _audit(app, "customers.import") == []


def test_a_failure_midway_rolls_the_whole_import_back(
    app: Flask, marketing: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailer.customers import importing
    from mailer.web.imports import views

    def failing_import(session, **kwargs):  # type: ignore[no-untyped-def]
        importing.import_customers(session, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setitem(views.IMPORTERS, "customers", (failing_import, importing.CUSTOMER_COLUMNS))
    with pytest.raises(RuntimeError, match="disk full"):
        _upload(marketing, write_csv(tmp_path / "c.csv", [customer_row(customer_no="U1")]))
    assert _count(app, Customer) == 0
    assert _audit(app, "customers.import") == []


def test_an_upload_needs_a_csv_file(marketing: FlaskClient) -> None:
    assert post(marketing, "/imports", {"kind": "customers"}).status_code == 400
    response = post(marketing, "/imports", {"kind": "customers", "file": (io.BytesIO(b"x"), "photo.jpg")})
    assert response.status_code == 400
    assert "Upload a .csv file." in response.get_data(as_text=True)
    bad_kind = post(marketing, "/imports", {"kind": "invoices", "file": (io.BytesIO(b"a"), "x.csv")})
    assert bad_kind.status_code == 400


def test_a_file_over_the_upload_limit_gets_413_saying_to_use_the_command_line(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    app.config["MAX_UPLOAD_MB"] = 1
    rows = [customer_row(customer_no=f"L{number}") for number in range(12_000)]

    response = _upload_large(marketing, write_csv(tmp_path / "big.csv", rows))

    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than 1 MB" in page and "python -m mailer customers import FILE" in page
    assert _count(app, Customer) == 0
    assert _audit(app, "customers.import") == [] and _audit(app, "customers.import_failed") == []


def test_a_file_far_larger_than_a_form_but_under_the_upload_limit_is_imported(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    app.config["MAX_UPLOAD_MB"] = 1
    rows = [customer_row(customer_no=f"L{number}") for number in range(4_000)]
    path = write_csv(tmp_path / "medium.csv", rows)
    assert path.stat().st_size > 2 * SMALL_BODY_LIMIT

    response = _upload_large(marketing, path)

    assert response.status_code == 200
    assert _count(app, Customer) == 4_000
