"""Letters for the self-service tests: a customer, a batch holding their piece, and its link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.batches.models import Batch, MailPiece
from mailer.batches.selection import BatchFilters, create_batch
from mailer.batches.tokens import make_token
from mailer.customers.models import Customer
from tests.factories import CN_ROW, US_ROW, add_customer

# The app fixture's SECRET_KEY, which signs the links the pages check.
SECRET = "test-secret"
PROFILE_OF = {"US": "us-10", "CN": "cn-dl"}


@dataclass(frozen=True, slots=True)
class Letter:
    """A piece as mailed, with the token its envelope prints."""

    customer_id: int
    customer_no: str
    batch_id: int
    piece_id: int
    piece_code: str
    address_id: int
    expires_on: date
    token: str


def mail_letter(
    session: Session,
    customer_no: str = "C001",
    *,
    base: dict[str, str] | None = None,
    today: date | None = None,
    secret: str = SECRET,
    **fields: str,
) -> Letter:
    """Store a customer and a batch whose only piece goes to them; return the letter."""
    row = {**(base or US_ROW), **fields}
    customer = add_customer(session, customer_no, base=row)
    batch = create_batch(
        session, campaign_name=f"Catalog for {customer_no}", profile=PROFILE_OF[row["country"]],
        filters=BatchFilters(postal_prefixes=(row["postal_code"],)), actor="test", today=today or date.today(),
    )
    return letter_of(session, batch=batch, customer=customer, secret=secret)


def letter_of(session: Session, *, batch: Batch, customer: Customer, secret: str = SECRET) -> Letter:
    """Return the letter a batch sends a customer."""
    piece = session.scalars(
        select(MailPiece).where(MailPiece.batch_id == batch.id, MailPiece.customer_id == customer.id)
    ).one()
    return Letter(
        customer_id=customer.id, customer_no=customer.customer_no, batch_id=batch.id, piece_id=piece.id,
        piece_code=piece.piece_code, address_id=piece.address_id, expires_on=batch.update_expires_on,
        token=make_token(secret=secret, piece_code=piece.piece_code, expires_on=batch.update_expires_on),
    )


__all__ = ["CN_ROW", "SECRET", "US_ROW", "Letter", "letter_of", "mail_letter"]
