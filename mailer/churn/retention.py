"""The retention list: customers likely to leave, the most valuable first, each with the main reason why.

Who is on it: customers scored by a churn refresh, at or above a churn risk, who can still be won
back, that is active and do-not-mail customers. Do-not-mail customers cannot be sent a catalog but
may be called or emailed, so they are listed with their status (``include_do_not_mail=False``
leaves them out); deceased and merged customers never are.

Value is RFM: recency (days since the last order), frequency (purchase days) and monetary (total
spend), as the last refresh scored them (orders up to its as-of day, a merged customer's orders
counted for the survivor), and the spend expected within the churn horizon (purchase model ×
Gamma-Gamma spend model). Every amount is in the last refresh's currency. The list is ordered by the
spend at stake, churn risk × expected spend, which
the refresh stores with an index (``churn_value_at_risk_cents``), then by id: a page starts from an
index lookup, however deep (keyset pagination on spend at stake and id). The whole list, for an
export, is read in table order and sorted once, which is faster when every row is read. The churn
risk shown and filtered on is the stored one, which a return recorded since the refresh has already
moved; the order follows at the next refresh.

One export path serves the ``churn list --csv`` command and the web page's download: it audits the
export (``retention.export``) and returns the CSV text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import ColumnElement, Row, Select, func, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from mailer.addresses.models import Address, AddressValidity
from mailer.audit.service import record
from mailer.churn.models import ChurnRun
from mailer.churn.stored_risk import horizon_of
from mailer.churn.top_reason import top_reason_words
from mailer.churn.wording import Phrase, in_english
from mailer.csv_export import CsvWriter
from mailer.customers.models import Customer, CustomerStatus
from mailer.db import MAX_ROW_ID
from mailer.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# The contact columns, so whoever works the list can call, write or mail the customer from the file.
CONTACT_COLUMNS: Final = ("phone", "email", "line1", "line2", "city", "region", "postal_code", "country")
RETENTION_COLUMNS: Final = (
    "customer_no",
    "name",
    *CONTACT_COLUMNS,
    "recency_days",
    "frequency",
    "monetary",
    "churn_risk",
    # The churn risk is the chance of no order within this many days of the refresh's as-of day.
    "churn_horizon_days",
    "expected_spend",
    "value_at_risk",
    # The ISO 4217 code of monetary, expected_spend and value_at_risk.
    "currency",
    "top_reason",
    "address_validity",
    "status",
)
DEFAULT_MIN_RISK: Final = 0.7
# Rows fetched per round trip while the list is read, and CSV rows per piece of exported text.
FETCH_ROWS: Final = 1_000
# Up to this many rows the list is read along its index; more, in table order and sorted (measured on
# a million customers: the whole list of 225,000 in 1.0 s sorted against 3.7 s along the index).
WALK_LIMIT: Final = 10_000


@dataclass(frozen=True, slots=True)
class RetentionFilters:
    """Who the retention list holds: the lowest churn risk, and whether do-not-mail customers count."""

    min_risk: float = DEFAULT_MIN_RISK
    include_do_not_mail: bool = True

    def __post_init__(self) -> None:
        if not (isinstance(self.min_risk, int | float) and 0 <= self.min_risk <= 1):
            raise ValueError("min_risk must lie between 0 and 1")

    @property
    def statuses(self) -> list[CustomerStatus]:
        """Return the statuses of the customers listed."""
        return [CustomerStatus.ACTIVE, *([CustomerStatus.DO_NOT_MAIL] if self.include_do_not_mail else [])]


@dataclass(frozen=True, slots=True, order=True)
class RetentionCursor:
    """A place in the list: a customer's spend at stake and id, written "cents-id" in page links."""

    value_at_risk_cents: int
    customer_id: int

    def __str__(self) -> str:
        return f"{self.value_at_risk_cents}-{self.customer_id}"

    @classmethod
    def parse(cls, text: str | None) -> RetentionCursor | None:
        """Read a cursor from a page link; None for anything else."""
        match = _CURSOR.fullmatch(text or "")
        if match is None or int(match[2]) > MAX_ROW_ID:
            return None
        return cls(int(match[1]), int(match[2]))


_CURSOR = re.compile(r"([0-9]{1,18})-([0-9]{1,18})")


@dataclass(frozen=True, slots=True)
class RetentionRow:
    """One customer on the retention list."""

    customer_id: int
    customer_no: str
    name: str
    status: CustomerStatus
    # Days from the last order to the list's day; None without orders.
    recency_days: int | None
    # Purchase days (several orders on one day are one purchase).
    frequency: int
    # Total spend, in currency units.
    monetary: Decimal
    churn_risk: float
    # In English (the CSV's column), and as a phrase for a page in another language.
    top_reason: str
    top_reason_words: Phrase | str
    # The current address's validity; None without a current address.
    address_validity: AddressValidity | None
    # Churn risk × the spend expected within the horizon, in whole cents, as the last refresh stored
    # it: the list's order.
    value_at_risk_cents: int
    # How to reach the customer: phone, email and the current address's lines (None where missing).
    contact: dict[str, str | None] = field(default_factory=dict)
    expected_spend_cents: int = 0
    # The horizon the churn risk is for (None for a risk stored without one) and the amounts' currency.
    horizon_days: int | None = None
    currency: str = ""

    @property
    def expected_spend(self) -> Decimal:
        """Return the spend expected within the horizon in currency units."""
        return Decimal(self.expected_spend_cents) / 100

    @property
    def value_at_risk(self) -> Decimal:
        """Return the spend at stake in currency units."""
        return Decimal(self.value_at_risk_cents) / 100

    @property
    def cursor(self) -> RetentionCursor:
        """Return this row's place in the list."""
        return RetentionCursor(self.value_at_risk_cents, self.customer_id)

    def as_csv_row(self) -> dict[str, object]:
        """Return the row's RETENTION_COLUMNS for a CSV file: numbers as numbers, the rest as text."""
        return {
            "customer_no": self.customer_no,
            "name": self.name,
            **{column: self.contact.get(column) or "" for column in CONTACT_COLUMNS},
            "recency_days": "" if self.recency_days is None else self.recency_days,
            "frequency": self.frequency,
            "monetary": Decimal(f"{self.monetary:.2f}"),
            "churn_risk": Decimal(f"{self.churn_risk:.6f}"),
            "churn_horizon_days": "" if self.horizon_days is None else self.horizon_days,
            "expected_spend": Decimal(f"{self.expected_spend:.2f}"),
            "value_at_risk": Decimal(f"{self.value_at_risk:.2f}"),
            "currency": self.currency,
            "top_reason": self.top_reason,
            "address_validity": "" if self.address_validity is None else self.address_validity.value,
            "status": self.status.value,
        }


@dataclass(frozen=True, slots=True)
class RetentionPage:
    """One page of the list and the cursors of its neighbours, as page links carry them (None: no page)."""

    items: list[RetentionRow]
    next_after: str | None
    previous_before: str | None


_VALUE = Customer.churn_value_at_risk_cents

# A column a condition or an ordering names: a mapped attribute or a Core expression.
ColumnArgument = ColumnElement[Any] | InstrumentedAttribute[Any]


class _unindexed(FunctionElement[Any]):
    """A column compared without its index: on SQLite ``+column``, elsewhere the column itself.

    SQLite's planner, without statistics or with them, reads a page of the list through the status
    index (every active customer) and sorts: a thousand times slower than walking the spend-at-stake
    index from the cursor. Hiding the other indexes leaves it that walk.
    """

    name = "unindexed"
    inherit_cache = True

    def __init__(self, column: ColumnArgument) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_unindexed, "sqlite")
def _unindexed_sqlite(element: _unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(_unindexed)
def _unindexed_other(element: _unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


def _beyond(cursor: RetentionCursor, *, later: bool) -> ColumnElement[bool]:
    """Select the customers after (further down the list) or before a place in it."""
    key = tuple_(_VALUE, Customer.id)
    place = tuple_(cursor.value_at_risk_cents, cursor.customer_id)
    return key < place if later else key > place


def _plain(column: ColumnArgument) -> ColumnArgument:
    return column


def _listed(filters: RetentionFilters, *, walk: bool = True) -> tuple[ColumnElement[bool], ...]:
    """Return the list's conditions, written for walking the spend-at-stake index or for reading in table order."""
    filtered, ordered = (_unindexed, _plain) if walk else (_plain, _unindexed)
    return (
        filtered(Customer.churn_risk) >= filters.min_risk,
        filtered(Customer.status).in_(filters.statuses),
        # Scored by a refresh (a customer first scored by a return has no purchase history stored yet).
        ordered(_VALUE).is_not(None),
    )


def _list_query(filters: RetentionFilters, *, walk: bool = True) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Customer.id,
            Customer.customer_no,
            Customer.name,
            Customer.status,
            Customer.churn_risk,
            Customer.churn_explanation,
            Customer.churn_last_ordered_on,
            Customer.churn_purchase_days,
            Customer.churn_spent_cents,
            Customer.churn_expected_spend_cents,
            _VALUE,
            Address.validity,
            Customer.phone,
            Customer.email,
            Address.line1,
            Address.line2,
            Address.city,
            Address.region,
            Address.postal_code,
            Address.country,
        )
        .outerjoin(Address, (Address.customer_id == Customer.id) & Address.is_current)
        .where(*_listed(filters, walk=walk))
    )


def _row(row: Row[*tuple[Any, ...]], day: date, currency: str) -> RetentionRow:
    (customer_id, customer_no, name, status, risk, explanation, last_on, purchase_days, cents, expected, value,
     validity, *contact) = row
    recency = None if last_on is None else (day - last_on).days
    reason = top_reason_words(explanation, recency_days=recency)
    return RetentionRow(
        customer_id=customer_id,
        customer_no=customer_no,
        name=name,
        status=status,
        recency_days=recency,
        frequency=int(purchase_days or 0),
        monetary=Decimal(int(cents or 0)) / 100,
        churn_risk=float(risk),
        top_reason=in_english(reason),
        top_reason_words=reason,
        address_validity=validity,
        value_at_risk_cents=int(value),
        contact=dict(zip(CONTACT_COLUMNS, contact, strict=True)),
        expected_spend_cents=int(expected or 0),
        horizon_days=horizon_of(explanation),
        currency=currency,
    )


def last_run(session: Session) -> ChurnRun | None:
    """Return the last churn refresh on record: what the stored risks mean, their currency, its backtest."""
    return session.scalars(select(ChurnRun).order_by(ChurnRun.id.desc()).limit(1)).first()


def list_currency(session: Session) -> str:
    """Return the currency of the listed amounts: the last churn refresh's ("" before any refresh on record).

    Every amount a refresh stores is in its one currency, so the list never ranks two currencies
    against each other.
    """
    return session.scalar(select(ChurnRun.currency).order_by(ChurnRun.id.desc()).limit(1)) or ""


def retention_list(
    session: Session,
    *,
    min_risk: float,
    limit: int | None = None,
    include_do_not_mail: bool = True,
    today: date | None = None,
) -> Iterator[RetentionRow]:
    """Yield the customers at or above ``min_risk``, most spend at stake first."""
    filters = RetentionFilters(min_risk=min_risk, include_do_not_mail=include_do_not_mail)
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    day = today or date.today()
    # A few rows: walk the index from the top. Many: read the listed customers in table order and
    # sort them once; looking rows up in index order costs more than the sort when most are read.
    walk = limit is not None and limit <= WALK_LIMIT
    statement = (
        _list_query(filters, walk=walk)
        .order_by((_VALUE if walk else _unindexed(_VALUE)).desc(), Customer.id.desc())
        .limit(limit)
        .execution_options(yield_per=FETCH_ROWS)
    )
    currency = list_currency(session)
    for row in session.execute(statement):
        yield _row(row, day, currency)


def retention_page(
    session: Session,
    *,
    filters: RetentionFilters,
    after: RetentionCursor | None = None,
    before: RetentionCursor | None = None,
    size: int = DEFAULT_PAGE_SIZE,
    today: date | None = None,
) -> RetentionPage:
    """Return the page of the list after (or, without ``after``, before) a cursor, most at stake first.

    Keyset pagination on (spend at stake, id): the page is read from the index where the cursor
    points, so page 10,000 costs what the first does.
    """
    size = max(1, min(size, MAX_PAGE_SIZE))
    day = today or date.today()
    forward = before is None or after is not None
    cursor = after if forward else before
    query = _list_query(filters)
    if cursor is not None:
        query = query.where(_beyond(cursor, later=forward))
    order = (_VALUE.desc(), Customer.id.desc()) if forward else (_VALUE.asc(), Customer.id.asc())
    found = session.execute(query.order_by(*order).limit(size + 1)).all()
    currency = list_currency(session)
    rows = [_row(row, day, currency) for row in found]
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    if not rows:
        return RetentionPage([], None, None)
    if forward:
        has_next = more
        has_previous = cursor is not None and _exists(session, filters, rows[0].cursor, later=False)
    else:
        has_previous = more
        has_next = _exists(session, filters, rows[-1].cursor, later=True)
    return RetentionPage(
        rows, str(rows[-1].cursor) if has_next else None, str(rows[0].cursor) if has_previous else None
    )


def _exists(session: Session, filters: RetentionFilters, edge: RetentionCursor, *, later: bool) -> bool:
    # Is there a listed customer past this place, further down the list (later) or above it?
    listed = select(Customer.id).where(*_listed(filters), _beyond(edge, later=later))
    return bool(session.scalar(select(listed.exists())))


def count_listed(session: Session, *, filters: RetentionFilters) -> int:
    """Return how many customers the list holds."""
    return session.scalar(select(func.count()).select_from(Customer).where(*_listed(filters, walk=False))) or 0


# --- export -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionExport:
    """An audited export: how many customers it holds and its CSV text, header first, in pieces."""

    rows: int
    chunks: Iterator[str]


def export_retention_csv(
    session: Session,
    *,
    filters: RetentionFilters,
    actor: str,
    file_name: str,
    limit: int | None = None,
    today: date | None = None,
    reader: Session | None = None,
) -> RetentionExport:
    """Audit an export of the list ("retention.export") and return its CSV text, to write or stream.

    The audit row is added before any row is read, with the count of customers the export holds,
    so the caller can commit it before sending a byte: a download cut short is still on record.
    The text is read lazily, in the order of the list, through ``reader`` if given (a stream that
    outlives the audit's transaction reads in a session of its own); the caller commits (or rolls back).
    """
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    count = count_listed(session, filters=filters)
    rows = count if limit is None else min(count, limit)
    record(
        session,
        actor=actor,
        action="retention.export",
        object_type="retention_list",
        detail={
            "rows": rows,
            "min_risk": filters.min_risk,
            "limit": limit,
            "include_do_not_mail": filters.include_do_not_mail,
            "file": file_name,
            "columns": list(RETENTION_COLUMNS),
        },
    )
    session.flush()
    listed = retention_list(
        reader or session, min_risk=filters.min_risk, limit=limit, include_do_not_mail=filters.include_do_not_mail,
        today=today,
    )
    return RetentionExport(rows=rows, chunks=_csv_text(listed))


def _csv_text(rows: Iterator[RetentionRow]) -> Iterator[str]:
    buffer = io.StringIO()
    # Names and customer numbers come from outside: the writer keeps a spreadsheet from running them.
    writer = CsvWriter(buffer, RETENTION_COLUMNS)
    for count, row in enumerate(rows, start=1):
        cells = row.as_csv_row()
        writer.writerow(cells[column] for column in RETENTION_COLUMNS)
        if count % FETCH_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
