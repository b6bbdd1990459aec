"""The customer page's verification block: what the reference data says, and accepting its suggestion."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import select

from mailer.addresses.models import Address, AddressEvent, AddressEventKind, AddressVerification, ChangeSource
from mailer.auth.models import Role
from tests.factories import CN_ROW, add_customer
from tests.web.conftest import data, post


def test_a_suggestion_is_shown_and_accepted_with_a_history_row(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        customer = add_customer(session, "C1", base=CN_ROW, line1="西湖区文三路478号", region="", city="杭州")
        customer_id = customer.id
    client = logged_in(Role.MARKETING)

    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    accepted = post(
        client, f"/customers/{customer_id}/accept-suggestion",
        {"suggestion": json.dumps({"region": "浙江省", "city": "杭州市"}, ensure_ascii=False)},
    )

    assert "verified, standard form suggested" in page and "Accept suggestion" in page
    assert accepted.status_code == 302
    with data(app) as session:
        address = session.scalars(select(Address).where(Address.customer_id == customer_id)).one()
        event = session.scalars(select(AddressEvent).where(AddressEvent.address_id == address.id)).one()
    assert (address.region, address.city) == ("浙江省", "杭州市")
    assert address.verification is AddressVerification.VERIFIED and address.verification_suggestion is None
    assert event.kind is AddressEventKind.EDITED and event.source is ChangeSource.REFERENCE_DATA
    assert event.changes == {"city": ["杭州", "杭州市"], "region": [None, "浙江省"]}
    assert "Accept suggestion" not in client.get(f"/customers/{customer_id}").get_data(as_text=True)


def test_a_suggestion_other_than_the_one_shown_is_not_applied(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        customer_id = add_customer(session, "C1", base=CN_ROW, line1="西湖区文三路478号", region="").id
    client = logged_in(Role.MARKETING)

    response = post(client, f"/customers/{customer_id}/accept-suggestion", {"suggestion": '{"region": "江苏省"}'})

    assert response.status_code == 302
    assert "The address was not changed" in client.get(f"/customers/{customer_id}").get_data(as_text=True)
    with data(app) as session:
        address = session.scalars(select(Address).where(Address.customer_id == customer_id)).one()
        assert address.region is None
        assert not session.scalars(select(AddressEvent).where(AddressEvent.address_id == address.id)).all()


def test_the_mailroom_cannot_accept_a_suggestion(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        customer_id = add_customer(session, "C1", base=CN_ROW, line1="西湖区文三路478号", region="").id

    response = post(logged_in(Role.MAILROOM), f"/customers/{customer_id}/accept-suggestion", {"suggestion": "{}"})

    assert response.status_code == 403
