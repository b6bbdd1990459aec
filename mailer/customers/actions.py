"""What staff do to one customer: correct the address, keep notes. Each change is audited.

Do-not-mail is consent (``mailer.customers.consent``), not an action on the address: an address
staff correct keeps nothing of the customer's consent, and a withdrawn consent leaves the address's
validity alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses import lifecycle
from mailer.addresses.models import Address, ChangeSource
from mailer.addresses.service import clean_address, current_address
from mailer.audit.service import record
from mailer.customers.models import Customer, CustomerNote, CustomerStatus
from mailer.db import utcnow
from mailer.imports import control_character_problem
from mailer.messages import Message

REASON_MAX_LENGTH = 500
NOTE_MAX_LENGTH = 2000


class CustomerActionError(ValueError):
    """A change to a customer that cannot be made as asked; nothing was changed."""


def _checked_text(text: str | None, *, what: Message, limit: int, multiline: bool) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise CustomerActionError(Message("the %(what)s is missing", what=what))
    if len(cleaned) > limit:
        raise CustomerActionError(Message("the %(what)s is longer than %(limit)s characters", what=what, limit=limit))
    if not multiline and (problem := control_character_problem({str(what): cleaned}, [str(what)])):
        raise CustomerActionError(problem)
    return cleaned


def _mutable(customer: Customer) -> None:
    if customer.erased_at is not None:
        raise CustomerActionError(Message("customer %(no)s was erased", no=customer.customer_no))
    if customer.status is CustomerStatus.MERGED:
        raise CustomerActionError(
            Message("customer %(no)s is merged into another customer: change that one", no=customer.customer_no)
        )


def correct_address(
    session: Session, *, customer: Customer, values: Mapping[str, str], reason: str, actor: str
) -> Address:
    """Correct the customer's current address, with a history row (source staff) saying why.

    The same address typed differently is edited in place and keeps its validity; another
    address becomes current (unverified) and the old one superseded. Raises CustomerActionError
    for a missing reason, an address the import would refuse, or nothing to change.
    """
    _mutable(customer)
    why = _checked_text(reason, what=Message("reason"), limit=REASON_MAX_LENGTH, multiline=False)
    cleaned = clean_address(values)
    if isinstance(cleaned, Message):
        raise CustomerActionError(cleaned)
    old = current_address(session, customer_id=customer.id)
    if old is not None and cleaned.fingerprint == old.fingerprint:
        edit = lifecycle.edit_in_place(
            address_id=old.id, customer_id=customer.id, before={f: getattr(old, f) for f in cleaned.fields},
            after=cleaned, source=ChangeSource.STAFF, actor=actor, now=utcnow(), note=why,
        )
        if edit is None:
            raise CustomerActionError(Message("the address is the one we have: nothing to correct"))
        _, event_row = edit
        for field, value in cleaned.fields.items():
            setattr(old, field, value)
        session.flush()
        lifecycle.insert_events(session, [event_row], new_address_ids={})
        address = old
        changed = sorted(event_row["changes"])
    else:
        address = lifecycle.replace_address(
            session, customer_id=customer.id, address=cleaned, source=ChangeSource.STAFF, actor=actor, note=why
        )
        changed = sorted(f for f, v in cleaned.fields.items() if old is None or getattr(old, f) != v)
    # Field names only: the audit log never quotes an address.
    record(
        session, actor=actor, action="customer.address_correct", object_type="customer",
        object_id=customer.customer_no,
        detail={"address": address.id, "superseded": None if old is None or old.id == address.id else old.id,
                "fields": changed},
    )
    session.flush()
    return address


def add_note(session: Session, *, customer: Customer, text: str, actor: str) -> CustomerNote:
    """Keep a note on the customer (audited without its text, which may be personal)."""
    _mutable(customer)
    note = CustomerNote(
        customer_id=customer.id, text=_checked_text(text, what=Message("note"), limit=NOTE_MAX_LENGTH, multiline=True),
        actor=actor, created_at=utcnow(),
    )
    session.add(note)
    session.flush()
    record(session, actor=actor, action="customer.note", object_type="customer", object_id=customer.customer_no,
           detail={"note": note.id})
    return note


def customer_notes(session: Session, *, customer_id: int) -> list[CustomerNote]:
    """Return a customer's notes, newest first."""
    return list(
        session.scalars(
            select(CustomerNote)
            .where(CustomerNote.customer_id == customer_id)
            .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc())
        )
    )
