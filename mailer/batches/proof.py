"""Proofs: a few envelopes of a batch, a would-be batch or one customer, rendered before the real thing.

A proof looks like the mail it stands for, with two differences that keep it from ever being
mailed by mistake: every page carries the PROOF mark in its top margin, and every envelope
carries a proof code instead of a piece code. A proof code's check symbol is deliberately wrong,
so it can never equal a piece code (every stored code passes its check), a scan of it is refused
as misread, and the update link printed with it opens nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.service import current_address
from mailer.audit.service import record
from mailer.batches.address_block import format_address_block
from mailer.batches.models import Batch, BatchStatus, MailPiece
from mailer.batches.piece_codes import ALPHABET, check_symbol, display_piece_code
from mailer.batches.rendering import RenderSettings
from mailer.batches.selection import UPDATE_LINK_DAYS, BatchFilters, trial_batch
from mailer.batches.senders import sender_for
from mailer.batches.tokens import make_token, update_url
from mailer.customers.models import Customer
from mailer.envelopes import PROFILES, EnvelopePiece, LayoutError, reasons_for, render_envelopes
from mailer.messages import Message, join

DEFAULT_PROOF_PIECES = 10
MAX_PROOF_PIECES = 100
# Readable as a proof on the envelope ("PRF0-0001"); P, R and F are symbols of the code alphabet.
_PROOF_PREFIX = "PRF"


class ProofError(ValueError):
    """A proof cannot be made as asked."""


@dataclass(frozen=True, slots=True)
class ProofAddress:
    """One envelope of a proof: the address block as it would be printed."""

    customer_no: str
    lines: tuple[str, ...]
    postal_code: str


@dataclass(frozen=True, slots=True)
class Proof:
    """The envelopes of a proof and what they are a proof of."""

    profile: str
    addresses: list[ProofAddress]
    # "batch 12", "campaign 'Spring'" or "customer C000123": what the audit row says the proof is of.
    subject: str
    object_type: str
    object_id: str | None


def proof_piece_code(number: int) -> str:
    """Return the code printed on the n-th envelope (from 1) of a proof: a wrong check symbol, never a piece code."""
    payload = f"{_PROOF_PREFIX}{number:04d}"
    valid = ALPHABET.index(check_symbol(payload))
    return payload + ALPHABET[(valid + 1) % len(ALPHABET)]


def _checked_count(first: int) -> int:
    if not 1 <= first <= MAX_PROOF_PIECES:
        raise ProofError(
            Message("a proof holds 1 to %(most)s envelopes; %(count)s were asked for", most=MAX_PROOF_PIECES,
                    count=first)
        )
    return first


def proof_of_batch(session: Session, *, batch_id: int, first: int = DEFAULT_PROOF_PIECES,
                   customer_no: str | None = None) -> Proof:
    """Return the first envelopes of a batch not yet rendered, in presort order, or one customer's envelope."""
    count = _checked_count(first) if customer_no is None else 1
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise ProofError(Message("no batch %(batch_id)s", batch_id=batch_id))
    if batch.status in (BatchStatus.RENDERED, BatchStatus.CANCELLED):
        raise ProofError(
            Message("batch %(batch_id)s is %(status)s: a proof is made before a batch is rendered",
                    batch_id=batch_id, status=batch.status.value)
        )
    statement = (
        select(Customer.customer_no, MailPiece.lines, MailPiece.postal_code)
        .join(Customer, Customer.id == MailPiece.customer_id)
        .where(MailPiece.batch_id == batch_id)
        .order_by(MailPiece.sequence)
    )
    if customer_no is not None:
        statement = statement.where(Customer.customer_no == customer_no.strip())
    else:
        statement = statement.limit(count)
    addresses = [ProofAddress(no, tuple(lines), postal_code) for no, lines, postal_code in session.execute(statement)]
    if not addresses:
        raise ProofError(
            Message("customer %(customer_no)s has no piece in batch %(batch_id)s", customer_no=customer_no,
                    batch_id=batch_id)
        )
    subject = f"batch {batch_id}" + (f", customer {customer_no.strip()}" if customer_no else "")
    return Proof(profile=batch.profile, addresses=addresses, subject=subject, object_type="batch",
                 object_id=str(batch_id))


def proof_of_selection(
    session: Session,
    *,
    campaign_name: str,
    profile: str,
    filters: BatchFilters,
    actor: str,
    remail: bool = False,
    first: int = DEFAULT_PROOF_PIECES,
) -> Proof:
    """Return the first envelopes a batch created with these arguments would hold; nothing is stored."""
    count = _checked_count(first)
    # The selection runs as creating runs it, in a savepoint rolled back: no batch, no piece code taken.
    with trial_batch(
        session, campaign_name=campaign_name, profile=profile, filters=filters, actor=actor, remail=remail
    ) as batch:
        rows = session.execute(
            select(Customer.customer_no, MailPiece.lines, MailPiece.postal_code)
            .join(Customer, Customer.id == MailPiece.customer_id)
            .where(MailPiece.batch_id == batch.id)
            .order_by(MailPiece.sequence)
            .limit(count)
        ).all()
        campaign = batch.campaign.name
    addresses = [ProofAddress(no, tuple(lines), postal_code) for no, lines, postal_code in rows]
    return Proof(profile=profile, addresses=addresses, subject=f"campaign {campaign!r}", object_type="campaign",
                 object_id=None)


def proof_of_customer(session: Session, *, customer_no: str, profile: str) -> Proof:
    """Return one customer's envelope at their current address, as a batch would print it."""
    if profile not in PROFILES:
        raise ProofError(
            Message("unknown envelope profile %(profile)s; use %(known)s", profile=repr(profile),
                    known=", ".join(PROFILES))
        )
    number = customer_no.strip()
    customer = session.scalar(select(Customer).where(Customer.customer_no == number))
    if customer is None:
        raise ProofError(Message("no customer %(customer_no)s", customer_no=number))
    address = current_address(session, customer_id=customer.id)
    if address is None:
        raise ProofError(Message("customer %(customer_no)s has no current address", customer_no=number))
    fields = {f: getattr(address, f) for f in ("line1", "line2", "city", "region", "postal_code", "country")}
    lines = format_address_block(name=customer.name, address=fields)
    return Proof(
        profile=profile, addresses=[ProofAddress(number, lines, address.postal_code)], subject=f"customer {number}",
        object_type="customer", object_id=str(customer.id),
    )


def render_proof(
    session: Session,
    proof: Proof,
    *,
    settings: RenderSettings,
    out: BinaryIO | str | Path,
    actor: str,
    today: date | None = None,
) -> int:
    """Render a proof's envelopes, marked PROOF and with proof codes; put it on record; return the envelopes."""
    profile = PROFILES[proof.profile]
    expires_on = (today or date.today()) + timedelta(days=UPDATE_LINK_DAYS)
    pieces = [
        _proof_piece(address, number, secret=settings.secret_key, base_url=settings.public_base_url,
                     expires_on=expires_on)
        for number, address in enumerate(proof.addresses, start=1)
    ]
    try:
        render_envelopes(
            pieces, profile=profile, sender=sender_for(profile.key, settings.senders), reasons=reasons_for(profile),
            out=out, proof=True,
        )
    except LayoutError as exc:
        raise ProofError(_layout_refusal(exc, pieces, proof.addresses)) from None
    # A proof holds customers' names and addresses, as a batch's files do.
    record(session, actor=actor, action="batch.proof", object_type=proof.object_type, object_id=proof.object_id,
           detail={"profile": proof.profile, "envelopes": len(pieces), "of": proof.subject})
    return len(pieces)


def _proof_piece(address: ProofAddress, number: int, *, secret: str, base_url: str, expires_on: date) -> EnvelopePiece:
    code = proof_piece_code(number)
    url = update_url(base_url=base_url, token=make_token(secret=secret, piece_code=code, expires_on=expires_on))
    return EnvelopePiece(
        piece_code=code, lines=address.lines, postal_code=address.postal_code, update_url=url,
        short_url=url.split("://", 1)[-1], readable_code=display_piece_code(code),
    )


def _layout_refusal(error: LayoutError, pieces: Sequence[EnvelopePiece], addresses: Sequence[ProofAddress]) -> Message:
    # Name the customer, not the proof code nobody knows.
    customer_of = {piece.piece_code: address.customer_no for piece, address in zip(pieces, addresses, strict=True)}
    return Message(
        "the proof cannot be laid out: %(problems)s",
        problems=join("; ", [
            Message("customer %(customer_no)s: %(problem)s",
                    customer_no=customer_of.get(problem.piece_code or "", "sender"), problem=problem.summary)
            for problem in error.problems[:5]
        ]),
    )
