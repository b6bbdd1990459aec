"""Acting on a customer in a real headless Chromium: correct the address with a reason, withdraw and
grant mail consent, add a note (marketing); read everything held and erase the customer (admin)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mailer.addresses.service import current_address
from mailer.auth.models import Role
from mailer.customers.consent import current_consents
from mailer.customers.models import ConsentChannel, Customer, CustomerStatus
from mailer.db import db
from tests.factories import US_ROW, add_customer
from tests.web.browser.conftest import LiveServer
from tests.web.browser.test_pages import log_in

pytestmark = pytest.mark.browser

NAME = "Zbigniew Quarrington"


def _customer(server: LiveServer, number: str) -> Customer:
    with server.app.app_context():
        found = db.session.scalar(select(Customer).where(Customer.customer_no == number))
        assert found is not None
        return found


def test_marketing_corrects_the_address_sets_do_not_mail_and_adds_a_note(
    live_server: LiveServer, open_page, screenshots: Path  # type: ignore[no-untyped-def]
) -> None:
    with live_server.app.app_context():
        customer_id = add_customer(db.session, "B100", base=US_ROW, name=NAME, order_cents=[4200]).id
        db.session.commit()
    page = open_page()
    log_in(page, live_server, Role.MARKETING, then=f"/customers/{customer_id}")
    expect(page.locator("h1")).to_contain_text(NAME)

    # Correct the address: the form opens from its summary, and the reason is required.
    page.locator("#correct-address summary").click()
    form = page.locator("#address-form")
    form.locator("input[name=line1]").fill("9 Birchwood Court")
    form.locator("input[name=city]").fill("Peoria")
    form.locator("input[name=postal_code]").fill("61602")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.error")).to_contain_text("the reason is missing")
    page.locator("#correct-address summary").click()
    form.locator("input[name=line1]").fill("9 Birchwood Court")
    form.locator("input[name=city]").fill("Peoria")
    form.locator("input[name=postal_code]").fill("61602")
    form.locator("input[name=reason]").fill("Customer phoned: moved in May")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.success")).to_contain_text("The address is corrected")
    expect(page.locator("#history")).to_contain_text("Customer phoned: moved in May")
    expect(page.locator(".address").first).to_contain_text("9 Birchwood Court")

    # Do not mail: withdraw mail consent with what the customer said.
    consent = page.locator("#consent-form")
    consent.locator("select[name=channel]").select_option("mail")
    consent.locator("select[name=decision]").select_option("withdraw")
    consent.locator("textarea[name=wording]").fill("Please, no more catalogs")
    consent.locator("button[type=submit]").click()
    expect(page.locator(".flash.success")).to_contain_text("consent is recorded")
    expect(page.locator("#consent tr[data-channel=mail]")).to_contain_text("withdrawn")
    expect(page.locator("#consent tr[data-channel=mail]")).to_contain_text("Please, no more catalogs")
    expect(page.locator(".page-head .badge").first).to_have_text("do not mail")

    page.locator("#note-form textarea[name=text]").fill("Prefers calls after 6pm")
    page.locator("#note-form button[type=submit]").click()
    expect(page.locator("#notes .note-text")).to_have_text(["Prefers calls after 6pm"])
    page.screenshot(path=str(screenshots / "customer-actions.png"), full_page=True)

    customer = _customer(live_server, "B100")
    assert customer.status is CustomerStatus.DO_NOT_MAIL
    with live_server.app.app_context():
        address = current_address(db.session, customer_id=customer_id)
        assert address is not None and address.line1 == "9 Birchwood Court"
        assert current_consents(db.session, customer_id=customer_id)[ConsentChannel.MAIL].granted is False

    # Consent is apart from validity: granting it again leaves the address as it is.
    consent.locator("select[name=channel]").select_option("mail")
    consent.locator("select[name=decision]").select_option("grant")
    consent.locator("textarea[name=wording]").fill("Yes, send the spring catalog")
    consent.locator("button[type=submit]").click()
    expect(page.locator("#consent tr[data-channel=mail]")).to_contain_text("granted")
    assert _customer(live_server, "B100").status is CustomerStatus.ACTIVE


def test_an_admin_reads_everything_held_and_erases_the_customer(
    live_server: LiveServer, open_page, screenshots: Path  # type: ignore[no-untyped-def]
) -> None:
    with live_server.app.app_context():
        customer_id = add_customer(db.session, "B200", base=US_ROW, name="Henrietta Quill", line1="3 Quill Lane",
                                   email="hq@example.org", phone="", order_cents=[1500]).id
        twin_id = add_customer(db.session, "B201", base=US_ROW, name="H. Quill", line1="8 Other Road",
                               email="hq@example.org", phone="").id
        db.session.commit()
    page = open_page()
    log_in(page, live_server, Role.ADMIN, then=f"/customers/{customer_id}")

    page.locator("a:has-text('Everything held')").click()
    expect(page.locator("#section-profile")).to_contain_text("Henrietta Quill")
    expect(page.locator("#section-orders")).to_contain_text("15.00")
    with page.expect_download() as download:
        page.locator("a:has-text('Download as JSON')").click()
    assert download.value.suggested_filename == f"customer-{customer_id}.json"

    page.goto(f"{live_server.url}/customers/{customer_id}")
    page.locator("a:has-text('Erase')").click()
    expect(page.locator("#duplicates")).to_contain_text("B201")
    expect(page.locator(f"#duplicates a[href='/customers/{twin_id}/erase']")).to_have_count(1)
    page.screenshot(path=str(screenshots / "customer-erase.png"), full_page=True)
    page.locator("input[name=confirm_no]").fill("B200")
    page.locator("#erase-form button[type=submit]").click()
    expect(page.locator(".flash.success")).to_contain_text("personal data is erased")
    expect(page.locator("h1")).not_to_contain_text("Henrietta")
    expect(page.locator("body")).not_to_contain_text("Quill Lane")

    page.goto(f"{live_server.url}/admin/looks?customer={twin_id}")
    expect(page.locator("h1")).to_have_text("Who looked at whom")
