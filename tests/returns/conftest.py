"""Fixtures of the returned-mail tests: customers mailed in a batch, and their pieces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEvent, AddressValidity
from mailer.batches.models import Batch, MailPiece
from mailer.batches.selection import BatchFilters, create_batch
from mailer.customers.models import Customer
from tests.factories import US_ROW, add_customer

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
# When the tests' batches went out: before every return the tests record (some are dated a year back).
MAILED_AT = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


def mail_customers(
    session: Session,
    *numbers: str,
    validity: AddressValidity = AddressValidity.DELIVERABLE,
    churn_risk: float | None = 0.4,
    campaign: str = "Spring 2027",
) -> dict[str, MailPiece]:
    """Store customers (each at their own US address) not yet stored, mail them a batch; return pieces by number."""
    for number in numbers:
        if session.scalar(select(Customer.id).where(Customer.customer_no == number)) is None:
            digits = "".join(c for c in number if c.isdigit()) or "1"
            add_customer(
                session, number, base=US_ROW, name=f"Pat {number}", line1=f"{digits} Oak Street", line2="",
                validity=validity, churn_risk=churn_risk,
            )
    pieces = mail_batch(session, campaign=campaign, actor="test")
    return {number: piece for number, piece in pieces.items() if number in numbers}


def mail_batch(session: Session, *, campaign: str, actor: str) -> dict[str, MailPiece]:
    """Create a us-10 batch of everyone mailable, sent at MAILED_AT; return its pieces by customer number."""
    batch = create_batch(session, campaign_name=campaign, profile="us-10", filters=BatchFilters(), actor=actor)
    batch.created_at = MAILED_AT
    session.flush()
    rows = session.execute(
        select(Customer.customer_no, MailPiece).join(Customer, Customer.id == MailPiece.customer_id)
        .where(MailPiece.batch_id == batch.id)
    ).all()
    return {number: piece for number, piece in rows}


def customer(session: Session, number: str) -> Customer:
    """Return a customer as stored now."""
    found = session.scalar(select(Customer).where(Customer.customer_no == number))
    assert found is not None
    session.refresh(found)
    return found


def address_of(session: Session, piece: MailPiece) -> Address:
    """Return the address a piece was printed on, as stored now."""
    address = session.get_one(Address, piece.address_id)
    session.refresh(address)
    return address


def current_address(session: Session, number: str) -> Address:
    """Return a customer's current address."""
    found = session.scalar(
        select(Address).join(Customer, Customer.id == Address.customer_id)
        .where(Customer.customer_no == number, Address.is_current)
    )
    assert found is not None
    return found


def history(session: Session, number: str) -> list[AddressEvent]:
    """Return a customer's address history, oldest first."""
    return list(
        session.scalars(
            select(AddressEvent).join(Customer, Customer.id == AddressEvent.customer_id)
            .where(Customer.customer_no == number).order_by(AddressEvent.id)
        )
    )


def batch_of(session: Session, piece: MailPiece) -> Batch:
    """Return a piece's batch as stored now."""
    batch = session.get_one(Batch, piece.batch_id)
    session.refresh(batch)
    return batch


@pytest.fixture
def now() -> datetime:
    """Return the fixed time the tests record returns at."""
    return NOW
