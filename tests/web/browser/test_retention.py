"""The retention list in a real headless Chromium: filter, page, open a customer, download the CSV."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from mailer.auth.models import Role
from mailer.churn.retention import RETENTION_COLUMNS
from mailer.churn.service import refresh_churn
from mailer.customers.importing import CUSTOMER_COLUMNS, import_customers
from mailer.customers.models import Customer
from mailer.db import db
from mailer.demo.generate import generate_customers, generate_orders
from mailer.orders.importing import ORDER_COLUMNS, import_orders
from tests.factories import write_csv
from tests.web.browser.conftest import LiveServer
from tests.web.browser.test_pages import log_in

pytestmark = pytest.mark.browser


def scored_customers(server: LiveServer, tmp_path: Path, count: int, *, seed: int) -> int:
    """Import generated customers and their orders, refresh the churn risks; return how many were scored."""
    customers = list(generate_customers(count, seed=seed))
    orders = generate_orders([c["customer_no"] for c in customers], as_of=date.today() - timedelta(days=1), seed=seed)
    with server.app.app_context():
        session = db.session
        import_customers(session, path=write_csv(tmp_path / "customers.csv", customers, CUSTOMER_COLUMNS), actor="t")
        import_orders(session, path=write_csv(tmp_path / "orders.csv", orders, ORDER_COLUMNS), actor="t")
        refresh_churn(session, as_of=date.today(), actor="t")
        session.commit()
        return session.scalar(select(func.count()).where(Customer.churn_value_at_risk_cents.is_not(None))) or 0


def test_marketing_filters_pages_and_downloads_the_retention_list(
    live_server: LiveServer, open_page, screenshots: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    scored = scored_customers(live_server, tmp_path, 180, seed=31)
    page = open_page()
    log_in(page, live_server, Role.MARKETING)

    page.click("nav >> text=Retention")
    expect(page).to_have_url(re.compile(r"/retention$"))
    expect(page.locator("h1")).to_have_text("Retention list")
    page.fill("form.filters input[name=min_risk]", "0")
    # A click that navigates returns once the new page is committed, before its rows are parsed: wait on them.
    page.click("button:has-text('Filter')")
    expect(page).to_have_url(re.compile(r"min_risk=0"))
    expect(page.locator("tbody tr")).to_have_count(50)
    page.screenshot(path=str(screenshots / "retention.png"), full_page=False)

    first_number = page.inner_text("tbody tr:first-child td.mono")
    page.click("text=Next →")
    expect(page).to_have_url(re.compile(r"after=.*min_risk=0|min_risk=0.*after="))
    assert first_number not in page.url
    expect(page.locator("tbody tr")).to_have_count(50)
    second_number = page.inner_text("tbody tr:first-child td.mono")
    page.click("text=← Previous")
    expect(page.locator("tbody tr:first-child td.mono")).to_have_text(first_number)

    with page.expect_download() as download_info:
        page.click("button:has-text('Download CSV')")
    download = download_info.value
    assert re.fullmatch(r"retention-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    # UTF-8 with a byte-order mark, as Excel on Windows needs to read Chinese names.
    assert Path(download.path()).read_bytes().startswith(b"\xef\xbb\xbf")
    with Path(download.path()).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(RETENTION_COLUMNS)
    assert all(row["line1"] and row["city"] and row["country"] for row in rows)  # whom to write to
    assert len(rows) == scored - sum(1 for row in rows if row["status"] not in ("active", "do_not_mail"))
    assert [row["customer_no"] for row in rows][:1] == [first_number] and rows[50]["customer_no"] == second_number

    page.click(f"text={first_number}")
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.locator("main")).to_contain_text(first_number)
