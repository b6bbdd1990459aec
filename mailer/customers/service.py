"""Reading customers: one customer, the filtered list, and counts for the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, select, union_all
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEvent, AddressValidity, AddressVerification
from mailer.addresses.service import current_address
from mailer.batches.models import MailPiece
from mailer.customers.models import Customer, CustomerStatus
from mailer.customers.search import search_condition
from mailer.orders.models import Order
from mailer.pagination import DEFAULT_PAGE_SIZE, Page, keyset_page
from returns.models import MailReturn


def get_customer(session: Session, *, customer_no: str) -> Customer | None:
    """Return the customer with this customer number, or None."""
    return session.scalar(select(Customer).where(Customer.customer_no == customer_no))


def customer_number(session: Session, *, customer_id: int) -> str | None:
    """Return the customer number of the customer with this internal id, or None."""
    return session.scalar(select(Customer.customer_no).where(Customer.id == customer_id))


def customer_summary(session: Session, *, customer_no: str) -> dict[str, Any] | None:
    """Return a customer with their current address as plain data, or None if unknown."""
    customer = get_customer(session, customer_no=customer_no)
    if customer is None:
        return None
    address = current_address(session, customer_id=customer.id)
    survivor = session.get(Customer, customer.merged_into_id) if customer.merged_into_id is not None else None
    return {
        "customer_no": customer.customer_no,
        "name": customer.name,
        "name_incomplete": customer.name_incomplete,
        "status": customer.status.value,
        "merged_into": survivor.customer_no if survivor is not None else None,
        "phone": customer.phone,
        "email": customer.email,
        "churn_risk": customer.churn_risk,
        "churn_explanation": customer.churn_explanation or [],
        "address": address.as_dict() if address else None,
    }


# --- churn-risk bands ---------------------------------------------------------------------------


class RiskBand(StrEnum):
    """A coarse reading of a customer's churn risk, for filters and counts."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    UNSCORED = "unscored"


# [lower, upper) of each scored band; the top band includes a risk of exactly 1.
RISK_BAND_BOUNDS: dict[RiskBand, tuple[float, float]] = {
    RiskBand.LOW: (0.0, 0.3),
    RiskBand.MEDIUM: (0.3, 0.7),
    RiskBand.HIGH: (0.7, 1.0),
}


def risk_band(risk: float | None) -> RiskBand:
    """Return the band a churn risk falls in."""
    if risk is None:
        return RiskBand.UNSCORED
    if risk >= RISK_BAND_BOUNDS[RiskBand.HIGH][0]:
        return RiskBand.HIGH
    if risk >= RISK_BAND_BOUNDS[RiskBand.MEDIUM][0]:
        return RiskBand.MEDIUM
    return RiskBand.LOW


def _risk_band_condition(band: RiskBand) -> ColumnElement[bool]:
    if band is RiskBand.UNSCORED:
        return Customer.churn_risk.is_(None)
    lower, upper = RISK_BAND_BOUNDS[band]
    if band is RiskBand.HIGH:
        return Customer.churn_risk >= lower
    return and_(Customer.churn_risk >= lower, Customer.churn_risk < upper)


# --- the customer list --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerFilters:
    """What the customer list is narrowed to; None leaves a filter off."""

    status: CustomerStatus | None = None
    validity: AddressValidity | None = None
    region: str | None = None
    risk_band: RiskBand | None = None
    # Words each found as the beginning of a name's word (or its pinyin), customer number, email,
    # phone or postcode, in any case (see mailer/customers/search.py).
    search: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerListRow:
    """One line of the customer list."""

    id: int
    customer_no: str
    name: str
    status: CustomerStatus
    churn_risk: float | None
    city: str | None
    region: str | None
    country: str | None
    validity: AddressValidity | None

    @property
    def risk_band(self) -> RiskBand:
        """Return the band of the customer's churn risk."""
        return risk_band(self.churn_risk)


def customer_list_query(
    filters: CustomerFilters, *, search: ColumnElement[bool] | None = None
) -> Select[*tuple[Any, ...]]:
    """Return the unordered query of the customer list under these filters and a search's condition."""
    query = select(
        Customer.id, Customer.customer_no, Customer.name, Customer.status, Customer.churn_risk,
        Address.city, Address.region, Address.country, Address.validity,
    ).outerjoin(Address, and_(Address.customer_id == Customer.id, Address.is_current))
    if filters.status is not None:
        query = query.where(Customer.status == filters.status)
    if filters.validity is not None:
        query = query.where(Address.validity == filters.validity)
    if filters.region:
        query = query.where(Address.region == filters.region)
    if filters.risk_band is not None:
        query = query.where(_risk_band_condition(filters.risk_band))
    if search is not None:
        query = query.where(search)
    return query


def list_customers(
    session: Session,
    *,
    filters: CustomerFilters,
    after: int | None = None,
    before: int | None = None,
    size: int = DEFAULT_PAGE_SIZE,
) -> Page[CustomerListRow]:
    """Return a page of customers by id, with their current address's place and validity."""
    search = search_condition(session, filters.search) if filters.search else None
    page = keyset_page(
        session, customer_list_query(filters, search=search), key=Customer.id, after=after, before=before, size=size
    )
    return page.map(lambda row: CustomerListRow(**row._asdict()))


# --- one customer -------------------------------------------------------------------------------

HISTORY_LIMIT = 200
RECENT_ORDERS = 5


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """How much and how recently a customer bought."""

    count: int
    total_cents: int
    first_on: date | None
    last_on: date | None
    recent: list[Order]

    @property
    def total(self) -> Decimal:
        """Return the total spent in currency units."""
        return Decimal(self.total_cents) / 100


@dataclass(frozen=True, slots=True)
class ReturnedPiece:
    """One return of a piece mailed to the customer, as the customer page lists it."""

    returned_at: datetime
    reason: str
    piece_code: str
    batch_id: int
    is_current: bool


@dataclass(frozen=True, slots=True)
class CustomerDetail:
    """Everything the customer page shows."""

    customer: Customer
    address: Address | None
    # Newest first.
    history: list[AddressEvent]
    orders: OrderSummary
    # Newest first, corrections included.
    returns: list[ReturnedPiece]

    @property
    def risk_band(self) -> RiskBand:
        """Return the band of the customer's churn risk."""
        return risk_band(self.customer.churn_risk)


def order_summary(session: Session, *, customer_id: int) -> OrderSummary:
    """Return the count, total, first and last date and latest orders of a customer."""
    count, total, first_on, last_on = session.execute(
        select(
            func.count(Order.id), func.coalesce(func.sum(Order.amount_cents), 0),
            func.min(Order.ordered_on), func.max(Order.ordered_on),
        ).where(Order.customer_id == customer_id)
    ).one()
    recent = session.scalars(
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.ordered_on.desc(), Order.id.desc())
        .limit(RECENT_ORDERS)
    ).all()
    return OrderSummary(
        count=count, total_cents=int(total), first_on=first_on, last_on=last_on, recent=list(recent)
    )


def address_history(session: Session, *, customer_id: int, limit: int = HISTORY_LIMIT) -> list[AddressEvent]:
    """Return the changes to a customer's addresses and their validity, newest first."""
    return list(
        session.scalars(
            select(AddressEvent)
            .where(AddressEvent.customer_id == customer_id)
            .order_by(AddressEvent.created_at.desc(), AddressEvent.id.desc())
            .limit(limit)
        )
    )


def returned_pieces(session: Session, *, customer_id: int, limit: int = HISTORY_LIMIT) -> list[ReturnedPiece]:
    """Return the returns of pieces mailed to a customer, newest first, corrections included."""
    rows = session.execute(
        select(
            MailReturn.returned_at, MailReturn.reason, MailPiece.piece_code, MailReturn.batch_id, MailReturn.is_current
        )
        .join(MailPiece, MailPiece.id == MailReturn.piece_id)
        .where(MailReturn.customer_id == customer_id)
        .order_by(MailReturn.returned_at.desc(), MailReturn.id.desc())
        .limit(limit)
    )
    return [ReturnedPiece(*row) for row in rows]


def customer_detail(session: Session, *, customer_id: int) -> CustomerDetail | None:
    """Return the customer page's data, or None if there is no such customer."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    return CustomerDetail(
        customer=customer,
        address=current_address(session, customer_id=customer.id),
        history=address_history(session, customer_id=customer.id),
        orders=order_summary(session, customer_id=customer.id),
        returns=returned_pieces(session, customer_id=customer.id),
    )


# --- counts for the dashboard -------------------------------------------------------------------


def customers_by_status(session: Session) -> dict[CustomerStatus, int]:
    """Return how many customers have each status (zero included)."""
    # Nearly every customer is active: count the few others through the status index and take
    # them from the total, instead of walking a million index entries to count the active ones.
    others = [status for status in CustomerStatus if status is not CustomerStatus.ACTIVE]
    counts = dict(
        session.execute(
            select(Customer.status, func.count()).where(Customer.status.in_(others)).group_by(Customer.status)
        ).all()
    )
    total = session.scalar(select(func.count()).select_from(Customer)) or 0
    counts[CustomerStatus.ACTIVE] = total - sum(counts.values())
    return {status: counts.get(status, 0) for status in CustomerStatus}


def addresses_by_validity(session: Session) -> dict[AddressValidity, int]:
    """Return how many addresses, current and superseded, have each validity (zero included)."""
    counts = dict(session.execute(select(Address.validity, func.count()).group_by(Address.validity)).all())
    return {validity: counts.get(validity, 0) for validity in AddressValidity}


@dataclass(frozen=True, slots=True)
class CountryVerification:
    """How many current addresses of a country the postal reference data verified, of how many."""

    country: str
    verified: int
    total: int

    @property
    def share(self) -> float:
        return self.verified / self.total if self.total else 0.0


def verified_share_by_country(session: Session) -> list[CountryVerification]:
    """Return, per country with current addresses (most addresses first), how many are verified or corrected."""
    verified = Address.verification.in_([AddressVerification.VERIFIED, AddressVerification.CORRECTED])
    rows = session.execute(
        select(Address.country, func.count(), func.count().filter(verified))
        .where(Address.is_current)
        .group_by(Address.country)
    ).all()
    found = [CountryVerification(country, checked, total) for country, total, checked in rows]
    return sorted(found, key=lambda c: (-c.total, c.country))


@dataclass(frozen=True, slots=True)
class RiskHistogram:
    """How many customers' churn risk falls in each equal-width bin from 0 to 1, and how many are unscored."""

    counts: list[int]
    unscored: int

    @property
    def bins(self) -> list[tuple[float, float]]:
        """Return the [lower, upper) bounds of each bin."""
        width = 1 / len(self.counts)
        return [(i * width, (i + 1) * width) for i in range(len(self.counts))]


def churn_risk_histogram(session: Session, *, bins: int = 10) -> RiskHistogram:
    """Count customers by churn risk in ``bins`` equal bins (a risk of 1 in the last one)."""
    risk = Customer.churn_risk
    # One range count per bin walks only that stretch of the churn_risk index: far faster than
    # classifying every row in one pass.
    counts = []
    for i in range(bins):
        in_bin = risk >= i / bins
        if i < bins - 1:
            in_bin = and_(in_bin, risk < (i + 1) / bins)
        counts.append(select(literal(i).label("bin"), func.count().label("n")).where(in_bin))
    counts.append(select(literal(-1).label("bin"), func.count().label("n")).where(risk.is_(None)))
    found = dict(session.execute(union_all(*counts)).all())
    return RiskHistogram(counts=[int(found.get(i, 0)) for i in range(bins)], unscored=int(found.get(-1, 0)))
