"""Addresses, their validity, and the history of every change to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.column_types import CreatedAt, IntPK, UpdatedAt
from mailer.db import Base
from mailer.messages import restored

if TYPE_CHECKING:
    from mailer.customers.models import Customer


class AddressValidity(StrEnum):
    """How far we trust an address to reach its customer."""

    UNVERIFIED = "unverified"
    DELIVERABLE = "deliverable"
    SUSPECT = "suspect"
    UNDELIVERABLE = "undeliverable"
    SUPERSEDED = "superseded"


class AddressVerification(StrEnum):
    """What the postal reference data says about an address, before anything is mailed to it."""

    VERIFIED = "verified"
    CORRECTED = "corrected"
    MISMATCH = "mismatch"
    UNVERIFIABLE = "unverifiable"


class ChangeSource(StrEnum):
    """Why an address or its validity changed."""

    IMPORT = "import"
    RETURN_SCAN = "return_scan"
    POSTAL_FILE = "postal_file"
    CUSTOMER = "customer"
    STAFF = "staff"
    ORDER = "order"
    MERGE = "merge"
    REFERENCE_DATA = "reference_data"
    # A forwarding address the post office gave on a returned piece, typed in by the mailroom.
    POST_OFFICE = "post_office"


class AddressEventKind(StrEnum):
    """What kind of change an address history row records."""

    CREATED = "created"
    EDITED = "edited"
    VALIDITY = "validity"
    SUPERSEDED = "superseded"


class Address(Base):
    """A postal address of a customer; exactly one per customer is current."""

    __tablename__ = "addresses"
    __table_args__ = (
        # At most one current address per customer; the services keep it exactly one.
        Index(
            "uq_addresses_current_per_customer",
            "customer_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        # The dashboard's share of current addresses verified, by country, read from the index alone
        # (SQLite uses a partial index only for a query term it matches: queries say "is_current = 1").
        Index(
            "ix_addresses_current_country_verification",
            "country",
            "verification",
            sqlite_where=text("is_current = 1"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[IntPK]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    # Indexed for the customer list's region filter.
    region: Mapped[str | None] = mapped_column(String(100), index=True)
    postal_code: Mapped[str] = mapped_column(String(16), index=True)
    country: Mapped[str] = mapped_column(String(2))
    # Folded text for matching, stored so matching never recomputes it pair by pair.
    normalized: Mapped[str] = mapped_column(Text)
    # Hash of the normalized text: equal fingerprints mean the same address, however typed.
    fingerprint: Mapped[str] = mapped_column(String(32))
    # Hash of the delivery point: customers sharing it form one household.
    household_key: Mapped[str] = mapped_column(String(32), index=True)
    validity: Mapped[AddressValidity] = mapped_column(default=AddressValidity.UNVERIFIED, index=True)
    # Checked against the postal reference data when the address is written; apart from validity.
    verification: Mapped[AddressVerification] = mapped_column(default=AddressVerification.UNVERIFIABLE, index=True)
    verification_reason: Mapped[str | None] = mapped_column(Text)
    # The reason's template and values (mailer.messages.stored), so the pages say it in their language;
    # the reason itself is English.
    verification_phrase: Mapped[dict[str, Any] | None]
    # The standard form the reference data suggests ({field: value}); applied only when staff accept it.
    verification_suggestion: Mapped[dict[str, Any] | None]
    is_current: Mapped[bool] = mapped_column(default=True)
    confirmed_at: Mapped[datetime | None]
    confirmed_via: Mapped[ChangeSource | None]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    customer: Mapped[Customer] = relationship(back_populates="addresses", lazy="raise_on_sql")
    events: Mapped[list[AddressEvent]] = relationship(
        back_populates="address", order_by="AddressEvent.id", lazy="raise_on_sql"
    )

    @property
    def verification_message(self) -> str | None:
        """Return the verification reason as a Message where it has a phrase, else as stored."""
        return restored(self.verification_reason, self.verification_phrase)

    def as_dict(self) -> dict[str, Any]:
        """Return the printable fields and validity as plain data."""
        return {
            "line1": self.line1,
            "line2": self.line2 or "",
            "city": self.city,
            "region": self.region or "",
            "postal_code": self.postal_code,
            "country": self.country,
            "validity": self.validity.value,
            "verification": self.verification.value,
            "verification_reason": self.verification_reason or "",
        }


class AddressEvent(Base):
    """One change of an address or of its validity: what, from what to what, why, by whom, when."""

    __tablename__ = "address_events"

    id: Mapped[IntPK]
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[AddressEventKind]
    # {field: [old, new]}; for a created address, every field with old = null.
    changes: Mapped[dict[str, Any]]
    source: Mapped[ChangeSource]
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    # The note's template and values when a service wrote it (mailer.messages.stored), so the pages can
    # say it in their language; the note itself is English.
    note_phrase: Mapped[dict[str, Any] | None]
    created_at: Mapped[CreatedAt]

    address: Mapped[Address] = relationship(back_populates="events", lazy="raise_on_sql")

    @property
    def note_message(self) -> str | None:
        """Return the note as a Message where it has a phrase, else as stored."""
        return restored(self.note, self.note_phrase)
