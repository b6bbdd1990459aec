"""Everything held about one customer, for their right of access and copy.

``customer_record`` gathers every row that is about the customer, whatever table keeps it: the
profile, every address (current and old) with its history, orders, mail pieces with their printed
address blocks, returns, the churn score and its explanation, consent decisions, notes, merges and
pairs marked not duplicates, and the audit rows about them. The same plain data is the JSON file
and the page. Each export is audited (``record_export``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEvent
from mailer.audit.models import AuditEntry
from mailer.audit.service import record
from mailer.batches.models import Batch, Campaign, MailPiece
from mailer.customers.models import Consent, Customer, CustomerNote
from mailer.dedupe.models import CustomerMerge, DismissedPair
from mailer.orders.models import Order
from returns.models import MailReturn

# Audit actions that read a customer rather than change them; the record lists them apart.
LOOK_ACTIONS = frozenset({"customer.view", "customer.export"})


def _plain(value: Any) -> Any:
    """Return a value as JSON holds it: dates as ISO text, enums by value, money as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def find_customer(session: Session, *, customer_no: str) -> Customer | None:
    """Return the customer with this number, or None."""
    return session.scalar(select(Customer).where(Customer.customer_no == customer_no))


def customer_record(session: Session, *, customer: Customer) -> dict[str, Any]:
    """Return everything held about a customer as JSON-ready data, section by section."""
    cid = customer.id
    survivor = session.get(Customer, customer.merged_into_id) if customer.merged_into_id is not None else None
    profile = _row(
        customer,
        ("customer_no", "name", "name_incomplete", "phone", "email", "status", "created_at", "updated_at",
         "erased_at"),
    )
    profile["merged_into"] = survivor.customer_no if survivor is not None else None
    addresses = session.scalars(select(Address).where(Address.customer_id == cid).order_by(Address.id))
    events = session.scalars(
        select(AddressEvent).where(AddressEvent.customer_id == cid).order_by(AddressEvent.created_at, AddressEvent.id)
    )
    orders = session.scalars(select(Order).where(Order.customer_id == cid).order_by(Order.ordered_on, Order.id))
    pieces = session.execute(
        select(MailPiece, Campaign.name)
        .join(Batch, Batch.id == MailPiece.batch_id)
        .join(Campaign, Campaign.id == Batch.campaign_id)
        .where(MailPiece.customer_id == cid)
        .order_by(MailPiece.id)
    )
    returns = session.execute(
        select(MailReturn, MailPiece.piece_code)
        .join(MailPiece, MailPiece.id == MailReturn.piece_id)
        .where(MailReturn.customer_id == cid)
        .order_by(MailReturn.returned_at, MailReturn.id)
    )
    consents = session.scalars(select(Consent).where(Consent.customer_id == cid).order_by(Consent.id))
    notes = session.scalars(select(CustomerNote).where(CustomerNote.customer_id == cid).order_by(CustomerNote.id))
    merges = session.scalars(
        select(CustomerMerge)
        .where(or_(CustomerMerge.survivor_id == cid, CustomerMerge.merged_id == cid))
        .order_by(CustomerMerge.id)
    )
    dismissed = session.scalars(
        select(DismissedPair)
        .where(or_(DismissedPair.first_id == cid, DismissedPair.second_id == cid))
        .order_by(DismissedPair.id)
    )
    numbers: dict[int, str] = {
        row.id: row.customer_no
        for row in session.execute(
            select(Customer.id, Customer.customer_no).where(Customer.id.in_(_related_ids(session, cid)))
        )
    }
    audit = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "customer", AuditEntry.object_id == customer.customer_no)
        .order_by(AuditEntry.id)
    )
    audit_rows = [_row(entry, ("created_at", "actor", "action", "detail")) for entry in audit]
    return {
        "customer_no": customer.customer_no,
        "profile": profile,
        "addresses": [
            _row(a, ("id", "line1", "line2", "city", "region", "postal_code", "country", "validity", "is_current",
                     "confirmed_at", "confirmed_via", "created_at", "updated_at"))
            for a in addresses
        ],
        "address_history": [
            _row(e, ("created_at", "address_id", "kind", "changes", "source", "actor", "note")) for e in events
        ],
        "orders": [{"ordered_on": o.ordered_on.isoformat(), "amount": str(Decimal(o.amount_cents).scaleb(-2))}
                   for o in orders],
        "mail_pieces": [
            {**_row(piece, ("piece_code", "batch_id", "lines", "postal_code", "country", "status",
                            "address_updated_at")), "campaign": campaign}
            for piece, campaign in pieces
        ],
        "returns": [
            {**_row(ret, ("returned_at", "reason", "given_as", "source", "actor", "note", "is_current",
                          "validity_before", "validity_after")), "piece_code": code}
            for ret, code in returns
        ],
        "churn": {
            **_row(customer, ("churn_risk", "churn_scored_at", "churn_last_ordered_on", "churn_purchase_days",
                              "churn_spent_cents")),
            "explanation": customer.churn_explanation or [],
        },
        "consent": [
            _row(c, ("channel", "granted", "source", "wording", "actor", "note", "decided_at", "is_current"))
            for c in consents
        ],
        "notes": [_row(n, ("created_at", "actor", "text")) for n in notes],
        "merges": [
            {"survivor": numbers.get(m.survivor_id), "merged": numbers.get(m.merged_id), "merged_at":
             _plain(m.merged_at), "actor": m.actor, "automatic": m.automatic, "undone_at": _plain(m.undone_at)}
            for m in merges
        ],
        "not_duplicates_of": [
            {"other": numbers.get(p.second_id if p.first_id == cid else p.first_id), "actor": p.actor,
             "note": p.note, "dismissed_at": _plain(p.dismissed_at)}
            for p in dismissed
        ],
        "changes_logged": [row for row in audit_rows if row["action"] not in LOOK_ACTIONS],
        "looked_at_by": [row for row in audit_rows if row["action"] in LOOK_ACTIONS],
    }


def _related_ids(session: Session, customer_id: int) -> set[int]:
    ids = {customer_id}
    for survivor, merged in session.execute(
        select(CustomerMerge.survivor_id, CustomerMerge.merged_id).where(
            or_(CustomerMerge.survivor_id == customer_id, CustomerMerge.merged_id == customer_id)
        )
    ):
        ids.update((survivor, merged))
    for first, second in session.execute(
        select(DismissedPair.first_id, DismissedPair.second_id).where(
            or_(DismissedPair.first_id == customer_id, DismissedPair.second_id == customer_id)
        )
    ):
        ids.update((first, second))
    return ids


def record_export(session: Session, *, customer: Customer, actor: str, form: str) -> None:
    """Audit one export of a customer's record (``form``: json, page or the command line's file)."""
    record(session, actor=actor, action="customer.export", object_type="customer", object_id=customer.customer_no,
           detail={"form": form})
    session.flush()
