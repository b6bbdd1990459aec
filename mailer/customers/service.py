"""Reading customers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address
from mailer.customers.models import Customer


def get_customer(session: Session, *, customer_no: str) -> Customer | None:
    """Return the customer with this customer number, or None."""
    return session.scalar(select(Customer).where(Customer.customer_no == customer_no))


def current_address(session: Session, *, customer_id: int) -> Address | None:
    """Return the customer's current address, or None."""
    return session.scalar(
        select(Address).where(Address.customer_id == customer_id, Address.is_current)
    )


def customer_summary(session: Session, *, customer_no: str) -> dict[str, Any] | None:
    """Return a customer with their current address as plain data, or None if unknown."""
    customer = get_customer(session, customer_no=customer_no)
    if customer is None:
        return None
    address = current_address(session, customer_id=customer.id)
    return {
        "customer_no": customer.customer_no,
        "name": customer.name,
        "name_incomplete": customer.name_incomplete,
        "status": customer.status.value,
        "phone": customer.phone,
        "email": customer.email,
        "churn_risk": customer.churn_risk,
        "churn_explanation": customer.churn_explanation or [],
        "address": address.as_dict() if address else None,
    }
