"""The customer model."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.column_types import CreatedAt, IntPK, UpdatedAt
from mailer.db import Base

if TYPE_CHECKING:
    from mailer.addresses.models import Address


class CustomerStatus(StrEnum):
    """Whether we may mail a customer at all."""

    ACTIVE = "active"
    DO_NOT_MAIL = "do_not_mail"
    DECEASED = "deceased"
    MERGED = "merged"


class Customer(Base):
    """A customer, keyed by the company's own customer number."""

    __tablename__ = "customers"
    __table_args__ = (
        # The retention list reads customers by the spend at stake, highest first, a page at a time.
        Index("ix_customers_churn_value_at_risk", "churn_value_at_risk_cents", "id"),
    )

    id: Mapped[IntPK]
    customer_no: Mapped[str] = mapped_column(String(40), unique=True)
    # Indexed for the customer list's search by the beginning of a name.
    name: Mapped[str] = mapped_column(String(200), index=True)
    # Only a surname and an honorific ("李先生", "Mr. Smith"): stored, but a data-quality finding.
    name_incomplete: Mapped[bool] = mapped_column(default=False)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[CustomerStatus] = mapped_column(default=CustomerStatus.ACTIVE, index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    churn_risk: Mapped[float | None] = mapped_column(index=True)
    # The base figure and each piece of evidence behind churn_risk, as marketing reads them.
    churn_explanation: Mapped[list[Any] | None]
    churn_scored_at: Mapped[datetime | None]
    # The purchase history (RFM) the last churn refresh scored, a merged customer's orders included:
    # the last order day, purchase days and total spend in cents. None until a refresh scores the
    # customer; a scored customer without orders has no last day and zero days and spend.
    churn_last_ordered_on: Mapped[date | None]
    churn_purchase_days: Mapped[int | None]
    churn_spent_cents: Mapped[int | None] = mapped_column(BigInteger)
    # The spend expected within the churn horizon (purchase model × Gamma-Gamma spend model), and
    # churn risk × that, in whole cents of the refresh's currency: what the retention list sorts by.
    churn_expected_spend_cents: Mapped[int | None] = mapped_column(BigInteger)
    churn_value_at_risk_cents: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", order_by="Address.id", lazy="raise_on_sql"
    )

    def __repr__(self) -> str:
        return f"<Customer {self.customer_no}>"
