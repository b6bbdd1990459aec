"""A customer's privacy rights on the web: a copy of everything held, and erasure behind a confirmation."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.audit.models import AuditEntry
from mailer.auth.models import Role
from mailer.customers.models import Customer
from tests.factories import US_ROW, add_customer
from tests.web.conftest import data, post

NAME = "Zbigniew Quarrington"


def _customers(app: Flask) -> tuple[int, int]:
    with data(app) as session:
        person = add_customer(session, "C1", base=US_ROW, name=NAME, order_cents=[2500])
        twin = add_customer(session, "C2", base=US_ROW, name="Other Person", line1="9 Elm Street",
                            email=US_ROW["email"])
        return person.id, twin.id


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with data(app) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_an_admin_reads_and_downloads_everything_held_and_both_are_audited(
    app: Flask, logged_in: Callable[[Role], FlaskClient]
) -> None:
    person_id, _ = _customers(app)
    client = logged_in(Role.ADMIN)

    page = client.get(f"/customers/{person_id}/export").get_data(as_text=True)
    download = client.get(f"/customers/{person_id}/export.json")

    assert NAME in page and "12 Oak Street" in page and "25.00" in page and 'id="section-looked_at_by"' in page
    assert download.headers["Content-Disposition"] == f'attachment; filename="customer-{person_id}.json"'
    record = json.loads(download.get_data(as_text=True))
    assert record["profile"]["name"] == NAME and record["orders"] == [
        {"ordered_on": record["orders"][0]["ordered_on"], "amount": "25.00"}]
    assert [row["action"] for row in record["looked_at_by"]] == ["customer.export"]
    assert sorted(entry.detail["form"] for entry in _audit(app, "customer.export")) == ["json", "page"]


def test_marketing_may_neither_export_nor_erase(app: Flask, logged_in: Callable[[Role], FlaskClient]) -> None:
    person_id, _ = _customers(app)
    client = logged_in(Role.MARKETING)
    assert client.get(f"/customers/{person_id}/export").status_code == 403
    assert client.get(f"/customers/{person_id}/export.json").status_code == 403
    assert post(client, f"/customers/{person_id}/erase", {"confirm_no": "C1"}).status_code == 403
    with data(app) as session:
        assert session.get_one(Customer, person_id).erased_at is None


def test_erasure_needs_the_number_typed_again_and_offers_the_duplicates(
    app: Flask, logged_in: Callable[[Role], FlaskClient]
) -> None:
    person_id, twin_id = _customers(app)
    client = logged_in(Role.ADMIN)

    confirm = client.get(f"/customers/{person_id}/erase").get_data(as_text=True)
    assert f'href="/customers/{twin_id}/erase"' in confirm and "same email" in confirm

    wrong = post(client, f"/customers/{person_id}/erase", {"confirm_no": "C2"})
    assert wrong.status_code == 400 and "nothing was erased" in wrong.get_data(as_text=True)
    with data(app) as session:
        assert session.get_one(Customer, person_id).erased_at is None

    done = post(client, f"/customers/{person_id}/erase", {"confirm_no": "C1"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "personal data is erased" in page and NAME not in page
    with data(app) as session:
        erased = session.get_one(Customer, person_id)
        assert erased.erased_at is not None and erased.name.startswith("ERASED-")
    (entry,) = _audit(app, "customer.erase")
    assert entry.actor == "admin@example.com" and entry.object_id == erased.customer_no
