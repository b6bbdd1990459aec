"""Staff pages in a real headless Chromium: log in, import files, find and read a customer."""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from mailer.addresses.models import Address, AddressValidity
from mailer.auth.models import Role
from mailer.churn.service import refresh_churn
from mailer.customers.importing import CUSTOMER_COLUMNS
from mailer.customers.models import Customer, CustomerStatus
from mailer.db import db
from mailer.demo.generate import generate_customers, generate_orders
from mailer.orders.importing import ORDER_COLUMNS
from tests.factories import write_csv
from tests.web.browser.conftest import EMAILS, PASSWORD, LiveServer

pytestmark = pytest.mark.browser


def log_in(page, server: LiveServer, role: Role, *, then: str = "/") -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + then)
    page.fill("input[name=email]", EMAILS[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def upload(page, server: LiveServer, path: Path, *, kind: str = "customers") -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/imports")
    page.check(f"input[name=kind][value={kind}]")
    page.set_input_files("input[type=file]", str(path))
    page.click("text=Upload and import")
    page.wait_for_selector("h1:has-text('Import result')")


def score_customers(server: LiveServer, seed: int, *, as_of: date) -> None:
    """Refresh the customers' churn risks on their orders and give some addresses a validity, as returns will."""
    rng = random.Random(seed)
    with server.app.app_context():
        session = db.session
        refresh_churn(session, as_of=as_of, actor="t")
        ids = session.scalars(select(Customer.id).order_by(Customer.id)).all()
        for customer_id in ids[5::7]:
            session.execute(
                update(Address).where(Address.customer_id == customer_id, Address.is_current)
                .values(validity=rng.choice([AddressValidity.DELIVERABLE, AddressValidity.SUSPECT,
                                             AddressValidity.UNDELIVERABLE]))
            )
        session.execute(
            update(Customer).where(Customer.id.in_(ids[3::25])).values(status=CustomerStatus.DO_NOT_MAIL)
        )
        session.commit()


def test_staff_log_in_import_files_and_read_a_customer(
    live_server: LiveServer, open_page, screenshots: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    customers = list(generate_customers(240, seed=11))
    bad_rows = [
        {**customers[0], "customer_no": "BAD1", "postal_code": "12"},
        {**customers[1], "customer_no": "BAD2", "country": "Narnia"},
    ]
    customer_file = write_csv(tmp_path / "spring-customers.csv", customers + bad_rows, CUSTOMER_COLUMNS)
    orders = generate_orders([c["customer_no"] for c in customers], as_of=date(2026, 11, 1), seed=11)
    order_file = write_csv(tmp_path / "orders.csv", orders, ORDER_COLUMNS)
    mover = next(c for c in customers if c["country"] == "US")
    moved_file = write_csv(
        tmp_path / "moves.csv",
        [{**mover, "line1": "88 Harbor Road", "line2": "Apt 12", "postal_code": "10001"}],
        CUSTOMER_COLUMNS,
    )

    page = open_page()
    # A stranger is asked to log in and then sent to the page they wanted.
    page.goto(live_server.url + "/customers")
    assert page.url.endswith("/login")
    log_in(page, live_server, Role.MARKETING, then="/customers")
    assert page.url.endswith("/customers")

    upload(page, live_server, customer_file)
    result = page.inner_text("main")
    assert "spring-customers.csv" in result
    assert re.search(r"240\s+created", result) and re.search(r"2\s+rejected", result)
    assert "unknown country 'Narnia'" in result
    page.screenshot(path=str(screenshots / "import-result.png"), full_page=True)

    upload(page, live_server, order_file, kind="orders")
    assert re.search(r"0\s+rejected", page.inner_text("main"))
    upload(page, live_server, moved_file)
    assert re.search(r"1\s+updated", page.inner_text("main"))
    score_customers(live_server, seed=11, as_of=date(2026, 11, 1))

    page.goto(live_server.url + "/dashboard")
    # Status, validity, share verified, churn risk, and how well the risk predicted on these customers' own orders.
    assert page.locator("svg.chart").count() == 5
    assert "How well the churn risk predicts" in page.inner_text("main")
    page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)

    page.goto(live_server.url + "/customers")
    assert page.locator("tbody tr").count() == 50
    page.click("text=Next →")
    expect(page).to_have_url(re.compile(r"after="))
    expect(page.locator("tbody tr")).to_have_count(50)
    page.goto(live_server.url + "/customers")
    page.screenshot(path=str(screenshots / "customers.png"))

    # Searching by name posts the term: it never shows in the address bar.
    surname = mover["name"].split()[0]
    page.fill("input[name=q]", surname)
    page.click("button:has-text('Search')")
    assert surname not in page.url
    page.click(f"text={mover['name']}")
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.locator(".timeline > li")).to_have_count(3)
    body = page.inner_text("main")
    assert "88 Harbor Road" in body and mover["line1"] in body  # current address, and the old one in history
    assert "Churn risk" in body and "Chance of no order within 365 days of the scoring day." in body
    assert "customers like this usually order every" in body or "No orders on record" in body
    page.screenshot(path=str(screenshots / "customer.png"), full_page=True)

    page.click("text=Log out")
    assert page.url.endswith("/login")

    log_in(page, live_server, Role.ADMIN)
    page.goto(live_server.url + "/admin/users")
    assert EMAILS[Role.MARKETING] in page.inner_text("main")
    page.screenshot(path=str(screenshots / "admin-users.png"), full_page=True)
    page.goto(live_server.url + "/admin/audit")
    audit = page.inner_text("main")
    assert "customers.import" in audit and "orders.import" in audit and "auth.login" in audit


def test_a_tablet_in_chinese(live_server: LiveServer, open_page, screenshots: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    customers = list(generate_customers(60, seed=12))
    page = open_page(width=820, height=1180, locale="zh-CN")
    page.goto(live_server.url + "/login")
    assert page.inner_text("h1") == "登录"
    log_in(page, live_server, Role.MARKETING)
    page.goto(live_server.url + "/imports")
    assert "导入文件" in page.inner_text("h1")
    page.set_input_files("input[type=file]", str(write_csv(tmp_path / "c.csv", customers, CUSTOMER_COLUMNS)))
    page.click("button[type=submit]:has-text('上传并导入')")
    page.wait_for_selector("h1:has-text('导入结果')")

    for path in ("/customers", "/dashboard"):
        page.goto(live_server.url + path)
        # Nothing wider than the tablet: no sideways scrolling of the whole page.
        assert page.evaluate("document.documentElement.scrollWidth") <= 820
    page.goto(live_server.url + "/customers")
    assert "客户编号" in page.inner_text("thead")
    page.screenshot(path=str(screenshots / "customers-zh-tablet.png"), full_page=False)
