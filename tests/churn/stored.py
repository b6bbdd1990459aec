"""Stored histories for the churn tests: customers with dated orders, returned mail, self-service updates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEvent, AddressEventKind, ChangeSource
from mailer.batches.models import MailPiece
from mailer.batches.selection import BatchFilters, create_batch
from mailer.churn.bgnbd import BgNbdParams, TimeUnit
from mailer.customers.models import Customer, CustomerStatus
from mailer.orders.models import Order
from returns.models import MailReturn, ReturnSource
from tests.churn.simulation import simulate, simulate_orders
from tests.factories import add_customer

AS_OF = date(2026, 6, 30)
EPOCH = date(1970, 1, 1)
PARAMS = BgNbdParams(r=0.8, alpha=6.0, a=0.9, b=3.0)


def add_orders(session: Session, customer: Customer, days: Sequence[date], *, cents: int = 2_500) -> None:
    """Store one order of ``cents`` per day given."""
    if days:
        session.execute(
            insert(Order), [{"customer_id": customer.id, "ordered_on": day, "amount_cents": cents} for day in days]
        )


def add_population(session: Session, n: int = 150, *, seed: int = 5) -> list[int]:
    """Store ``n`` customers (no addresses) with BG/NBD-simulated orders; return their ids."""
    rng = np.random.default_rng(seed)
    x, t_x, T = simulate(PARAMS, n, rng.uniform(20, 80, n), rng)
    customer, days = simulate_orders(x, t_x, T, as_of=AS_OF, unit=TimeUnit.WEEK, rng=rng)
    ids = list(
        session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
            [{"customer_no": f"P{i:04d}", "name": f"Population {i}"} for i in range(n)],
        )
    )
    amounts = rng.integers(500, 20_000, customer.size)
    session.execute(
        insert(Order),
        [
            {"customer_id": ids[c], "ordered_on": EPOCH + timedelta(days=d), "amount_cents": int(a)}
            for c, d, a in zip(customer.tolist(), days.tolist(), amounts.tolist(), strict=True)
        ],
    )
    return ids


def regular_buyer(
    session: Session, customer_no: str, *, status: CustomerStatus = CustomerStatus.ACTIVE, **fields: str
) -> Customer:
    """Store a customer with an address and five purchases a month apart, the last 20 weeks before AS_OF."""
    customer = add_customer(
        session, customer_no, status=status, line1=fields.pop("line1", f"{customer_no} Oak Street"), **fields
    )
    last = AS_OF - timedelta(weeks=20)
    add_orders(session, customer, [last - timedelta(days=30 * k) for k in range(5)])
    return customer


def return_mail(
    session: Session, returns: Sequence[tuple[Customer, str, date | datetime]], *, current: bool = True
) -> None:
    """Mail the customers a catalog and store a return of it with the reason and day (10:00 UTC) or time given."""
    # Every call mails everyone again, as a re-mailing of the campaign would.
    batch = create_batch(session, campaign_name="Spring catalog", profile="us-10", filters=BatchFilters(),
                         remail=True, actor="t")
    pieces = {
        piece.customer_id: piece
        for piece in session.scalars(select(MailPiece).where(MailPiece.batch_id == batch.id))
    }
    for customer, reason, returned_on in returns:
        piece = pieces[customer.id]
        session.add(
            MailReturn(
                piece_id=piece.id, batch_id=batch.id, customer_id=customer.id, address_id=piece.address_id,
                reason=reason, source=ReturnSource.SCAN, actor="mailroom@example.com", is_current=current,
                returned_at=returned_on
                if isinstance(returned_on, datetime)
                else datetime.combine(returned_on, time(10, 0), tzinfo=UTC),
            )
        )
    session.flush()


def self_update(session: Session, customer: Customer, on: date) -> None:
    """Store the customer's own edit of their current address, made on the day given."""
    address = session.scalars(select(Address).where(Address.customer_id == customer.id, Address.is_current)).one()
    session.add(
        AddressEvent(
            address_id=address.id, customer_id=customer.id, kind=AddressEventKind.EDITED,
            changes={"line2": [None, "Apt 2"]}, source=ChangeSource.CUSTOMER, actor="customer",
            created_at=datetime.combine(on, time(9, 0), tzinfo=UTC),
        )
    )
    session.flush()
