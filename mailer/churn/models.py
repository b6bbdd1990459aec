"""A churn refresh on record: its horizon, model, currency and the backtest of its risk on the stored orders."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mailer.column_types import CreatedAt, IntPK
from mailer.db import Base


class ChurnRun(Base):
    """One churn refresh: what the stored risks mean, and how well such a risk predicted lately."""

    __tablename__ = "churn_runs"

    id: Mapped[IntPK]
    created_at: Mapped[CreatedAt]
    as_of: Mapped[date]
    # The risks are the chance of no order within this many days after as_of.
    horizon_days: Mapped[int]
    # The purchase model ("mbg/nbd") and its parameters; None when too few repeat buyers to fit one.
    model: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any] | None]
    # The ISO 4217 code of the amounts: expected spend and value at risk.
    currency: Mapped[str] = mapped_column(String(3))
    # The backtest on the stored orders, fitted up to as_of minus the horizon (see churn.backtest);
    # None with the reason in backtest_note when it could not be run.
    backtest: Mapped[dict[str, Any] | None]
    backtest_note: Mapped[str | None] = mapped_column(String(400))
