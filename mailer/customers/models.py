"""The customer model."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Connection, ForeignKey, Index, String, Text, event, inspect, text
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

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
    # When the customer's personal data was erased on request: kept only under a pseudonym, never mailed.
    erased_at: Mapped[datetime | None]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", order_by="Address.id", lazy="raise_on_sql"
    )

    def __repr__(self) -> str:
        return f"<Customer {self.customer_no}>"


# Compared bytewise on PostgreSQL too, as on SQLite: a prefix then spans one range of the index
# under any database collation.
SEARCH_TERM_TYPE = String(64).with_variant(String(64, collation="C"), "postgresql")


class CustomerSearchTerm(Base):
    """One folded word a customer is found by (see mailer/customers/search.py)."""

    __tablename__ = "customer_search_terms"
    __table_args__ = (Index("ix_customer_search_terms_term", "term", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(SEARCH_TERM_TYPE, primary_key=True)


# The fields a customer is searched by, and the merge that lends them to another customer.
SEARCHED_FIELDS = frozenset({"customer_no", "name", "phone", "email", "merged_into_id"})


@event.listens_for(Customer, "after_insert")
def _index_new_customer(mapper: Mapper[Customer], connection: Connection, customer: Customer) -> None:
    from mailer.customers.search import sync_search_terms

    sync_search_terms(connection, [customer.id])


@event.listens_for(Customer, "after_update")
def _index_changed_customer(mapper: Mapper[Customer], connection: Connection, customer: Customer) -> None:
    """Write the terms again when a searched field changes; a merge or its undo also rewrites the survivor's."""
    state = inspect(customer)
    if not any(state.attrs[name].history.has_changes() for name in SEARCHED_FIELDS):
        return
    from mailer.customers.search import sync_search_terms

    survivors = {
        value for value in (*state.attrs.merged_into_id.history.deleted, customer.merged_into_id) if value is not None
    }
    sync_search_terms(connection, [customer.id, *survivors])


class ConsentChannel(StrEnum):
    """A way of reaching a customer with marketing."""

    MAIL = "mail"
    EMAIL = "email"
    PHONE = "phone"


class ConsentSource(StrEnum):
    """Where a consent decision came from."""

    IMPORT = "import"
    # Carried over from the single do-not-mail status that came before consent was kept per channel.
    LEGACY = "legacy"
    STAFF = "staff"
    CUSTOMER_PAGE = "customer_page"
    RETURN_REFUSED = "return_refused"
    ERASURE = "erasure"


class Consent(Base):
    """One decision on marketing through one channel: granted or withdrawn, from where, when, to what wording.

    Decisions are kept, never overwritten: the newest of a customer's channel is current. A channel
    without any decision is mailable as before consent was recorded (the catalog relationship).
    """

    __tablename__ = "consents"
    __table_args__ = (
        # One current decision per customer and channel; batch selection joins on it.
        Index(
            "uq_consents_current_per_channel",
            "customer_id",
            "channel",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[IntPK]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[ConsentChannel]
    granted: Mapped[bool]
    source: Mapped[ConsentSource]
    # The text the customer agreed to (or the reason for a withdrawal), as shown to them.
    wording: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(254))
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[CreatedAt]
    is_current: Mapped[bool] = mapped_column(default=True)


class CustomerNote(Base):
    """A note staff wrote on a customer."""

    __tablename__ = "customer_notes"

    id: Mapped[IntPK]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[CreatedAt]


class ErasedNumber(Base):
    """A one-way hash of an erased customer's number, so no import brings the customer back.

    Nothing links it to the pseudonym the customer's figures are kept under.
    """

    __tablename__ = "erased_customer_numbers"

    id: Mapped[IntPK]
    digest: Mapped[str] = mapped_column(String(64), unique=True)
