"""Readable at every width, in a real headless Chromium: the menu on a laptop, wide tables and charts on a
tablet, searching customers as people type, and the audit log's filters."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from mailer.auth.models import Role
from mailer.batches.models import Batch
from mailer.batches.selection import BatchFilters, create_batch
from mailer.customers.importing import CUSTOMER_COLUMNS, import_customers
from mailer.customers.models import Customer
from mailer.db import db
from mailer.demo.generate import generate_customers
from tests.factories import customer_row, write_csv
from tests.web.browser.conftest import LiveServer
from tests.web.browser.test_pages import log_in

pytestmark = pytest.mark.browser

LAPTOP, TABLET = 1366, 768
# The smallest label, in CSS pixels on screen, that still reads comfortably.
READABLE_PX = 11


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """Customers (a few with names to search for) and a batch, so the pages have wide tables and charts."""
    rows = [
        *generate_customers(60, seed=5),
        customer_row(customer_no="K-NG-1", name="Nathan Garcia", email="N.Garcia@example.com",
                     phone="+1 (415) 555-0123", postal_code="94110"),
        customer_row(customer_no="K-WX-2", name="王小明", line1="文三路478号", city="杭州市", region="浙江省",
                     postal_code="310012", country="CN", phone="13812345678", email=""),
    ]
    folder = tmp_path_factory.mktemp("readable")
    with live_server.app.app_context():
        report = import_customers(
            db.session, path=write_csv(folder / "customers.csv", rows, CUSTOMER_COLUMNS), actor="test"
        )
        create_batch(db.session, campaign_name="Spring catalog 2027", profile="us-10", filters=BatchFilters(),
                     actor="test")
        db.session.commit()
    assert not report.rejected
    return live_server


def _menu_rows(page) -> int:  # type: ignore[no-untyped-def]
    """Return 1 if the top bar's brand, menu links, email and log-out button sit on one line, else 2."""
    return int(page.evaluate(
        """() => {
          const items = document.querySelectorAll(
            '.topbar .brand, .topbar nav a, .topbar .user a, .topbar .user button');
          const middles = [...items].map(el => {
            const box = el.getBoundingClientRect();
            return box.top + box.height / 2;
          });
          // Items on one line share their middle, give or take a few pixels of alignment.
          return Math.max(...middles) - Math.min(...middles) < 12 ? 1 : 2;
        }"""
    ))


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_whole_admin_menu_fits_one_line_at_1366_px(seeded: LiveServer, open_page, locale: str) -> None:  # type: ignore[no-untyped-def]
    page = open_page(width=LAPTOP, height=800, locale=locale)
    log_in(page, seeded, Role.ADMIN, then="/dashboard")
    assert page.locator(".topbar nav a").count() == 10  # every page an admin opens
    assert _menu_rows(page) == 1
    # At a tablet's width it may wrap, but the page itself never scrolls sideways.
    page.set_viewport_size({"width": TABLET, "height": 1024})
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET


def test_wide_tables_on_a_tablet_say_that_they_scroll(seeded: LiveServer, open_page, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    with seeded.app.app_context():
        batch_id = db.session.scalar(select(Batch.id))
    page = open_page(width=TABLET, height=1024)
    log_in(page, seeded, Role.ADMIN, then=f"/batches/{batch_id}")
    # A table that fits says nothing.
    assert page.locator(".scroll-hint:visible").count() == 0
    page.goto(seeded.url + "/retention")  # its columns are wider than a tablet
    page.wait_for_selector("table")
    frames = page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap')].map(frame => ({
          scrolls: frame.scrollWidth > frame.clientWidth + 1,
          marked: frame.classList.contains('scrolls'),
          hint: !!(frame.previousElementSibling && frame.previousElementSibling.classList.contains('scroll-hint')
                   && !frame.previousElementSibling.hidden && frame.previousElementSibling.offsetHeight > 0),
        }))"""
    )
    assert any(frame["scrolls"] for frame in frames), frames
    assert all(frame["marked"] == frame["scrolls"] == frame["hint"] for frame in frames), frames
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET
    assert "Scroll sideways for more columns" in page.inner_text("main")
    page.screenshot(path=str(screenshots / "retention-tablet.png"), full_page=False)

    # Turned to landscape on a laptop, the same table fits: no hint.
    page.set_viewport_size({"width": 1600, "height": 900})
    page.wait_for_function("() => !document.querySelector('.table-wrap.scrolls')")
    assert page.locator(".scroll-hint:visible").count() == 0


def test_chart_labels_stay_readable_on_a_tablet(seeded: LiveServer, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(width=TABLET, height=1024)
    log_in(page, seeded, Role.MARKETING, then="/dashboard")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('svg.chart text')].map(text =>
             parseFloat(text.getAttribute('font-size')) * text.getScreenCTM().a)"""
    )
    assert sizes and min(sizes) >= READABLE_PX, sorted(sizes)[:5]
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET


def test_marketing_searches_customers_as_people_type_them(seeded: LiveServer, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page()
    log_in(page, seeded, Role.MARKETING, then="/customers")

    def search(term: str) -> list[str]:
        page.fill("input[name=q]", term)
        page.click("button:has-text('Search')")
        page.wait_for_load_state()
        return page.locator("tbody td:nth-child(2)").all_inner_texts()

    assert search("nathan") == ["Nathan Garcia"]
    assert search("GARCIA") == ["Nathan Garcia"]
    assert search("k-ng-1") == ["Nathan Garcia"]
    assert search("n.garcia@example.com") == ["Nathan Garcia"]
    assert search("(415) 555-0123") == ["Nathan Garcia"]
    assert search("wang xiaoming") == ["王小明"]
    assert "王小明" in search("310012")  # a postcode, shared with others
    # The term stays in the field and out of the address bar.
    assert page.input_value("input[name=q]") == "310012" and "310012" not in page.url
    page.click("button:has-text('Clear search')")
    page.wait_for_load_state()
    assert page.locator("tbody tr").count() == 50  # a full page again


def test_the_audit_log_filters_by_user_customer_and_date(seeded: LiveServer, open_page, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    with seeded.app.app_context():
        customer_id = db.session.scalar(select(Customer.id).where(Customer.customer_no == "K-NG-1"))
    page = open_page(width=TABLET, height=1024)
    log_in(page, seeded, Role.ADMIN, then="/admin/audit")
    assert "logged in" in page.inner_text("tbody")
    assert "created batch" in page.inner_text("tbody")

    page.select_option("select[name=actor]", "test")
    page.click("button:has-text('Show')")
    page.wait_for_load_state()
    actors = set(page.locator("tbody td:nth-child(2)").all_inner_texts())
    assert actors == {"test"}

    page.fill("input[name=customer_no]", "K-NG-1")
    page.click("button:has-text('Only this customer')")
    page.wait_for_load_state()
    assert f"customer={customer_id}" in page.url and "K-NG-1" not in page.url
    assert "Showing what was done to customer K-NG-1." in page.inner_text("main")
    assert page.locator("tbody td.empty").count() == 1  # imported, never changed on its own

    page.goto(seeded.url + "/admin/audit?since=2000-01-01&until=2000-12-31")
    assert page.inner_text("tbody").strip() == "Nothing recorded."
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET
    page.goto(seeded.url + "/admin/audit")
    page.screenshot(path=str(screenshots / "audit.png"), full_page=False)
