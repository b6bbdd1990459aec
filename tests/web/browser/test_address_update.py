"""A customer on a phone follows the link from their envelope and gives their new address, keyboard only."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from mailer.addresses.models import Address, AddressEvent, AddressValidity, AddressVerification, ChangeSource
from mailer.addresses.service import current_address
from mailer.auth.models import Role
from mailer.customers.models import Customer
from mailer.db import db
from tests.selfservice.letters import CN_ROW, mail_letter
from tests.web.browser.conftest import LiveServer
from tests.web.browser.test_mailroom import customer_card
from tests.web.browser.test_pages import log_in

pytestmark = pytest.mark.browser


def tab_to(page, selector: str, *, limit: int = 30) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until the element ``selector`` has the focus, as a keyboard user moves through a page."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def type_fields(page, values: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Type each value into the focused field and Tab to the next one."""
    for index, value in enumerate(values):
        if index:
            page.keyboard.press("Tab")
        page.keyboard.type(value)


def choose(page, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Move the focused select to ``value`` with the arrow keys, one option at a time, as a keyboard user does."""
    select = f"select[name={name}]"
    assert page.evaluate("s => document.activeElement.matches(s)", select)
    # The options may still be coming: wait until the one wanted is there.
    page.wait_for_function(
        "([s, v]) => [...document.querySelector(s).options].some(o => o.value === v)", arg=[select, value]
    )
    steps = page.evaluate(
        "([s, v]) => { const e = document.querySelector(s);"
        " return [...e.options].findIndex(o => o.value === v) - e.selectedIndex; }",
        [select, value],
    )
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    assert page.input_value(select) == value


def mail_scored_letter(live_server: LiveServer, customer_no: str, **fields: str):  # type: ignore[no-untyped-def]
    app = live_server.app
    with app.app_context():
        letter = mail_letter(db.session, customer_no, secret=app.config["SECRET_KEY"], **fields)
        db.session.get_one(Customer, letter.customer_id).churn_risk = 0.5
        db.session.commit()
    return letter


def test_a_customer_updates_their_address_through_the_link(
    live_server: LiveServer, open_page, screenshots: Path  # type: ignore[no-untyped-def]
) -> None:
    app = live_server.app
    letter = mail_scored_letter(live_server, "C100")

    # The QR code on the envelope opens the link on a phone.
    page = open_page(width=390, height=844, locale="zh-CN")
    page.goto(f"{live_server.url}/u/{letter.token}")
    # The envelope was mailed in the US: English, whatever the phone's language, with a switch.
    assert page.get_attribute("html", "lang") == "en"
    sent_to = page.inner_text("#letter-address")
    assert "J*** S****" in sent_to and "Springfield, IL 627**" in sent_to
    assert "Smith" not in page.content() and "Oak" not in page.content()
    # Whose letter it is, as on the envelope: the sender's name, colour and hotline, and a privacy notice.
    assert page.inner_text("#sender-name") == "Evergreen Books"
    assert page.get_attribute("#sender-hotline", "href") == "tel:1-800-555-0199"
    colour = page.locator(".sender-bar").evaluate("bar => getComputedStyle(bar).backgroundColor")
    assert colour == "rgb(46, 107, 63)"  # the sender's #2e6b3f
    assert "Evergreen Books uses your address only" in page.inner_text(".privacy")
    assert page.get_attribute("input[name=postal_code]", "inputmode") == "numeric"

    tab_to(page, "input[name=line1]")
    # The state is a select of the reference data's states: typing its code picks it.
    type_fields(page, ["500 Elm Avenue", "Unit 12", "Chicago", "IL", "60601"])
    assert page.input_value("select[name=region]") == "IL"
    page.keyboard.press("Enter")
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

    # The staff see the customer re-scored at once, and why.
    office = open_page()
    log_in(office, live_server, Role.MARKETING)
    validity, risk = customer_card(office, live_server, letter.customer_id)
    assert validity == "deliverable" and risk < 0.5
    assert "Customer updated their own address" in office.inner_text("body")

    # The link has done its work: opened again, it changes nothing and says nothing. (Asked outside
    # the browser, which reports every 4xx page as a console error.)
    response = app.test_client().get(f"/u/{letter.token}")
    assert response.status_code == 410
    assert "This link can no longer be used" in response.get_data(as_text=True)


def test_a_customer_moving_abroad_says_so_in_their_language(
    live_server: LiveServer, browser  # type: ignore[no-untyped-def]
) -> None:
    letter = mail_scored_letter(live_server, "C101", base=CN_ROW)
    # The refused country is answered 400, which Chromium reports as a console error: allow exactly that.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{live_server.url}/u/{letter.token}")
        # Mailed in China: Chinese first, whatever the browser asks; the switch is one key away.
        assert page.get_attribute("html", "lang") == "zh-Hans" and page.inner_text("#sender-name") == "长青书友会"
        tab_to(page, ".language-switch a")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.documentElement.lang === 'en'")

        # Moving to Germany: the street and postal code, then "I am moving to another country", its name
        # and the city, typed there since the page's own cities are China's.
        tab_to(page, "input[name=line1]")
        type_fields(page, ["Unter den Linden 5", "", "10117"])
        tab_to(page, "details.abroad summary")
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        type_fields(page, ["Atlantis", "Berlin"])
        page.keyboard.press("Enter")
        # Not a country we know: said beside the field, everything typed kept, nothing changed.
        page.wait_for_selector("details.abroad .errors")
        assert page.get_attribute("html", "lang") == "en"
        assert page.input_value("input[name=line1]") == "Unter den Linden 5"
        assert page.input_value("input[name=country]") == "Atlantis"
        assert page.input_value("input[name=abroad_city]") == "Berlin"
        with live_server.app.app_context():
            unchanged = current_address(db.session, customer_id=letter.customer_id)
            assert unchanged is not None and unchanged.id == letter.address_id

        tab_to(page, "input[name=country]")
        page.keyboard.press("Control+A")
        page.keyboard.type("Deutschland")
        page.keyboard.press("Enter")
        page.wait_for_selector("h1:has-text('Thank you')")
    finally:
        context.close()
    assert len(errors) == 1 and "status of 400 " in errors[0], errors
    with live_server.app.app_context():
        new = current_address(db.session, customer_id=letter.customer_id)
        assert new is not None and (new.line1, new.city, new.postal_code, new.country) == (
            "Unter den Linden 5", "Berlin", "10117", "DE"
        )


def test_a_chinese_customer_chooses_province_city_and_district_with_the_keyboard(
    live_server: LiveServer, open_page, screenshots: Path  # type: ignore[no-untyped-def]
) -> None:
    letter = mail_scored_letter(live_server, "C102", base=CN_ROW)
    page = open_page(width=390, height=844, locale="zh-CN")
    # In English, which the screenshot can show with any fonts; the divisions keep their Chinese names.
    page.goto(f"{live_server.url}/u/{letter.token}?lang=en")
    # The script fills the selects as they are chosen: the button asking the server to is gone.
    assert page.locator("[data-choose]").count() == 0
    assert page.get_attribute("input[name=postal_code]", "inputmode") == "numeric"

    tab_to(page, "select[name=region]")
    choose(page, "region", "江苏省")
    page.keyboard.press("Tab")
    choose(page, "city", "南京市")
    page.keyboard.press("Tab")
    choose(page, "district", "鼓楼区")
    # The cities are Jiangsu's alone, the districts Nanjing's.
    assert "杭州市" not in page.inner_text("select[name=city]")
    assert "玄武区" in page.inner_text("select[name=district]")
    page.keyboard.press("Tab")
    type_fields(page, ["中山路1号", "", "210008"])
    page.screenshot(path=str(screenshots / "address-update.png"), full_page=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Thank you')")

    with live_server.app.app_context():
        new = current_address(db.session, customer_id=letter.customer_id)
        assert new is not None and new.id != letter.address_id
        assert (new.region, new.city, new.line1, new.postal_code, new.country) == (
            "江苏省", "南京市", "鼓楼区中山路1号", "210008", "CN"
        )
        assert new.verification is AddressVerification.VERIFIED, new.verification_reason
