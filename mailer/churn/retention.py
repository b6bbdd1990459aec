"""The retention list: customers likely to leave, the most valuable first, each with the main reason why.

Who is on it: scored customers at or above a churn risk who can still be won back, that is active
and do-not-mail customers. Do-not-mail customers cannot be sent a catalog but may be called or
emailed, so they are listed with their status (``include_do_not_mail=False`` leaves them out);
deceased and merged customers never are.

Value is RFM: recency (days since the last order), frequency (purchase days) and monetary (total
spend). The list is ordered by churn risk × monetary, the spend at stake.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressValidity
from mailer.customers.models import Customer, CustomerStatus
from mailer.orders.models import Order

RETENTION_COLUMNS: Final = (
    "customer_no",
    "name",
    "recency_days",
    "frequency",
    "monetary",
    "churn_risk",
    "top_reason",
    "address_validity",
    "status",
)
# Rows fetched per round trip while the list is read.
FETCH_ROWS: Final = 1_000


@dataclass(frozen=True, slots=True)
class RetentionRow:
    """One customer on the retention list."""

    customer_id: int
    customer_no: str
    name: str
    status: CustomerStatus
    # Days from the last order to the list's day; None without orders.
    recency_days: int | None
    # Purchase days (several orders on one day are one purchase).
    frequency: int
    # Total spend, in currency units.
    monetary: Decimal
    churn_risk: float
    top_reason: str
    # The current address's validity; None without a current address.
    address_validity: AddressValidity | None

    @property
    def value_at_risk(self) -> Decimal:
        """Return the spend at stake: churn risk × monetary."""
        return self.monetary * Decimal(repr(self.churn_risk))

    def as_csv_row(self) -> dict[str, str]:
        """Return the row's RETENTION_COLUMNS as text for a CSV file."""
        return {
            "customer_no": self.customer_no,
            "name": self.name,
            "recency_days": "" if self.recency_days is None else str(self.recency_days),
            "frequency": str(self.frequency),
            "monetary": f"{self.monetary:.2f}",
            "churn_risk": f"{self.churn_risk:.6f}",
            "top_reason": self.top_reason,
            "address_validity": "" if self.address_validity is None else self.address_validity.value,
            "status": self.status.value,
        }


def retention_list(
    session: Session,
    *,
    min_risk: float,
    limit: int | None = None,
    include_do_not_mail: bool = True,
    today: date | None = None,
) -> Iterator[RetentionRow]:
    """Yield the customers at or above ``min_risk``, highest churn risk × spend first."""
    if not 0 <= min_risk <= 1:
        raise ValueError("min_risk must lie between 0 and 1")
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    day = today or date.today()
    statuses = [CustomerStatus.ACTIVE, *([CustomerStatus.DO_NOT_MAIL] if include_do_not_mail else [])]
    listed = (Customer.churn_risk >= min_risk, Customer.status.in_(statuses))
    # Only the listed customers' orders are summed, not every order on record.
    history = (
        select(
            Order.customer_id,
            func.max(Order.ordered_on).label("last_ordered_on"),
            func.count(Order.ordered_on.distinct()).label("purchase_days"),
            func.sum(Order.amount_cents).label("spend_cents"),
        )
        .join(Customer, Customer.id == Order.customer_id)
        .where(*listed)
        .group_by(Order.customer_id)
        .subquery()
    )
    spend_cents = func.coalesce(history.c.spend_cents, 0)
    statement = (
        select(
            Customer.id,
            Customer.customer_no,
            Customer.name,
            Customer.status,
            Customer.churn_risk,
            Customer.churn_explanation,
            history.c.last_ordered_on,
            func.coalesce(history.c.purchase_days, 0),
            spend_cents,
            Address.validity,
        )
        .outerjoin(history, history.c.customer_id == Customer.id)
        .outerjoin(Address, (Address.customer_id == Customer.id) & Address.is_current)
        .where(*listed)
        .order_by((Customer.churn_risk * spend_cents).desc(), Customer.churn_risk.desc(), Customer.customer_no)
        .limit(limit)
        .execution_options(yield_per=FETCH_ROWS)
    )
    for row in session.execute(statement):
        (customer_id, customer_no, name, status, risk, explanation, last_on, purchase_days, cents, validity) = row
        recency = None if last_on is None else (day - last_on).days
        yield RetentionRow(
            customer_id=customer_id,
            customer_no=customer_no,
            name=name,
            status=status,
            recency_days=recency,
            frequency=int(purchase_days),
            monetary=Decimal(int(cents)) / 100,
            churn_risk=float(risk),
            top_reason=top_reason(explanation, recency_days=recency),
            address_validity=validity,
        )


def top_reason(explanation: Sequence[Mapping[str, Any]] | None, *, recency_days: int | None) -> str:
    """Name what drives a stored churn explanation most, in a few words.

    A terminal line ends the relationship and always leads. Otherwise the piece of evidence that
    raised the odds of churn most, unless the base figure says more on its own: its log-odds
    against even odds exceed the evidence's shift. Then the model's reading ("model: no purchase
    for 30 weeks", from ``recency_days``) or the stated prior.
    """
    lines = list(explanation or [])
    for line in lines:
        if line.get("kind") == "terminal":
            return _evidence_reason(line)
    raising = [line for line in lines if line.get("kind") == "evidence" and (line.get("odds_factor") or 0) > 1]
    top = max(raising, key=lambda line: line["odds_factor"], default=None)
    base = next((line for line in lines if line.get("kind") in ("model", "prior")), None)
    if top is not None and (base is None or math.log(top["odds_factor"]) >= _log_odds(base.get("risk_after"))):
        return _evidence_reason(top)
    if base is None:
        return ""
    if base["kind"] == "prior":
        return "prior: no orders on record" if recency_days is None else "prior: too little purchase history"
    if recency_days is None:
        return "model"
    weeks = recency_days // 7
    return f"model: no purchase for {weeks} week{'' if weeks == 1 else 's'}"


def _evidence_reason(line: Mapping[str, Any]) -> str:
    label = line.get("label") or str(line.get("text", "")).split(" — ")[0]
    observed_on = line.get("observed_on")
    if observed_on and not label.startswith(observed_on):
        return f"{label} ({observed_on})"
    return label


def _log_odds(risk: Any) -> float:
    if not isinstance(risk, int | float):
        return -math.inf
    if risk <= 0:
        return -math.inf
    if risk >= 1:
        return math.inf
    return math.log(risk / (1 - risk))
