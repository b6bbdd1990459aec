"""The customer page's actions: correct the address, decide consent, add a note; by role, audited."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.addresses.models import AddressEvent, ChangeSource
from mailer.addresses.service import current_address
from mailer.audit.models import AuditEntry
from mailer.auth.models import Role
from mailer.customers.consent import current_consents
from mailer.customers.models import ConsentChannel, ConsentSource, Customer, CustomerNote, CustomerStatus
from tests.factories import add_customer
from tests.web.conftest import data, post

NEW = {"line1": "500 Elm Avenue", "line2": "", "city": "Chicago", "region": "IL", "postal_code": "60601",
       "country": "US"}


def _customer(app: Flask) -> int:
    with data(app) as session:
        return add_customer(session, "C1").id


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with data(app) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_opening_a_customer_page_is_logged_and_shows_the_actions(
    app: Flask, logged_in: Callable[[Role], FlaskClient]
) -> None:
    customer_id = _customer(app)
    page = logged_in(Role.MARKETING).get(f"/customers/{customer_id}").get_data(as_text=True)

    assert 'id="address-form"' in page and 'id="consent-form"' in page and 'id="note-form"' in page
    assert "no decision recorded" in page
    # Export and erasure are the admin's.
    assert "/export" not in page and "/erase" not in page
    (view,) = _audit(app, "customer.view")
    assert (view.actor, view.object_id) == ("marketing@example.com", "C1")


def test_marketing_corrects_the_address_with_a_reason(app: Flask, logged_in: Callable[[Role], FlaskClient]) -> None:
    customer_id = _customer(app)
    client = logged_in(Role.MARKETING)

    response = post(client, f"/customers/{customer_id}/address", {**NEW, "reason": "moved, told us by phone"})

    assert response.status_code == 302 and response.location.endswith("#history")
    with data(app) as session:
        address = current_address(session, customer_id=customer_id)
        assert address is not None and address.line1 == "500 Elm Avenue"
        notes = session.scalars(select(AddressEvent.note).where(AddressEvent.source == ChangeSource.STAFF)).all()
        assert set(notes) == {"moved, told us by phone"}
    assert "moved, told us by phone" in client.get(f"/customers/{customer_id}").get_data(as_text=True)


def test_a_correction_without_a_reason_is_refused_and_says_why(
    app: Flask, logged_in: Callable[[Role], FlaskClient]
) -> None:
    customer_id = _customer(app)
    client = logged_in(Role.MARKETING)

    response = post(client, f"/customers/{customer_id}/address", {**NEW, "reason": ""}, follow_redirects=True)

    assert "The address was not corrected: the reason is missing." in response.get_data(as_text=True)
    with data(app) as session:
        address = current_address(session, customer_id=customer_id)
        assert address is not None and address.line1 == "12 Oak Street"


def test_do_not_mail_is_set_and_cleared_as_consent(app: Flask, logged_in: Callable[[Role], FlaskClient]) -> None:
    customer_id = _customer(app)
    client = logged_in(Role.MARKETING)

    post(client, f"/customers/{customer_id}/consent",
         {"channel": "mail", "decision": "withdraw", "wording": "No more catalogs, said on the phone"})
    with data(app) as session:
        mail = current_consents(session, customer_id=customer_id)[ConsentChannel.MAIL]
        assert (mail.granted, mail.source, mail.actor) == (False, ConsentSource.STAFF, "marketing@example.com")
        assert session.get_one(Customer, customer_id).status is CustomerStatus.DO_NOT_MAIL

    refused = post(client, f"/customers/{customer_id}/consent", {"channel": "mail", "decision": "grant"},
                   follow_redirects=True)
    assert "a consent needs the wording the customer agreed to" in refused.get_data(as_text=True)

    post(client, f"/customers/{customer_id}/consent",
         {"channel": "mail", "decision": "grant", "wording": "Yes, the spring catalog please"})
    with data(app) as session:
        assert session.get_one(Customer, customer_id).status is CustomerStatus.ACTIVE
    assert len(_audit(app, "customer.consent")) == 2


def test_a_note_is_added(app: Flask, logged_in: Callable[[Role], FlaskClient]) -> None:
    customer_id = _customer(app)
    client = logged_in(Role.MARKETING)
    post(client, f"/customers/{customer_id}/notes", {"text": "Prefers calls after 6pm"})
    with data(app) as session:
        assert session.scalars(select(CustomerNote.text)).all() == ["Prefers calls after 6pm"]
    assert "Prefers calls after 6pm" in client.get(f"/customers/{customer_id}").get_data(as_text=True)


def test_the_mailroom_may_not_act_on_a_customer(app: Flask, logged_in: Callable[[Role], FlaskClient]) -> None:
    customer_id = _customer(app)
    client = logged_in(Role.MAILROOM)
    for path, form in (("address", {**NEW, "reason": "x"}), ("consent", {"channel": "mail", "decision": "withdraw"}),
                       ("notes", {"text": "x"})):
        assert post(client, f"/customers/{customer_id}/{path}", form).status_code == 403
    with data(app) as session:
        assert session.scalars(select(CustomerNote)).all() == []
        assert current_consents(session, customer_id=customer_id) == {}
