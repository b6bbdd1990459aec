"""The dashboard: counts by status, by validity and by churn risk, drawn as SVG."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from sqlalchemy import update

from mailer.addresses.models import Address, AddressValidity
from mailer.auth.models import Role
from mailer.customers.models import Customer, CustomerStatus
from tests.web.conftest import data, import_demo_customers


def _chart(page: str, title: str) -> str:
    return re.search(rf'<svg class="chart"[^>]*aria-label="{title}">.*?</svg>', page, re.S).group(0)  # type: ignore[union-attr]


def test_the_dashboard_counts_and_draws_charts(app: Flask, logged_in, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = import_demo_customers(app, tmp_path, 40)
    with data(app) as session:
        session.execute(update(Customer).where(Customer.id.in_(ids[:5])).values(status=CustomerStatus.DO_NOT_MAIL))
        session.execute(update(Customer).where(Customer.id.in_(ids[:10])).values(churn_risk=0.05))
        session.execute(update(Customer).where(Customer.id.in_(ids[10:13])).values(churn_risk=1.0))
        session.execute(
            update(Address).where(Address.customer_id.in_(ids[:4])).values(validity=AddressValidity.DELIVERABLE)
        )
    page = logged_in(Role.MARKETING).get("/dashboard").get_data(as_text=True)

    assert '<div class="value">40</div><div class="label">customers</div>' in page
    assert '<div class="value">13</div><div class="label">with a churn risk</div>' in page
    assert '<div class="value">27</div><div class="label">not scored yet</div>' in page
    status = _chart(page, "Customers by status")
    assert re.search(r">active</text>.*?>35</text>", status, re.S)
    assert re.search(r">do not mail</text>.*?>5</text>", status, re.S)
    validity = _chart(page, "Addresses by validity")
    assert re.search(r">deliverable</text>.*?>4</text>", validity, re.S)
    assert re.search(r">unverified</text>.*?>36</text>", validity, re.S)
    risk = _chart(page, "Customers by churn risk")
    values = re.findall(r'fill="#1f2933">([\d,]+)</text>', risk)
    assert values == ["10", "0", "0", "0", "0", "0", "0", "0", "0", "3"]  # a risk of 1 is in the last bin


def test_an_empty_database_gives_an_empty_dashboard(logged_in) -> None:  # type: ignore[no-untyped-def]
    response = logged_in(Role.MARKETING).get("/dashboard")
    assert response.status_code == 200
    assert "No customer has a churn risk yet." in response.get_data(as_text=True)
