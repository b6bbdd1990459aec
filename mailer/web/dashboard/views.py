"""The dashboard page."""

from __future__ import annotations

from flask import render_template
from flask_babel import format_decimal
from flask_babel import gettext as _

from mailer.addresses.models import AddressValidity
from mailer.auth.models import Role
from mailer.customers.models import CustomerStatus
from mailer.customers.service import addresses_by_validity, churn_risk_histogram, customers_by_status
from mailer.db import db
from mailer.web.access import allow
from mailer.web.charts import DEFAULT_COLOR, Bar, column_chart, horizontal_bars
from mailer.web.dashboard import bp
from mailer.web.i18n import label

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


@bp.route("")
@allow(Role.MARKETING)
def index() -> str:
    """Show customers by status, addresses by validity and the churn-risk distribution."""
    statuses = customers_by_status(db.session)
    validities = addresses_by_validity(db.session)
    histogram = churn_risk_histogram(db.session)
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
        axis_label=_("churn risk"),
        width=960,
    )
    return render_template(
        "dashboard/index.html",
        customer_total=sum(statuses.values()),
        scored=sum(histogram.counts),
        unscored=histogram.unscored,
        status_chart=status_chart,
        validity_chart=validity_chart,
        risk_chart=risk_chart,
    )
