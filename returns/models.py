"""Returned mail: one row per return of a piece, corrections kept as history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from mailer.addresses.models import AddressValidity
from mailer.column_types import CreatedAt, IntPK
from mailer.customers.models import CustomerStatus
from mailer.db import Base


class ReturnSource(StrEnum):
    """How a return reached us."""

    SCAN = "scan"  # the mailroom scanned the envelope
    POSTAL_FILE = "postal_file"  # a postal return or change-of-address file
    STAFF = "staff"  # logged by hand


class MailReturn(Base):
    """A mail piece that came back, with the reason the postman gave, and what recording it changed.

    A piece has at most one current return; a different reason for an already returned piece is a
    correction: a new current row pointing at the one it corrects. The ``*_before``/``*_after``
    columns are the return's own effects, so that a correction can take exactly them back. The
    current rows are the churn model's evidence (reason and ``returned_at``).
    """

    __tablename__ = "mail_returns"
    __table_args__ = (
        # Two stations scanning the same piece at once cannot both record it.
        Index(
            "uq_mail_returns_current_per_piece",
            "piece_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        Index("ix_mail_returns_customer_current", "customer_id", "is_current"),
    )

    id: Mapped[IntPK]
    # Every return of the piece, current or corrected, is found through this index.
    piece_id: Mapped[int] = mapped_column(ForeignKey("mail_pieces.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"), index=True)
    # Our reason code from the catalog (returns/reasons.csv).
    reason: Mapped[str] = mapped_column(String(8), index=True)
    # The reason as the clerk or the file gave it: our code, a USPS ACS letter or a Chinese label.
    given_as: Mapped[str | None] = mapped_column(String(60))
    source: Mapped[ReturnSource]
    returned_at: Mapped[datetime]
    recorded_at: Mapped[CreatedAt]
    actor: Mapped[str] = mapped_column(String(254))
    note: Mapped[str | None] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(default=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("mail_returns.id"))
    # The forwarding address a MOVED return brought, once stored as the customer's address.
    new_address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    # Logged without changing the address (staff's choice), so the return counts as evidence only.
    address_unchanged: Mapped[bool] = mapped_column(default=False)
    # The address's validity before and after this return; None when the return left it alone.
    validity_before: Mapped[AddressValidity | None]
    validity_after: Mapped[AddressValidity | None]
    # The customer's status before this return changed it; None when it did not.
    customer_status_before: Mapped[CustomerStatus | None]
    # The customer's stored churn risk after this return, None when it was left alone; and before it,
    # None also when the customer had not been scored yet.
    churn_risk_before: Mapped[float | None]
    churn_risk_after: Mapped[float | None]
