"""The retention limit: customers with no order and no mail for N years are erased, their figures kept.

A customer is kept while anything recent ties them to the business: being added, an order, or a
piece in a batch within the limit. ``apply_retention`` with ``dry_run`` counts and names them first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from mailer.batches.models import Batch, MailPiece
from mailer.customers.erasure import erase_customer
from mailer.customers.models import Customer
from mailer.messages import Message
from mailer.orders.models import Order

DAYS_PER_YEAR = 365.25
NAMED_IN_REPORT = 50


class RetentionError(ValueError):
    """The retention limit cannot be applied as asked."""


@dataclass(slots=True)
class RetentionReport:
    """Who the limit reaches: a count and the first customer numbers (before erasure)."""

    cutoff: date
    count: int = 0
    dry_run: bool = True
    customer_nos: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as plain data."""
        return {"cutoff": self.cutoff.isoformat(), "count": self.count, "dry_run": self.dry_run,
                "customer_nos": self.customer_nos}


def retention_cutoff(*, years: int, today: date) -> date:
    """Return the day before which nothing may be the last trace of a customer kept."""
    if years < 1:
        raise RetentionError(Message("the retention limit must be at least one year, not %(years)s", years=years))
    return today - timedelta(days=round(years * DAYS_PER_YEAR))


def stale_customers(session: Session, *, cutoff: date) -> list[Customer]:
    """Return customers not erased, added before the cutoff, with no order and no piece since, by number."""
    since = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)
    recent_order = exists().where(Order.customer_id == Customer.id, Order.ordered_on >= cutoff)
    recent_piece = exists().where(
        MailPiece.customer_id == Customer.id, Batch.id == MailPiece.batch_id, Batch.created_at >= since
    )
    return list(
        session.scalars(
            select(Customer)
            .where(Customer.erased_at.is_(None), Customer.created_at < since, ~recent_order, ~recent_piece)
            .order_by(Customer.customer_no)
        )
    )


def apply_retention(
    session: Session,
    *,
    years: int,
    actor: str,
    today: date,
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
) -> RetentionReport:
    """Erase (or with ``dry_run`` only count) the customers past the retention limit."""
    report = RetentionReport(cutoff=retention_cutoff(years=years, today=today), dry_run=dry_run)
    stale = stale_customers(session, cutoff=report.cutoff)
    report.count = len(stale)
    report.customer_nos = [customer.customer_no for customer in stale[:NAMED_IN_REPORT]]
    if dry_run:
        return report
    for customer in stale:
        erase_customer(session, customer=customer, actor=actor)
        if progress is not None:
            progress(1, len(stale))
    return report
