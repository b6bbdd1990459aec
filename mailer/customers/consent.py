"""Marketing consent per channel: granted or withdrawn, with its source, date and wording.

The consent table decides who may be mailed; the customer's ``do_not_mail`` status only mirrors the
current mail decision, for the pages and counts that read statuses. Only this module writes that
mirror for consent (returns write it with their own undo, and call ``follow_refusals`` here).
Validity is the address's business: an undeliverable address is not a withdrawn consent, nor the
other way round.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from mailer.audit.service import record, record_many
from mailer.customers.models import Consent, ConsentChannel, ConsentSource, Customer, CustomerStatus
from mailer.db import utcnow
from mailer.messages import Message

WORDING_MAX_LENGTH = 2000
# What the customers' page says a withdrawal does: stored with each withdrawal made there.
CUSTOMER_PAGE_WITHDRAWAL = "Stop sending me catalogs by post."


class ConsentError(ValueError):
    """A consent decision that cannot be recorded."""


def current_consents(session: Session, *, customer_id: int) -> dict[ConsentChannel, Consent]:
    """Return the current decision of each channel that has one."""
    rows = session.scalars(select(Consent).where(Consent.customer_id == customer_id, Consent.is_current))
    return {row.channel: row for row in rows}


def consent_history(session: Session, *, customer_id: int) -> list[Consent]:
    """Return every consent decision of a customer, newest first."""
    return list(
        session.scalars(
            select(Consent)
            .where(Consent.customer_id == customer_id)
            .order_by(Consent.decided_at.desc(), Consent.id.desc())
        )
    )


def may_contact(session: Session, *, customer_id: int, channel: ConsentChannel) -> bool:
    """Tell whether the channel is open: no decision, or a granted one."""
    current = current_consents(session, customer_id=customer_id).get(channel)
    return current is None or current.granted


def set_consent(
    session: Session,
    *,
    customer: Customer,
    channel: ConsentChannel,
    granted: bool,
    source: ConsentSource,
    actor: str,
    wording: str | None = None,
    note: str | None = None,
) -> Consent | None:
    """Record a decision on one channel; return it, or None when it is already the current one.

    Granting is refused for an erased customer. The mail decision sets the status mirror
    (``active`` ⇄ ``do_not_mail``; deceased and merged customers keep theirs). Audited.
    """
    wording = (wording or "").strip() or None
    if wording is not None and len(wording) > WORDING_MAX_LENGTH:
        raise ConsentError(Message("the wording is longer than %(limit)s characters", limit=WORDING_MAX_LENGTH))
    if granted and customer.erased_at is not None:
        raise ConsentError(
            Message("customer %(no)s was erased and can never be contacted again", no=customer.customer_no)
        )
    if granted and source is ConsentSource.STAFF and wording is None:
        raise ConsentError(Message("a consent needs the wording the customer agreed to"))
    before = current_consents(session, customer_id=customer.id).get(channel)
    if before is not None and before.granted == granted:
        return None
    decision = _write(
        session, customer_id=customer.id, channel=channel, granted=granted, source=source, actor=actor,
        wording=wording, note=note, now=utcnow(), before=before,
    )
    if channel is ConsentChannel.MAIL:
        _mirror_status(customer, granted=granted)
    record(
        session, actor=actor, action="customer.consent", object_type="customer", object_id=customer.customer_no,
        detail={
            "channel": channel.value, "granted": [None if before is None else before.granted, granted],
            "source": source.value,
        },
    )
    session.flush()
    return decision


def withdraw_everything(
    session: Session, *, customer: Customer, source: ConsentSource, actor: str, note: str | None
) -> None:
    """Withdraw consent on every channel (an erasure), whatever was decided before."""
    for channel in ConsentChannel:
        set_consent(session, customer=customer, channel=channel, granted=False, source=source, actor=actor, note=note)


def _write(
    session: Session,
    *,
    customer_id: int,
    channel: ConsentChannel,
    granted: bool,
    source: ConsentSource,
    actor: str,
    wording: str | None,
    note: str | None,
    now: datetime,
    before: Consent | None,
) -> Consent:
    if before is not None:
        before.is_current = False
        # The old decision stops being current before the new one is written (one current each).
        session.flush()
    decision = Consent(
        customer_id=customer_id, channel=channel, granted=granted, source=source, wording=wording, actor=actor,
        note=note, decided_at=now, is_current=True,
    )
    session.add(decision)
    session.flush()
    return decision


def _mirror_status(customer: Customer, *, granted: bool) -> None:
    if not granted and customer.status is CustomerStatus.ACTIVE:
        customer.status = CustomerStatus.DO_NOT_MAIL
    elif granted and customer.status is CustomerStatus.DO_NOT_MAIL:
        customer.status = CustomerStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A customer's status change written by a return, as consent follows it."""

    customer_id: int
    before: CustomerStatus
    after: CustomerStatus
    why: str


def follow_refusals(session: Session, changes: Iterable[StatusChange], *, actor: str, now: datetime) -> None:
    """Keep mail consent in step with the returns' status changes.

    A refused return (status to ``do_not_mail``) withdraws mail consent with source
    ``return_refused``; its correction (``do_not_mail`` back to ``active``) takes that withdrawal
    back, making the decision before it current again. The returns wrote the status themselves.
    """
    changes = list(changes)
    if not changes:
        return
    # A chunk of returns changes hundreds of statuses: read their current mail decisions at once and
    # write the withdrawals in one flush (the old decisions stop being current first: the unit of work
    # updates a table before inserting into it).
    current: dict[int, Consent | None] = dict.fromkeys(sorted({change.customer_id for change in changes}))
    for decision in session.scalars(
        select(Consent).where(
            Consent.customer_id.in_(list(current)), Consent.channel == ConsentChannel.MAIL, Consent.is_current
        )
    ):
        current[decision.customer_id] = decision
    for change in changes:
        before = current[change.customer_id]
        if change.after is CustomerStatus.DO_NOT_MAIL:
            if before is None or before.granted:
                if before is not None:
                    before.is_current = False
                withdrawal = Consent(
                    customer_id=change.customer_id, channel=ConsentChannel.MAIL, granted=False,
                    source=ConsentSource.RETURN_REFUSED, wording=None, actor=actor, note=change.why, decided_at=now,
                    is_current=True,
                )
                session.add(withdrawal)
                current[change.customer_id] = withdrawal
        elif (
            change.before is CustomerStatus.DO_NOT_MAIL
            and change.after is CustomerStatus.ACTIVE
            and before is not None
            and before.source is ConsentSource.RETURN_REFUSED
        ):
            current[change.customer_id] = _take_back(session, before)
    session.flush()


def _take_back(session: Session, withdrawal: Consent) -> Consent | None:
    withdrawal.is_current = False
    session.flush()
    earlier = session.scalar(
        select(Consent)
        .where(
            Consent.customer_id == withdrawal.customer_id, Consent.channel == withdrawal.channel,
            Consent.id < withdrawal.id,
        )
        .order_by(Consent.id.desc())
        .limit(1)
    )
    if earlier is not None:
        earlier.is_current = True
    session.flush()
    return earlier


@dataclass(frozen=True, slots=True)
class ImportedDecision:
    """A consent a customer file states for one customer and channel."""

    customer_id: int
    customer_no: str
    channel: ConsentChannel
    granted: bool
    wording: str | None


def record_imported(session: Session, decisions: Iterable[ImportedDecision], *, actor: str, now: datetime) -> int:
    """Record the consents a customer file states (source ``import``) where they differ from the current ones.

    Core statements, a few per chunk, as the import writes: the decisions replaced stop being
    current first, then the new ones go in. Erased customers are left alone; the mail decision sets
    the status mirror. Audited per change; return how many decisions were recorded.
    """
    decisions = list(decisions)
    if not decisions:
        return 0
    ids = sorted({d.customer_id for d in decisions})
    current = {
        (row.customer_id, row.channel): (row.id, row.granted)
        for row in session.execute(
            select(Consent.id, Consent.customer_id, Consent.channel, Consent.granted).where(
                Consent.customer_id.in_(ids), Consent.is_current
            )
        )
    }
    customers = {
        row.id: row
        for row in session.execute(select(Customer.id, Customer.status, Customer.erased_at).where(Customer.id.in_(ids)))
    }
    changes: list[tuple[ImportedDecision, bool | None]] = []
    retired: list[int] = []
    for decision in decisions:
        before = current.get((decision.customer_id, decision.channel))
        unchanged = before is not None and before[1] == decision.granted
        if unchanged or customers[decision.customer_id].erased_at is not None:
            continue
        changes.append((decision, None if before is None else before[1]))
        if before is not None:
            retired.append(before[0])
    if not changes:
        return 0
    if retired:
        # One current decision each: the old ones stop being current before the new ones are written.
        session.execute(
            update(Consent).where(Consent.id.in_(retired)).values(is_current=False)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        insert(Consent.__table__),
        [
            {"customer_id": d.customer_id, "channel": d.channel, "granted": d.granted, "source": ConsentSource.IMPORT,
             "wording": d.wording, "actor": actor, "note": None, "decided_at": now, "is_current": True}
            for d, _ in changes
        ],
    )
    for granted, status_before, status_after in (
        (False, CustomerStatus.ACTIVE, CustomerStatus.DO_NOT_MAIL),
        (True, CustomerStatus.DO_NOT_MAIL, CustomerStatus.ACTIVE),
    ):
        mirrored = [
            d.customer_id for d, _ in changes
            if d.channel is ConsentChannel.MAIL and d.granted is granted
            and customers[d.customer_id].status is status_before
        ]
        if mirrored:
            session.execute(
                update(Customer).where(Customer.id.in_(mirrored)).values(status=status_after, updated_at=now)
                .execution_options(synchronize_session=False)
            )
    record_many(
        session,
        [
            {"actor": actor, "action": "customer.consent", "object_type": "customer", "object_id": d.customer_no,
             "detail": {"channel": d.channel.value, "granted": [before, d.granted],
                        "source": ConsentSource.IMPORT.value}}
            for d, before in changes
        ],
    )
    return len(changes)
