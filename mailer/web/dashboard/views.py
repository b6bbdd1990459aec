"""The dashboard page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from babel.dates import format_skeleton
from flask import render_template
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from mailer.addresses.models import AddressValidity
from mailer.auth.models import Role
from mailer.batches.service import CampaignStats, list_campaigns_with_stats
from mailer.churn.retention import last_run
from mailer.customers.models import CustomerStatus
from mailer.customers.service import (
    CountryVerification,
    addresses_by_validity,
    churn_risk_histogram,
    customers_by_status,
    verified_share_by_country,
)
from mailer.db import db, utcnow
from mailer.web.access import allow
from mailer.web.charts import (
    DEFAULT_COLOR,
    Bar,
    Series,
    column_chart,
    grouped_columns,
    horizontal_bars,
    stacked_columns,
)
from mailer.web.dashboard import bp
from mailer.web.i18n import label, reason_label
from returns.stats import returns_by_week

STATUS_COLORS = {
    CustomerStatus.ACTIVE: "#2f7d4f",
    CustomerStatus.DO_NOT_MAIL: "#b7791f",
    CustomerStatus.DECEASED: "#6b7785",
    CustomerStatus.MERGED: "#8a9bb0",
}
VALIDITY_COLORS = {
    AddressValidity.UNVERIFIED: "#8a9bb0",
    AddressValidity.DELIVERABLE: "#2f7d4f",
    AddressValidity.SUSPECT: "#d69e2e",
    AddressValidity.UNDELIVERABLE: "#c53030",
    AddressValidity.SUPERSEDED: "#c3ccd6",
}
# From low risk (green) to high (red), one colour per tenth.
RISK_COLORS = (
    "#2f7d4f", "#4a8c4a", "#6b9a45", "#8fa640", "#b3a93a", "#cc9a33", "#d6802d", "#d66128", "#cc4125", "#b83222",
)

RETURN_RATE_COLOR = "#c05621"
VERIFIED_COLOR = "#2f7d4f"
# Countries drawn on the verified-share chart, those with the most addresses first.
VERIFIED_COUNTRIES = 8
# The newest campaigns with mailed pieces drawn on the return-rate chart.
RETURN_RATE_CAMPAIGNS = 12
CAMPAIGN_NAME_SHOWN = 22


# Weeks drawn on the returns-per-week chart, this one included.
RETURN_WEEKS = 12
# One colour per return reason, the same every week.
REASON_COLORS = {
    "MLNA": "#c53030", "MOVED": "#dd6b20", "ANK": "#805ad5", "IA": "#d69e2e", "NSN": "#b83280", "VAC": "#2c7a7b",
    "REF": "#1a365d", "UNC": "#3182ce", "TA": "#90cdf4", "DEC": "#4a5568", "ORG": "#38a169", "ILL": "#9c4221",
    "OTH": "#a0aec0",
}


def _returns_per_week_chart() -> Markup | None:
    """Draw the current returns of the last weeks by reason, or None when there are none."""
    weekly = returns_by_week(db.session, weeks=RETURN_WEEKS, today=utcnow().date())
    if not weekly.total:
        return None
    return stacked_columns(
        [format_skeleton("MMMd", week, locale=get_locale()) for week in weekly.weeks],
        [Series(reason_label(code), REASON_COLORS.get(code, DEFAULT_COLOR)) for code in weekly.counts],
        list(weekly.counts.values()),
        title=_("Returns per week by reason"),
        axis_label=_("week beginning (Monday)"),
        width=960,
        format_value=format_decimal,
    )


PREDICTED_COLOR = "#8a9bb0"
OBSERVED_COLOR = "#c05621"


def _calibration_chart(backtest: dict[str, Any]) -> Markup:
    """Draw the backtest's calibration: per decile of the risk, the share predicted beside the share observed."""
    deciles = backtest["calibration"]
    return grouped_columns(
        [str(part["decile"]) for part in deciles],
        [Series(_("predicted"), PREDICTED_COLOR), Series(_("observed"), OBSERVED_COLOR)],
        [[part["predicted"] for part in deciles], [part["observed"] for part in deciles]],
        title=_("How well the churn risk predicted: share with no order, by decile of the risk"),
        axis_label=_("decile of the churn risk (1: lowest)"),
        width=960,
        format_value=lambda share: format_percent(share, "#,##0%"),
    )


def _backtest_figures(backtest: dict[str, Any]) -> dict[str, Any]:
    """Return the backtest's figures as the dashboard words them."""
    worst = next(part for part in backtest["calibration"] if part["decile"] == backtest["worst_decile"])
    recency = next((b["auc"] for b in backtest["baselines"] if b["name"] == "recency"), None)
    return {
        "end": backtest["calibration_end"],
        "days": backtest["horizon_days"],
        "customers": format_decimal(backtest["customers"]),
        "base_rate": format_percent(backtest["base_rate"], "#,##0%"),
        "auc": format_decimal(backtest["auc"], "0.000"),
        "recency": "—" if recency is None else format_decimal(recency, "0.000"),
        "brier": format_decimal(backtest["brier"], "0.000"),
        "base_brier": format_decimal(backtest["base_rate_brier"], "0.000"),
        "decile": backtest["worst_decile"],
        "predicted": format_percent(worst["predicted"], "#,##0%"),
        "observed": format_percent(worst["observed"], "#,##0%"),
    }


def _return_rate_bar(stats: CampaignStats) -> Bar:
    rate = stats.return_rate or 0.0
    name = stats.campaign.name
    short = name if len(name) <= CAMPAIGN_NAME_SHOWN else name[: CAMPAIGN_NAME_SHOWN - 1] + "…"
    return Bar(short, round(rate * 10_000), format_percent(rate, "#,##0.0%"), RETURN_RATE_COLOR)


def _verified_bar(found: CountryVerification) -> Bar:
    name = f"{found.country} ({format_decimal(found.total)})"
    return Bar(name, round(found.share * 10_000), format_percent(found.share, "#,##0.0%"), VERIFIED_COLOR)


@bp.route("")
@allow(Role.MARKETING)
def index() -> str:
    """Show customers by status, addresses by validity, churn risk, and returned mail by campaign and week."""
    statuses = customers_by_status(db.session)
    validities = addresses_by_validity(db.session)
    histogram = churn_risk_histogram(db.session)
    run = last_run(db.session)
    status_chart = horizontal_bars(
        [Bar(label(s), n, format_decimal(n), STATUS_COLORS.get(s, DEFAULT_COLOR)) for s, n in statuses.items()],
        title=_("Customers by status"),
    )
    validity_chart = horizontal_bars(
        [Bar(label(v), n, format_decimal(n), VALIDITY_COLORS.get(v, DEFAULT_COLOR)) for v, n in validities.items()],
        title=_("Addresses by validity"),
    )
    risk_chart = column_chart(
        [
            Bar(f"{round(low * 100)}–{round(high * 100)}%", n, format_decimal(n), RISK_COLORS[i % len(RISK_COLORS)])
            for i, ((low, high), n) in enumerate(zip(histogram.bins, histogram.counts, strict=True))
        ],
        title=_("Customers by churn risk"),
        axis_label=_("churn risk")
        if run is None
        else _("churn risk: chance of no order within %(days)s days", days=run.horizon_days),
        width=960,
    )
    countries = verified_share_by_country(db.session)[:VERIFIED_COUNTRIES]
    verified_chart = (
        horizontal_bars([_verified_bar(c) for c in countries], title=_("Current addresses verified, by country"))
        if countries
        else None
    )
    mailed = [c for c in list_campaigns_with_stats(db.session) if c.mailed][:RETURN_RATE_CAMPAIGNS]
    return_chart = (
        horizontal_bars([_return_rate_bar(c) for c in mailed], title=_("Return rate per campaign"), width=960)
        if mailed
        else None
    )
    return render_template(
        "dashboard/index.html",
        customer_total=sum(statuses.values()),
        scored=sum(histogram.counts),
        unscored=histogram.unscored,
        status_chart=status_chart,
        validity_chart=validity_chart,
        verified_chart=verified_chart,
        risk_chart=risk_chart,
        return_chart=return_chart,
        returns_per_week_chart=_returns_per_week_chart(),
        return_weeks=RETURN_WEEKS,
        churn_run=run,
        calibration_chart=None if run is None or run.backtest is None else _calibration_chart(run.backtest),
        backtest=None if run is None or run.backtest is None else _backtest_figures(run.backtest),
        backtest_end=None if run is None else run.as_of - timedelta(days=run.horizon_days),
    )
