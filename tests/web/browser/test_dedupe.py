"""The duplicate review in a real headless Chromium: compare a pair and read why it scores as it does,
mark it not a duplicate with a note (Enter in the note never merges), restore it, merge it and undo the merge."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mailer.auth.models import Role
from mailer.customers.models import Customer, CustomerStatus
from mailer.db import db
from mailer.dedupe.stored import store_search
from tests.factories import CN_ROW, add_customer
from tests.web.browser.conftest import LiveServer
from tests.web.browser.test_pages import log_in

pytestmark = pytest.mark.browser


def statuses(server: LiveServer) -> dict[str, CustomerStatus]:
    with server.app.app_context():
        return {c.customer_no: c.status for c in db.session.scalars(select(Customer))}


def test_marketing_marks_a_pair_not_a_duplicate_then_restores_and_merges_it(
    live_server: LiveServer, open_page, screenshots: Path  # type: ignore[no-untyped-def]
) -> None:
    with live_server.app.app_context():
        add_customer(db.session, "C001", name="John Smith", email="john@example.com", order_cents=[1000, 2000])
        add_customer(db.session, "C002", name="Jon Smith", email="jsmith@example.org", order_cents=[500])
        add_customer(db.session, "C003", base=CN_ROW)
        store_search(db.session, actor="test")
        db.session.commit()
    page = open_page()
    log_in(page, live_server, Role.MARKETING, then="/duplicates")

    pair = page.locator("section.dup-pair")
    expect(pair).to_have_count(1)
    expect(pair.locator("tr.differs th")).to_contain_text(["Name", "Email"])
    # The waterfall: from the prior through each field to the match probability.
    pair.locator("details.dup-waterfall summary").click()
    steps = pair.locator("details.dup-waterfall tbody th")
    expect(steps.first).to_have_text("prior")
    expect(steps.last).to_have_text("Match probability")
    expect(pair.locator("details.dup-waterfall tbody")).to_contain_text("nickname")
    page.screenshot(path=str(screenshots / "duplicates.png"), full_page=True)

    # Enter in the note submits the "not a duplicate" form, never a merge.
    note = pair.locator("input[name=note]")
    note.fill("father and son")
    note.press("Enter")
    expect(page.locator(".flash.success")).to_contain_text("Customers C001 and C002 are marked as not duplicates")
    expect(page.locator("section.dup-pair")).to_have_count(0)
    dismissed = page.locator("table.dup-dismissed tbody tr")
    expect(dismissed).to_have_count(1)
    expect(dismissed).to_contain_text("father and son")
    assert statuses(live_server)["C002"] is CustomerStatus.ACTIVE

    dismissed.locator("button:has-text('Restore')").click()
    expect(page.locator(".flash.success")).to_contain_text("may be offered as duplicates again")
    page.locator("section.dup-pair button:has-text('Merge into C001')").click()
    expect(page.locator(".flash.success")).to_contain_text("Customer C002 is merged into C001.")
    assert statuses(live_server) == {
        "C001": CustomerStatus.ACTIVE, "C002": CustomerStatus.MERGED, "C003": CustomerStatus.ACTIVE
    }

    page.click("a.button:has-text('Recent merges')")
    expect(page).to_have_url(re.compile(r"/duplicates/merges$"))
    page.locator("button:has-text('Undo')").first.click()
    expect(page.locator(".flash.success")).to_contain_text("is undone")
    assert statuses(live_server)["C002"] is CustomerStatus.ACTIVE
