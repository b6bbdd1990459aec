"""The dashboard: counts by status, by validity and by churn risk, drawn as SVG."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from babel.dates import format_skeleton
from flask import Flask
from sqlalchemy import select, update

from mailer.addresses.models import Address, AddressValidity
from mailer.auth.models import Role
from mailer.customers.models import Customer, CustomerStatus
from mailer.db import utcnow
from tests.churn.stored import return_mail
from tests.factories import add_customer
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


def _returns(app: Flask, returns: list[tuple[str, date]], *, corrected: Sequence[tuple[str, date]] = ()) -> None:
    """Store customers with US addresses and a return of a catalog to each, on the day given."""
    with data(app) as session:
        customers = [add_customer(session, f"R{i:03d}", line1=f"{i} Return Road") for i in range(len(returns))]
        return_mail(session, [(c, reason, on) for c, (reason, on) in zip(customers, returns, strict=True)])
        if corrected:
            others = [add_customer(session, f"X{i:03d}", line1=f"{i} Other Road") for i in range(len(corrected))]
            return_mail(
                session, [(c, reason, on) for c, (reason, on) in zip(others, corrected, strict=True)], current=False
            )


def test_the_returns_chart_counts_current_returns_by_week_and_reason(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    today = utcnow().date()
    monday = today - timedelta(days=today.weekday())
    _returns(
        app,
        [("MLNA", today), ("MLNA", monday), ("REF", monday), ("MLNA", monday - timedelta(days=1)),
         ("UNC", monday - timedelta(weeks=11)), ("VAC", monday - timedelta(weeks=12))],  # the last: too old
        corrected=[("MLNA", today)],
    )

    page = logged_in(Role.MARKETING).get("/dashboard").get_data(as_text=True)

    chart = _chart(page, "Returns per week by reason")
    totals = re.findall(r'text-anchor="middle" font-size="13" fill="#1f2933">(\d+)</text>', chart)
    assert totals == ["1"] + ["0"] * 9 + ["1", "3"]  # twelve weeks, oldest first
    week_labels = re.findall(r'font-size="13" fill="#6b7785">([^<]+)</text>', chart)
    assert len(week_labels) == 12 and week_labels[-1] == format_skeleton("MMMd", monday, locale="en")
    legend = re.findall(r'dominant-baseline="middle" font-size="13" fill="#1f2933">([^<]+)</text>', chart)
    assert legend == ["Moved, left no address", "Refused", "Unclaimed"]  # most returned first
    assert "<title>Moved, left no address: 2</title>" in chart
    assert "the last 12 weeks" in page


def test_the_returns_chart_is_left_out_without_returns_and_speaks_chinese(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MARKETING)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Returns per week by reason" in page and "No mail came back in the last 12 weeks." in page
    assert 'aria-label="Returns per week by reason"' not in page

    _returns(app, [("MLNA", utcnow().date())])
    chinese = client.get("/dashboard", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    chart = _chart(chinese, "每周退件（按原因）")
    assert "迁移新址不明" in chart and "周（自周一起）" in chart


def _refreshed(app: Flask, *, horizon_days: int = 365) -> None:
    """Store a simulated population and refresh its churn risk, so a backtest is on record."""
    from mailer.churn.service import refresh_churn
    from tests.churn.stored import AS_OF, add_population

    with data(app) as session:
        add_population(session, 400)
        refresh_churn(session, as_of=AS_OF, actor="t", horizon_days=horizon_days, currency="CNY")


def test_the_dashboard_draws_how_well_the_risk_predicted_on_the_stored_orders(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    from mailer.churn.models import ChurnRun

    _refreshed(app, horizon_days=180)
    with data(app) as session:
        backtest = session.scalars(select(ChurnRun)).one().backtest
    assert backtest is not None

    page = logged_in(Role.MARKETING).get("/dashboard").get_data(as_text=True)

    assert "Churn risk: the chance of no order within 180 days of" in page
    assert "churn risk: chance of no order within 180 days" in _chart(page, "Customers by churn risk")
    chart = _chart(page, "How well the churn risk predicted: share with no order, by decile of the risk")
    # Each decile's share predicted beside the share observed, as the backtest stored them.
    tooltips = re.findall(r"<title>(predicted|observed): (\d+)%</title>", chart)
    assert len(tooltips) == 20
    first = backtest["calibration"][0]
    assert tooltips[0] == ("predicted", str(round(first["predicted"] * 100)))
    assert tooltips[1] == ("observed", str(round(first["observed"] * 100)))
    assert f"computed from your customers’ orders up to {backtest['calibration_end']}" in html_text(page)
    assert f"Ranking (AUC; 1 is perfect, 0.5 is chance): {backtest['auc']:.3f}" in html_text(page)
    assert f"Furthest off: decile {backtest['worst_decile']}," in html_text(page)
    assert "How this is computed" in page


def test_before_any_refresh_the_dashboard_says_how_to_get_the_backtest(logged_in) -> None:  # type: ignore[no-untyped-def]
    page = logged_in(Role.MARKETING).get("/dashboard").get_data(as_text=True)

    assert "Run the churn refresh to see how well the risk predicts on your customers." in page


def html_text(page: str) -> str:
    """Return the page's text with its entities read."""
    import html

    return html.unescape(page)
