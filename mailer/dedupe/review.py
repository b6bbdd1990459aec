"""What the review page shows of a candidate pair: both customers' facts and which of them differ.

Plain functions over the session, like the services: no Flask here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address
from mailer.customers.models import Customer, CustomerStatus
from mailer.dedupe.service import DuplicatePair
from mailer.orders.models import Order

# The fields compared side by side, in the order the page shows them.
COMPARED_FIELDS = ("name", "address", "phone", "email")

_NOT_DIGITS = re.compile(r"\D+")


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """One customer as the review page shows it."""

    id: int
    customer_no: str
    name: str
    status: CustomerStatus
    # The current address as it is printed, one entry a line; empty without a current address.
    address_lines: tuple[str, ...]
    phone: str | None
    email: str | None
    orders: int


@dataclass(frozen=True, slots=True)
class ReviewPair:
    """A candidate pair with both customers' facts and the names of the fields that differ."""

    pair: DuplicatePair
    first: CustomerFacts
    second: CustomerFacts
    differs: frozenset[str]


def _comparable(facts: CustomerFacts, field: str) -> str:
    # Spacing, case and a phone number's punctuation are not differences a reviewer cares about.
    if field == "phone":
        return _NOT_DIGITS.sub("", facts.phone or "")
    value = " ".join(facts.address_lines) if field == "address" else getattr(facts, field) or ""
    return " ".join(value.split()).casefold()


def differing_fields(first: CustomerFacts, second: CustomerFacts) -> frozenset[str]:
    """Return the compared fields whose values differ between two customers."""
    return frozenset(
        field for field in COMPARED_FIELDS if _comparable(first, field) != _comparable(second, field)
    )


def _address_lines(address: Address | None) -> tuple[str, ...]:
    if address is None:
        return ()
    place = " ".join(part for part in (address.postal_code, address.city, address.region) if part)
    return tuple(line for line in (address.line1, address.line2, place, address.country) if line)


def customer_facts(session: Session, *, customer_nos: set[str]) -> dict[str, CustomerFacts]:
    """Return the facts of these customers by customer number, with their order counts."""
    rows = session.execute(
        select(Customer, Address)
        .outerjoin(Address, and_(Address.customer_id == Customer.id, Address.is_current))
        .where(Customer.customer_no.in_(customer_nos))
    ).all()
    ids = [customer.id for customer, _ in rows]
    orders: dict[int, int] = {
        customer_id: count
        for customer_id, count in session.execute(
            select(Order.customer_id, func.count()).where(Order.customer_id.in_(ids)).group_by(Order.customer_id)
        )
    }
    return {
        customer.customer_no: CustomerFacts(
            id=customer.id, customer_no=customer.customer_no, name=customer.name, status=customer.status,
            address_lines=_address_lines(address), phone=customer.phone, email=customer.email,
            orders=orders.get(customer.id, 0),
        )
        for customer, address in rows
    }


def review_pairs(session: Session, *, pairs: Sequence[DuplicatePair]) -> list[ReviewPair]:
    """Return the pairs with both customers' facts side by side, in the order given."""
    facts = customer_facts(
        session, customer_nos={no for pair in pairs for no in (pair.customer_no_a, pair.customer_no_b)}
    )
    return [
        ReviewPair(
            pair=pair, first=facts[pair.customer_no_a], second=facts[pair.customer_no_b],
            differs=differing_fields(facts[pair.customer_no_a], facts[pair.customer_no_b]),
        )
        for pair in pairs
        if pair.customer_no_a in facts and pair.customer_no_b in facts
    ]
