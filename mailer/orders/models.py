"""The order model."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from mailer.column_types import CreatedAt, IntPK
from mailer.db import Base


class Order(Base):
    """One purchase by a customer."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_date", "customer_id", "ordered_on"),)

    id: Mapped[IntPK]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    ordered_on: Mapped[date]
    # Whole cents: exact on every backend (SQLite has no decimal type).
    amount_cents: Mapped[int]
    created_at: Mapped[CreatedAt]

    @property
    def amount(self) -> Decimal:
        """Return the amount in currency units."""
        return Decimal(self.amount_cents) / 100
