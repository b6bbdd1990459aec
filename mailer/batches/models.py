"""Campaigns, batches, mail pieces and the files a batch is rendered into."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.column_types import CreatedAt, IntPK
from mailer.db import Base


class BatchStatus(StrEnum):
    """Where a batch stands between selection and print."""

    SELECTED = "selected"  # pieces chosen; can be rendered
    RENDERING = "rendering"
    RENDERED = "rendered"  # frozen: the files went (or may go) to the print shop
    CANCELLED = "cancelled"  # withdrawn before its render started: never printed, its customers free again


class PieceStatus(StrEnum):
    """Whether a piece goes to print."""

    READY = "ready"
    HELD = "held"  # fails the layout check; not printed until its address is fixed


class FileStatus(StrEnum):
    """Whether one PDF file of a batch has been written."""

    PENDING = "pending"
    DONE = "done"


# The campaigns.name column's length: a longer name would fail at the database.
CAMPAIGN_NAME_MAX_LENGTH = 200


class Campaign(Base):
    """A mailing such as "Spring catalog 2027"; it has one or more batches."""

    __tablename__ = "campaigns"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(CAMPAIGN_NAME_MAX_LENGTH), unique=True)
    created_at: Mapped[CreatedAt]
    created_by: Mapped[str] = mapped_column(String(254))


class Batch(Base):
    """The recipients selected for one print run, in presort order."""

    __tablename__ = "batches"

    id: Mapped[IntPK]
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    profile: Mapped[str] = mapped_column(String(32))
    status: Mapped[BatchStatus] = mapped_column(default=BatchStatus.SELECTED)
    # The selection's filters as given, so the batch can be explained later.
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Customers not mailed, counted by reason: filter, deceased, do_not_mail, merged, undeliverable,
    # already_in_campaign, household.
    left_out: Mapped[dict[str, Any]] = mapped_column(default=dict)
    piece_count: Mapped[int] = mapped_column(default=0)
    # Pieces going to addresses the postal reference data could not verify (mismatch or unverifiable).
    unverifiable_pieces: Mapped[int] = mapped_column(default=0, server_default="0")
    # The address-update links printed on this batch's envelopes work until this day.
    update_expires_on: Mapped[date]
    # Set when a return says our printing was illegible.
    print_problem: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[CreatedAt]
    created_by: Mapped[str] = mapped_column(String(254))
    rendered_at: Mapped[datetime | None]
    # Why the last render stopped (pieces that do not fit, a failed job); None while all is well.
    render_error: Mapped[str | None] = mapped_column(Text)
    # Its template and values (mailer.messages.stored), so the batch page can say it in its language.
    render_error_phrase: Mapped[dict[str, Any] | None]

    campaign: Mapped[Campaign] = relationship(lazy="joined")


class MailPiece(Base):
    """One envelope: who it goes to, the address exactly as printed, and its scannable code."""

    __tablename__ = "mail_pieces"
    __table_args__ = (
        UniqueConstraint("batch_id", "sequence"),
        Index("ix_mail_pieces_imb", "imb_mailer_id", "imb_serial"),
    )

    id: Mapped[IntPK]
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"), index=True)
    piece_code: Mapped[str] = mapped_column(String(8), unique=True)
    # 1-based position in presort order.
    sequence: Mapped[int]
    # Postal-code prefix of the sort bundle (tray) the piece goes into.
    bundle: Mapped[str] = mapped_column(String(8))
    # The block as printed: name and address lines, postal code and country.
    lines: Mapped[list[Any]]
    postal_code: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    # Customers at the same delivery point folded into this piece, the addressee included.
    household_size: Mapped[int] = mapped_column(default=1)
    status: Mapped[PieceStatus] = mapped_column(default=PieceStatus.READY)
    hold_reason: Mapped[str | None] = mapped_column(String(300))
    # The whole reason as a phrase, to say it in the page's language.
    hold_reason_phrase: Mapped[dict[str, Any] | None]
    # When the customer gave a new address through this piece's update link: it changes an address once.
    address_updated_at: Mapped[datetime | None]
    # The Intelligent Mail barcode printed on a US piece: the Mailer ID and serial number that
    # identify it in the Postal Service's ACS notices, and every digit the bars encode.
    imb_mailer_id: Mapped[str | None] = mapped_column(String(9))
    imb_serial: Mapped[int | None]
    imb_digits: Mapped[str | None] = mapped_column(String(31))


class ImbSerialCounter(Base):
    """The next Intelligent Mail barcode serial number to give out under one Mailer ID."""

    __tablename__ = "imb_serial_counters"

    mailer_id: Mapped[str] = mapped_column(String(9), primary_key=True)
    next_serial: Mapped[int]


class BatchFile(Base):
    """One bounded PDF of a batch: a range of pieces rendered as one independent job."""

    __tablename__ = "batch_files"
    __table_args__ = (
        UniqueConstraint("batch_id", "file_no"),
        Index("ix_batch_files_batch_status", "batch_id", "status"),
    )

    id: Mapped[IntPK]
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    file_no: Mapped[int]
    first_sequence: Mapped[int]
    last_sequence: Mapped[int]
    file_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[FileStatus] = mapped_column(default=FileStatus.PENDING)
    pages: Mapped[int] = mapped_column(default=0)
    rendered_at: Mapped[datetime | None]
