"""Erasure that keeps the books: a customer's personal data removed everywhere, their figures kept.

``erase_customer`` overwrites, in one transaction: the name, phone and email (the customer number
becomes a random pseudonym), every address and the values and notes of its history, the address
blocks printed on their mail pieces, notes on returns, consent and pairs, stored duplicate pairs
and match keys, the staff's notes, churn explanations, and every audit row detail that quotes any
of it. Orders (dates and amounts), returns (reasons and dates), pieces and merges stay under the
pseudonym, so accounting and statistics add up.
Consent is withdrawn on every channel and can never be granted again: the customer is never mailed.
Pieces of batches not yet printed are held (the batch page lists them, with the reason), so a
rendered PDF that still shows the old address is pulled from the print run.

The database may keep overwritten bytes in free pages or its write-ahead log: ``purge_freed_space``
(SQLite) clears them after the commit. PostgreSQL keeps old row versions until vacuum reuses the
space; dumps and backups never hold them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Text, cast, or_, select, update
from sqlalchemy.orm import Session

from mailer.addresses import lifecycle
from mailer.addresses.models import Address
from mailer.audit.models import AuditEntry
from mailer.audit.service import record
from mailer.batches.models import Batch, BatchStatus, MailPiece, PieceStatus
from mailer.customers.consent import withdraw_everything
from mailer.customers.models import Consent, ConsentSource, Customer, CustomerNote, CustomerStatus, ErasedNumber
from mailer.db import SQLITE_BUSY_TIMEOUT_SECONDS, utcnow
from mailer.dedupe.models import CustomerMerge, DismissedPair
from mailer.dedupe.service import pair_score
from mailer.dedupe.stored import forget_customer
from mailer.messages import Message, stored
from returns.models import MailReturn

log = logging.getLogger(__name__)

PSEUDONYM_PREFIX = "ERASED-"
ERASED = lifecycle.ERASED
# The duplicate score at which another customer is offered for erasure with this one.
DUPLICATE_SCORE = 88.0
DUPLICATES_CHECKED = 200
# How long the checkpoint after an erasure waits for other connections to finish reading.
CHECKPOINT_WAIT_MS = 2000
HOLD_REASON = Message("the customer's data was erased: pull this piece from the print run")


class ErasureError(ValueError):
    """A customer that cannot be erased as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Another customer who is likely the same person, offered for erasure too."""

    customer_id: int
    customer_no: str
    why: str


@dataclass(slots=True)
class ErasureReport:
    """What an erasure changed, in counts: nothing personal."""

    pseudonym: str
    addresses: int = 0
    pieces: int = 0
    held_pieces: int = 0
    audit_rows: int = 0
    # Rendered batches whose files still show the customer: their pieces are held, the files are to be pulled.
    rendered_batches: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the counts as plain data."""
        return {
            "pseudonym": self.pseudonym, "addresses": self.addresses, "pieces": self.pieces,
            "held_pieces": self.held_pieces, "audit_rows": self.audit_rows, "rendered_batches": self.rendered_batches,
        }


def likely_duplicates(session: Session, *, customer: Customer) -> list[Duplicate]:
    """Return other customers who are likely the same person: merged with them, same email or phone, or
    a duplicate score at or above the review line at the same delivery point or postal code."""
    found: dict[int, Duplicate] = {}

    def offer(customer_id: int, customer_no: str, why: str) -> None:
        if customer_id != customer.id and customer_id not in found:
            found[customer_id] = Duplicate(customer_id, customer_no, why)

    for survivor_id, merged_id in session.execute(
        select(CustomerMerge.survivor_id, CustomerMerge.merged_id).where(
            or_(CustomerMerge.survivor_id == customer.id, CustomerMerge.merged_id == customer.id)
        )
    ):
        other = session.get_one(Customer, merged_id if survivor_id == customer.id else survivor_id)
        if other.erased_at is None:
            offer(other.id, other.customer_no, "merged")
    contacts = [(Customer.email, customer.email, "same email"), (Customer.phone, customer.phone, "same phone")]
    for column, value, why in contacts:
        if value:
            for other_id, other_no in session.execute(
                select(Customer.id, Customer.customer_no).where(column == value, Customer.erased_at.is_(None))
            ):
                offer(other_id, other_no, why)
    dismissed = {
        first if second == customer.id else second
        for first, second in session.execute(
            select(DismissedPair.first_id, DismissedPair.second_id).where(
                or_(DismissedPair.first_id == customer.id, DismissedPair.second_id == customer.id)
            )
        )
    }
    address = session.scalar(select(Address).where(Address.customer_id == customer.id, Address.is_current))
    if address is not None:
        nearby = session.execute(
            select(Customer.id, Customer.customer_no)
            .join(Address, (Address.customer_id == Customer.id) & Address.is_current)
            .where(
                or_(Address.household_key == address.household_key, Address.postal_code == address.postal_code),
                Address.country == address.country, Customer.id != customer.id, Customer.erased_at.is_(None),
            )
            .limit(DUPLICATES_CHECKED)
        )
        for other_id, other_no in nearby:
            if other_id in dismissed or other_id in found:
                continue
            score = pair_score(session, first_no=customer.customer_no, second_no=other_no)
            if score is not None and score.score >= DUPLICATE_SCORE:
                offer(other_id, other_no, f"duplicate score {score.score:.0f}")
    return sorted(found.values(), key=lambda d: d.customer_no)


def number_digest(customer_no: str) -> str:
    """Return the one-way hash under which an erased customer number is remembered."""
    return hashlib.sha256(f"mailer erased customer number\0{customer_no}".encode()).hexdigest()


def erased_numbers_among(session: Session, customer_nos: Iterable[str]) -> set[str]:
    """Return which of these customer numbers belonged to customers erased on request."""
    by_digest = {number_digest(number): number for number in customer_nos}
    found = session.scalars(select(ErasedNumber.digest).where(ErasedNumber.digest.in_(list(by_digest))))
    return {by_digest[digest] for digest in found}


def personal_values(session: Session, *, customer: Customer) -> list[str]:
    """Return the customer's own words and numbers that other rows may quote: number, name, contacts, addresses."""
    values = {customer.customer_no, customer.name, customer.phone or "", customer.email or ""}
    for line1, line2 in session.execute(
        select(Address.line1, Address.line2).where(Address.customer_id == customer.id)
    ):
        values.update((line1, line2 or ""))
    # Too short to be the customer's and not someone else's as well.
    return sorted(value for value in values if len(value.strip()) >= 3)


def erase_customer(session: Session, *, customer: Customer, actor: str) -> ErasureReport:
    """Erase a customer's personal data everywhere it is stored, keeping their figures under a pseudonym."""
    if customer.erased_at is not None:
        raise ErasureError(Message("customer %(no)s was already erased", no=customer.customer_no))
    needles = personal_values(session, customer=customer)
    report = ErasureReport(pseudonym=PSEUDONYM_PREFIX + secrets.token_hex(6).upper())
    old_number = customer.customer_no

    withdraw_everything(session, customer=customer, source=ConsentSource.ERASURE, actor=actor, note=None)
    session.execute(
        update(Consent).where(Consent.customer_id == customer.id).values(wording=None, note=None)
    )
    session.execute(CustomerNote.__table__.delete().where(CustomerNote.customer_id == customer.id))
    report.addresses = lifecycle.erase_addresses(session, customer_id=customer.id)
    _erase_pieces(session, customer_id=customer.id, report=report)
    session.execute(update(MailReturn).where(MailReturn.customer_id == customer.id).values(note=None))
    session.execute(
        update(DismissedPair)
        .where(or_(DismissedPair.first_id == customer.id, DismissedPair.second_id == customer.id))
        .values(note=None)
    )
    # A stored duplicate pair would still tie the pseudonym to the other customer as one person,
    # and the stored match keys spell the name and address.
    forget_customer(session, customer_id=customer.id)
    report.audit_rows = _scrub_audit(session, old_number=old_number, pseudonym=report.pseudonym, needles=needles)

    # Remembered only as a hash, unlinked to the pseudonym: a later import of the number is refused.
    if not erased_numbers_among(session, [old_number]):
        session.add(ErasedNumber(digest=number_digest(old_number)))
    customer.customer_no = report.pseudonym
    customer.name = report.pseudonym
    customer.name_incomplete = False
    customer.phone = None
    customer.email = None
    customer.churn_risk = None
    customer.churn_explanation = None
    customer.churn_scored_at = None
    customer.churn_value_at_risk_cents = None
    if customer.status is CustomerStatus.ACTIVE:
        customer.status = CustomerStatus.DO_NOT_MAIL
    customer.erased_at = utcnow()
    session.flush()
    record(
        session, actor=actor, action="customer.erase", object_type="customer", object_id=report.pseudonym,
        detail=report.as_dict(),
    )
    session.flush()
    log.info("customer %s erased by %s", customer.id, actor)
    return report


def _erase_pieces(session: Session, *, customer_id: int, report: ErasureReport) -> None:
    rows = session.execute(
        select(MailPiece.id, MailPiece.status, Batch.id, Batch.status)
        .join(Batch, Batch.id == MailPiece.batch_id)
        .where(MailPiece.customer_id == customer_id)
    ).all()
    report.pieces = len(rows)
    if not rows:
        return
    session.execute(
        update(MailPiece)
        .where(MailPiece.customer_id == customer_id)
        .values(lines=[ERASED], postal_code="", bundle="", hold_reason=None, hold_reason_phrase=None)
        .execution_options(synchronize_session=False)
    )
    # Printed or not, a piece of a batch that may still go to print is held with the reason.
    unprinted = [piece_id for piece_id, _, _, status in rows if status is not BatchStatus.CANCELLED]
    if unprinted:
        session.execute(
            update(MailPiece)
            .where(MailPiece.id.in_(unprinted))
            .values(status=PieceStatus.HELD, hold_reason=str(HOLD_REASON), hold_reason_phrase=stored(HOLD_REASON))
            .execution_options(synchronize_session=False)
        )
    report.held_pieces = len(unprinted)
    report.rendered_batches = sorted(
        {batch_id for _, _, batch_id, status in rows if status in (BatchStatus.RENDERED, BatchStatus.RENDERING)}
    )
    for piece in session.identity_map.values():
        if isinstance(piece, MailPiece) and piece.customer_id == customer_id:
            session.expire(piece)


def _scrubbed(value: Any, needles: Iterable[str]) -> Any:
    if isinstance(value, str):
        return ERASED if any(needle in value for needle in needles) else value
    if isinstance(value, list):
        return [_scrubbed(item, needles) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item, needles) for key, item in value.items()}
    return value


def _scrub_audit(session: Session, *, old_number: str, pseudonym: str, needles: list[str]) -> int:
    """Point the customer's audit rows at the pseudonym and erase every detail value quoting them."""
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.object_type == "customer", AuditEntry.object_id == old_number)
        .values(object_id=pseudonym)
        .execution_options(synchronize_session=False)
    )
    detail_text = cast(AuditEntry.detail, Text)
    # JSON may store text as it is or with \u escapes: look for both spellings.
    spellings = {form for needle in needles for form in (needle, json.dumps(needle)[1:-1])}
    quoting = or_(
        AuditEntry.object_id == pseudonym,
        *(detail_text.contains(spelling, autoescape=True) for spelling in spellings),
    )
    changed = 0
    for entry in session.scalars(select(AuditEntry).where(quoting)):
        cleaned = _scrubbed(entry.detail, needles)
        if cleaned != entry.detail:
            entry.detail = cleaned
            changed += 1
    session.flush()
    return changed


def purge_freed_space(engine: Engine, *, vacuum: bool, wait_ms: int = CHECKPOINT_WAIT_MS) -> bool:
    """Clear an SQLite database's freed pages and write-ahead log of what was overwritten (nothing to do elsewhere).

    ``secure_delete`` (set on every connection) zeroes freed space as rows change; VACUUM rebuilds
    the file from the live rows only; the TRUNCATE checkpoint empties the write-ahead log, whose old
    frames would otherwise keep earlier copies of the pages. Both need the other connections to be
    done: after waiting ``wait_ms`` (0 while the web app serves others: a waiting checkpoint holds
    up their writes), return False and leave it to the next erasure (or a VACUUM).
    """
    if engine.dialect.name != "sqlite":
        return True
    # The driver's own connection: SQLAlchemy's would open a transaction, inside which VACUUM cannot run.
    raw = engine.raw_connection()
    cursor = raw.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={wait_ms}")
        if vacuum:
            cursor.execute("VACUUM")
        busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError as exc:
        log.warning("freed space not purged yet, the database is in use: %s", exc)
        return False
    finally:
        # Back to the pool with the wait every other statement has.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()
        raw.close()
    if busy:
        log.warning("the write-ahead log is in use and not yet emptied")
    return not busy
