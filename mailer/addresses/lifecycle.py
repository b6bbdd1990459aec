"""Every transition of an address and the history row it writes, in one place.

An address is created, edited in place (the same address typed differently), superseded by a new
one, changes validity (returns, confirmations, cleared flags), is retired into a survivor's history
by a merge, and is brought back by the merge's undo. Each transition is a rule here: what it changes
(``*_changes``: the history row's ``{field: [old, new]}``) and the history row itself (``event_row``).

Two forms share those rules:

- the single form changes ORM objects and adds an ``AddressEvent`` (pages, self-service, merges,
  confirmations, cleared flags);
- the bulk form builds plain row dicts for multi-row statements (the customer import's chunks, the
  returns' chunk writer) and writes them with a few statements (``update_addresses``,
  ``insert_addresses``, ``insert_events``).

Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEvent, AddressEventKind, AddressValidity, ChangeSource
from mailer.addresses.service import ADDRESS_FIELDS, CleanAddress, clean_address, current_address
from mailer.db import execute_rows, update_by_id, utcnow
from mailer.messages import Message, stored

# --- the rules: what each transition changes ------------------------------------------------------


def created_changes(address: CleanAddress) -> dict[str, Any]:
    """Return the changes of a new address: every given field, from nothing."""
    return {field: [None, value] for field, value in address.fields.items() if value is not None}


def edited_changes(before: Mapping[str, Any], after: CleanAddress) -> dict[str, Any]:
    """Return the fields an in-place edit changes, from their stored values to the typed ones."""
    return {field: [before[field], value] for field, value in after.fields.items() if before[field] != value}


def validity_pair(before: AddressValidity, after: AddressValidity) -> list[str]:
    """Return a validity change as history rows and audit details store it: [before, after]."""
    return [before.value, after.value]


def superseded_changes(validity_before: AddressValidity) -> dict[str, Any]:
    """Return the changes of an address a newer one replaces."""
    return {"validity": validity_pair(validity_before, AddressValidity.SUPERSEDED), "is_current": [True, False]}


def validity_changes(
    before: AddressValidity,
    after: AddressValidity,
    *,
    confirmed: tuple[datetime | None, datetime] | None = None,
) -> dict[str, Any]:
    """Return the changes of a validity change and, when ``confirmed`` (before, now), of the confirmation."""
    changes: dict[str, Any] = {}
    if before is not after:
        changes["validity"] = validity_pair(before, after)
    if confirmed is not None:
        confirmed_before, now = confirmed
        changes["confirmed_at"] = [confirmed_before.isoformat() if confirmed_before else None, now.isoformat()]
    return changes


def merge_retired_changes(validity_before: AddressValidity) -> dict[str, Any]:
    """Return the changes of a merged customer's address joining the survivor's history."""
    return {"is_current": [True, False], "validity": validity_pair(validity_before, AddressValidity.SUPERSEDED)}


def merge_undone_changes(validity: AddressValidity) -> dict[str, Any]:
    """Return the changes of a retired address made current again by undoing its merge."""
    return {"is_current": [False, True], "validity": validity_pair(AddressValidity.SUPERSEDED, validity)}


def event_row(
    *,
    address_id: int | None,
    customer_id: int,
    kind: AddressEventKind,
    changes: dict[str, Any],
    source: ChangeSource,
    actor: str,
    note: str | None,
    created_at: datetime,
) -> dict[str, Any]:
    """Return one history row as plain data; a None address id is the customer's address still to be inserted."""
    return {
        "address_id": address_id, "customer_id": customer_id, "kind": kind, "changes": changes, "source": source,
        "actor": actor, "note": note, "note_phrase": stored(note), "created_at": created_at,
    }


def address_row(
    *,
    customer_id: int,
    address: CleanAddress,
    validity: AddressValidity,
    source: ChangeSource,
    now: datetime,
) -> dict[str, Any]:
    """Return a new current address as plain data; a deliverable one is confirmed by its source now."""
    confirmed = validity is AddressValidity.DELIVERABLE
    return {
        "customer_id": customer_id, **address.fields, "normalized": address.normalized,
        "fingerprint": address.fingerprint, "household_key": address.household_key, "validity": validity,
        **address.verification_columns(),
        "is_current": True, "confirmed_at": now if confirmed else None, "confirmed_via": source if confirmed else None,
        "created_at": now, "updated_at": now,
    }


# --- the single form: ORM objects ----------------------------------------------------------------


def record_event(
    session: Session,
    *,
    address: Address,
    kind: AddressEventKind,
    changes: dict[str, Any],
    source: ChangeSource,
    actor: str,
    note: str | None = None,
) -> AddressEvent:
    """Add one history row for an address."""
    event = AddressEvent(
        **event_row(
            address_id=address.id, customer_id=address.customer_id, kind=kind, changes=changes, source=source,
            actor=actor, note=note, created_at=utcnow(),
        )
    )
    session.add(event)
    return event


def set_validity(
    session: Session,
    *,
    address: Address,
    validity: AddressValidity,
    source: ChangeSource,
    actor: str,
    note: str | None = None,
    confirmed: bool = False,
) -> bool:
    """Change an address's validity with a history row; return whether anything changed."""
    now = utcnow()
    changes = validity_changes(address.validity, validity, confirmed=(address.confirmed_at, now) if confirmed else None)
    if not changes:
        return False
    address.validity = validity
    if confirmed:
        address.confirmed_at = now
        address.confirmed_via = source
    record_event(
        session, address=address, kind=AddressEventKind.VALIDITY, changes=changes, source=source, actor=actor,
        note=note,
    )
    session.flush()
    return True


def replace_address(
    session: Session,
    *,
    customer_id: int,
    address: CleanAddress,
    source: ChangeSource,
    actor: str,
    note: str | None = None,
    validity: AddressValidity = AddressValidity.UNVERIFIED,
) -> Address:
    """Make a new address the customer's current one; the old one becomes superseded."""
    old = current_address(session, customer_id=customer_id)
    if old is not None:
        record_event(
            session, address=old, kind=AddressEventKind.SUPERSEDED, changes=superseded_changes(old.validity),
            source=source, actor=actor, note=note,
        )
        old.validity = AddressValidity.SUPERSEDED
        old.is_current = False
        # The old row must stop being current before the new one is written (one current each).
        session.flush()
    new = Address(**address_row(customer_id=customer_id, address=address, validity=validity, source=source,
                                now=utcnow()))
    session.add(new)
    session.flush()
    record_event(
        session, address=new, kind=AddressEventKind.CREATED, changes=created_changes(address), source=source,
        actor=actor, note=note,
    )
    session.flush()
    return new


class SuggestionRefused(ValueError):
    """A suggestion that cannot be accepted: there is none, or the address changed since."""


def accept_suggestion(
    session: Session, *, address: Address, expected: dict[str, Any] | None, actor: str
) -> dict[str, Any]:
    """Apply the standard form the reference data suggested for an address, with a history row; return the changes.

    ``expected`` is the suggestion the person saw: if the address was checked again since and the
    suggestion differs, nothing is applied.
    """
    suggestion = address.verification_suggestion
    if not suggestion or suggestion != expected:
        raise SuggestionRefused(Message("the reference data suggests nothing else for this address now"))
    values = {field: getattr(address, field) or "" for field in ADDRESS_FIELDS} | suggestion
    cleaned = clean_address(values)
    if isinstance(cleaned, str):
        raise SuggestionRefused(cleaned)
    before = {field: getattr(address, field) for field in ADDRESS_FIELDS}
    changes = edited_changes(before, cleaned)
    for field, value in cleaned.fields.items():
        setattr(address, field, value)
    address.normalized = cleaned.normalized
    address.fingerprint = cleaned.fingerprint
    address.household_key = cleaned.household_key
    for column, found in cleaned.verification_columns().items():
        setattr(address, column, found)
    record_event(
        session, address=address, kind=AddressEventKind.EDITED, changes=changes, source=ChangeSource.REFERENCE_DATA,
        actor=actor, note=Message("accepted the standard form the postal reference data suggests"),
    )
    session.flush()
    return changes


def retire_for_merge(session: Session, *, address: Address, actor: str, note: str) -> AddressValidity:
    """Move a merged customer's current address into history; return its validity before."""
    before = address.validity
    address.is_current = False
    address.validity = AddressValidity.SUPERSEDED
    record_event(
        session, address=address, kind=AddressEventKind.SUPERSEDED, changes=merge_retired_changes(before),
        source=ChangeSource.MERGE, actor=actor, note=note,
    )
    # The retired row stops being current before anything else of the merge is written.
    session.flush()
    return before


def restore_after_merge(
    session: Session, *, address: Address, validity: AddressValidity, actor: str, note: str
) -> None:
    """Make an address a merge retired current again, with the validity it had."""
    address.is_current = True
    address.validity = validity
    record_event(
        session, address=address, kind=AddressEventKind.VALIDITY, changes=merge_undone_changes(validity),
        source=ChangeSource.MERGE, actor=actor, note=note,
    )


# --- the bulk form: plain rows for multi-row statements --------------------------------------------


def edit_in_place(
    *,
    address_id: int,
    customer_id: int,
    before: Mapping[str, Any],
    after: CleanAddress,
    source: ChangeSource,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Return the update and history rows of an in-place edit, or None when nothing differs."""
    changes = edited_changes(before, after)
    if not changes:
        return None
    update_row = {"id": address_id, **after.fields, **after.verification_columns(), "updated_at": now}
    return update_row, event_row(
        address_id=address_id, customer_id=customer_id, kind=AddressEventKind.EDITED, changes=changes,
        source=source, actor=actor, note=note, created_at=now,
    )


def supersede(
    *,
    address_id: int,
    customer_id: int,
    validity_before: AddressValidity,
    source: ChangeSource,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the update and history rows of an address a newer one replaces."""
    update_row = {"id": address_id, "validity": AddressValidity.SUPERSEDED, "is_current": False, "updated_at": now}
    return update_row, superseded_event(
        address_id=address_id, customer_id=customer_id, validity_before=validity_before, source=source,
        actor=actor, now=now, note=note,
    )


def superseded_event(
    *,
    address_id: int,
    customer_id: int,
    validity_before: AddressValidity,
    source: ChangeSource,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> dict[str, Any]:
    """Return the history row of an address a newer one replaces."""
    return event_row(
        address_id=address_id, customer_id=customer_id, kind=AddressEventKind.SUPERSEDED,
        changes=superseded_changes(validity_before), source=source, actor=actor, note=note, created_at=now,
    )


def validity_event(
    *,
    address_id: int,
    customer_id: int,
    before: AddressValidity,
    after: AddressValidity,
    source: ChangeSource,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> dict[str, Any]:
    """Return the history row of a validity change."""
    return event_row(
        address_id=address_id, customer_id=customer_id, kind=AddressEventKind.VALIDITY,
        changes=validity_changes(before, after), source=source, actor=actor, note=note, created_at=now,
    )


def created_event(
    *,
    customer_id: int,
    address: CleanAddress,
    source: ChangeSource,
    actor: str,
    now: datetime,
    note: str | None = None,
    address_id: int | None = None,
) -> dict[str, Any]:
    """Return the history row of a new address; without an id, of the customer's address still to be inserted."""
    return event_row(
        address_id=address_id, customer_id=customer_id, kind=AddressEventKind.CREATED,
        changes=created_changes(address), source=source, actor=actor, note=note, created_at=now,
    )


def update_addresses(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write changed addresses: each row an ``id`` and only the columns it changes."""
    update_by_id(session, Address, rows)


def insert_addresses(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """Insert new current addresses (``address_row``); return each customer's new address id."""
    if not rows:
        return {}
    # Core statements on the tables, as for the updates; no RETURNING: with it, SQLite falls back
    # to one statement per row to keep the order.
    execute_rows(session, insert(Address.__table__), rows)
    return dict(
        session.execute(
            select(Address.customer_id, Address.id).where(
                Address.customer_id.in_(sorted({row["customer_id"] for row in rows})), Address.is_current
            )
        ).all()
    )


def insert_events(session: Session, rows: Iterable[dict[str, Any]], *, new_address_ids: Mapping[int, int]) -> None:
    """Insert history rows, each customer's in the order given; rows without an address id get the new one."""
    events = sorted(rows, key=lambda row: row["customer_id"])
    for event in events:
        if event["address_id"] is None:
            event["address_id"] = new_address_ids[event["customer_id"]]
    if events:
        execute_rows(session, insert(AddressEvent.__table__), events)


# --- erasure: the customer's right to have their data removed ------------------------------------

ERASED = "[erased]"
# History values kept through an erasure: states, not the address itself.
_KEPT_CHANGES = frozenset({"validity", "is_current", "confirmed_at"})


def _erased_change(name: str, pair: list[Any]) -> list[Any]:
    if name in _KEPT_CHANGES:
        return pair
    return [None if value is None else ERASED for value in pair]


def erase_addresses(session: Session, *, customer_id: int) -> int:
    """Overwrite every address of a customer, and the values and notes of its history, beyond recovery.

    The rows stay (returns and pieces point at them) with their validity and country, so counts by
    validity and country still add up; nothing is current any more, so nothing can be mailed. The
    keys are random: the erased address can never match or join a household again. Return how many
    addresses were erased.
    """
    addresses = list(session.scalars(select(Address).where(Address.customer_id == customer_id)))
    for address in addresses:
        if address.is_current:
            address.is_current = False
    session.flush()
    for address in addresses:
        address.line1 = ERASED
        address.line2 = None
        address.city = ERASED
        address.region = None
        address.postal_code = ""
        address.normalized = ""
        address.fingerprint = secrets.token_hex(16)
        address.household_key = secrets.token_hex(16)
        # What the postal reference data said of it may quote it.
        address.verification_reason = None
        address.verification_phrase = None
        address.verification_suggestion = None
    events = session.scalars(select(AddressEvent).where(AddressEvent.customer_id == customer_id))
    for event in events:
        event.changes = {name: _erased_change(name, pair) for name, pair in event.changes.items()}
        event.note = None
        event.note_phrase = None
    session.flush()
    return len(addresses)
