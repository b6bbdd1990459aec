"""Importing the order file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from mailer.customers.models import Customer
from mailer.db import utcnow
from mailer.imports import (
    ImportReport,
    ProgressCallback,
    Rejection,
    finish_import,
    open_csv,
    row_shape_problem,
)
from mailer.messages import Message, shortened
from mailer.orders.models import Order

ORDER_COLUMNS = ("customer_no", "order_date", "amount")
MAX_AMOUNT = Decimal("9999999999.99")
# Older dates are typing mistakes, and the churn model would take them for decades of history.
EARLIEST_ORDER_DATE = date(1900, 1, 1)
CHUNK_SIZE = 5000
# Decimal and date.fromisoformat also read 1_000, 1e3, 20260106 and 2026-W02-3; a file holds none of those.
# The minus sign is read so that a refund is refused as below zero rather than as unreadable.
_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One valid row of an order file."""

    row: int
    customer_no: str
    ordered_on: date
    amount_cents: int
    values: dict[str, str]


def parse_order_row(row: int, values: dict[str, str], *, today: date) -> OrderRecord | Message:
    """Validate one row; return the record or the reason it is rejected."""
    if problem := row_shape_problem(values, required=ORDER_COLUMNS):
        return problem
    ordered_on = _parse_date(values["order_date"])
    if isinstance(ordered_on, Message):
        return ordered_on
    if ordered_on > today:
        return Message("order_date %(date)s is in the future", date=ordered_on.isoformat())
    if ordered_on < EARLIEST_ORDER_DATE:
        return Message(
            "order_date %(date)s is before %(earliest)s", date=ordered_on.isoformat(),
            earliest=EARLIEST_ORDER_DATE.isoformat(),
        )
    amount = _parse_amount(values["amount"])
    if isinstance(amount, Message):
        return amount
    return OrderRecord(
        row=row,
        customer_no=values["customer_no"],
        ordered_on=ordered_on,
        amount_cents=int(amount * 100),
        values=values,
    )


def _parse_date(text: str) -> date | Message:
    problem = Message("order_date %(value)s is not a date like 2026-03-31", value=repr(shortened(text)))
    if not _DATE.fullmatch(text):
        return problem
    try:
        return date.fromisoformat(text)
    except ValueError:
        return problem


def _parse_amount(text: str) -> Decimal | Message:
    shown = repr(shortened(text))
    if not _AMOUNT.fullmatch(text):
        return Message("amount %(value)s is not an amount like 12 or 12.50", value=shown)
    amount = Decimal(text)
    if amount < 0 or amount > MAX_AMOUNT:
        return Message("amount %(value)s is not an amount between 0 and %(max)s", value=shown, max=MAX_AMOUNT)
    if amount != amount.quantize(Decimal("0.01")):
        return Message("amount %(value)s has more than two decimals", value=shown)
    return amount


def import_orders(
    session: Session,
    *,
    path: Path,
    actor: str,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import an order CSV; an order already stored (same customer, date, amount) is left as is."""
    source = open_csv(path, required=ORDER_COLUMNS)
    report = ImportReport(path=path, total=source.row_count)
    today = utcnow().date()
    seen: set[tuple[str, date, int]] = set()

    chunk: list[OrderRecord] = []
    for row, values in source.rows():
        parsed = parse_order_row(row, values, today=today)
        if isinstance(parsed, str):
            report.rejected.append(Rejection(row=row, reason=parsed, values=values))
        elif (key := (parsed.customer_no, parsed.ordered_on, parsed.amount_cents)) in seen:
            report.unchanged += 1
        else:
            seen.add(key)
            chunk.append(parsed)
        if len(chunk) >= CHUNK_SIZE:
            _store_chunk(session, chunk, report=report)
            chunk = []
        if progress:
            progress(1, report.total)
    if chunk:
        _store_chunk(session, chunk, report=report)

    finish_import(session, report, columns=source.columns, action="orders.import", actor=actor)
    return report


def _store_chunk(session: Session, records: Sequence[OrderRecord], *, report: ImportReport) -> None:
    customer_ids = dict(
        session.execute(
            select(Customer.customer_no, Customer.id).where(
                Customer.customer_no.in_({r.customer_no for r in records})
            )
        ).all()
    )
    known = [r for r in records if r.customer_no in customer_ids]
    for r in records:
        if r.customer_no not in customer_ids:
            report.rejected.append(
                Rejection(row=r.row, reason=Message("unknown customer_no %(customer_no)s",
                                                   customer_no=shortened(r.customer_no)),
                          values=r.values)
            )
    stored = set(
        session.execute(
            select(Order.customer_id, Order.ordered_on, Order.amount_cents).where(
                tuple_(Order.customer_id, Order.ordered_on).in_(
                    {(customer_ids[r.customer_no], r.ordered_on) for r in known}
                )
            )
        ).all()
    )
    now = utcnow()
    new_rows = []
    for r in known:
        key = (customer_ids[r.customer_no], r.ordered_on, r.amount_cents)
        if key in stored:
            report.unchanged += 1
        else:
            new_rows.append(
                {"customer_id": key[0], "ordered_on": r.ordered_on, "amount_cents": r.amount_cents,
                 "created_at": now}
            )
    if new_rows:
        session.execute(insert(Order), new_rows)
        report.created += len(new_rows)
