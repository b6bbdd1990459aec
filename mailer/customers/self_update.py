"""A customer's own update of their address, counted at once in their stored churn risk."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailer.churn.evidence import self_update
from mailer.churn.stored_risk import add_evidence
from mailer.customers.models import Customer
from mailer.db import utcnow


def rescore_after_self_update(session: Session, *, customer_id: int) -> None:
    """Move the customer's stored churn risk by their own update, as the next refresh will count it."""
    customer = session.get_one(Customer, customer_id)
    today = utcnow().date()
    moved = add_evidence(customer.churn_risk, customer.churn_explanation, self_update(today), as_of=today)
    customer.churn_risk, customer.churn_explanation = moved.risk, moved.explanation
    if customer.churn_spent_cents is not None:
        customer.churn_value_at_risk_cents = round(moved.risk * customer.churn_spent_cents)
    session.flush()
