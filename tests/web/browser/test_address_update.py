"""A customer on a phone follows the link from their envelope and gives their new address."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from mailer.addresses.models import Address, AddressEvent, AddressValidity, ChangeSource
from mailer.addresses.service import current_address
from mailer.db import db
from tests.selfservice.letters import mail_letter
from tests.web.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_a_customer_updates_their_address_through_the_link(
    live_server: LiveServer, open_page, screenshots: Path  # type: ignore[no-untyped-def]
) -> None:
    app = live_server.app
    with app.app_context():
        letter = mail_letter(db.session, "C100", secret=app.config["SECRET_KEY"])
        db.session.commit()

    # The QR code on the envelope opens the link on a phone.
    page = open_page(width=390, height=844, locale="en-US")
    page.goto(f"{live_server.url}/u/{letter.token}")
    sent_to = page.inner_text("#letter-address")
    assert "J*** S****" in sent_to and "Springfield, IL 627**" in sent_to
    assert "Smith" not in page.content() and "Oak" not in page.content()

    page.fill("input[name=line1]", "500 Elm Avenue")
    page.fill("input[name=line2]", "Unit 12")
    page.fill("input[name=city]", "Chicago")
    page.fill("input[name=region]", "IL")
    page.fill("input[name=postal_code]", "60601")
    page.screenshot(path=str(screenshots / "address-update.png"), full_page=True)
    page.click("text=Save my new address")
    page.wait_for_selector("h1:has-text('Thank you')")
    assert page.url == f"{live_server.url}/u/thanks"
    assert "We have saved your new address" in page.inner_text("main")

    with app.app_context():
        session = db.session
        new = current_address(session, customer_id=letter.customer_id)
        assert new is not None and new.id != letter.address_id
        assert (new.line1, new.line2, new.city, new.region, new.postal_code) == (
            "500 Elm Avenue", "Unit 12", "Chicago", "IL", "60601"
        )
        assert new.validity is AddressValidity.DELIVERABLE
        assert session.get_one(Address, letter.address_id).validity is AddressValidity.SUPERSEDED
        sources = session.scalars(
            select(AddressEvent.source).where(AddressEvent.customer_id == letter.customer_id)
        ).all()
        assert sources == [ChangeSource.CUSTOMER, ChangeSource.CUSTOMER]

    # The link has done its work: opened again, it changes nothing and says nothing. (Asked outside
    # the browser, which reports every 4xx page as a console error.)
    response = app.test_client().get(f"/u/{letter.token}")
    assert response.status_code == 410
    assert "This link can no longer be used" in response.get_data(as_text=True)
