"""Importing the customer file: new customers, updated ones, and moves, with address history."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from mailer.addresses import lifecycle
from mailer.addresses.models import Address, AddressValidity, ChangeSource
from mailer.addresses.service import CleanAddress, clean_address
from mailer.audit.service import record
from mailer.customers.consent import WORDING_MAX_LENGTH, ImportedDecision, record_imported
from mailer.customers.erasure import erased_numbers_among
from mailer.customers.models import SEARCHED_FIELDS, ConsentChannel, Customer
from mailer.customers.names import is_incomplete_name
from mailer.customers.search import add_search_terms, sync_search_terms
from mailer.db import utcnow
from mailer.imports import (
    ImportReport,
    ProgressCallback,
    Rejection,
    control_character_problem,
    finish_import,
    open_csv,
    other_rows,
    row_shape_problem,
)
from mailer.messages import Message, shortened

CUSTOMER_COLUMNS = (
    "customer_no", "name", "line1", "line2", "city", "region", "postal_code", "country", "phone", "email",
)
# Optional: the marketing consent the file states per channel (yes, no or empty: nothing said), and
# the wording the customer agreed to.
CONSENT_COLUMNS = {
    "mail_consent": ConsentChannel.MAIL, "email_consent": ConsentChannel.EMAIL, "phone_consent": ConsentChannel.PHONE,
}
CONSENT_WORDING_COLUMN = "consent_wording"
CONSENT_VALUES = {"yes": True, "y": True, "1": True, "true": True, "no": False, "n": False, "0": False,
                  "false": False}
REQUIRED_COLUMNS = ("customer_no", "name", "line1", "city", "postal_code", "country")
# Whether a row's postal code may be empty depends on its country: clean_address decides that.
REQUIRED_VALUES = tuple(name for name in REQUIRED_COLUMNS if name != "postal_code")
# The customer's own fields, besides the address, that are printed or stored for people to read.
TEXT_FIELDS = ("customer_no", "name", "phone", "email")
CUSTOMER_FIELDS = ("name", "phone", "email", "name_incomplete")
MAX_LENGTHS = {"customer_no": 40, "name": 200, "phone": 40, "email": 254}
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHUNK_SIZE = 2000
# The ORM leaves None values out of a bulk INSERT, which splits a chunk into one statement per mix of
# empty fields (phone but no email, ...); writing them as NULL keeps one multi-row INSERT.
ONE_STATEMENT = {"render_nulls": True}


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """One valid row of a customer file, cleaned and normalized."""

    row: int
    customer_no: str
    name: str
    name_incomplete: bool
    phone: str | None
    email: str | None
    address: CleanAddress
    # The consents the row states, by channel, and the wording agreed to.
    consents: tuple[tuple[ConsentChannel, bool], ...] = ()
    consent_wording: str | None = None


def parse_customer_row(row: int, values: dict[str, str]) -> CustomerRecord | Message:
    """Validate and clean one row; return the record or the reason it is rejected."""
    if problem := row_shape_problem(values, required=REQUIRED_VALUES):
        return problem
    if problem := control_character_problem(values, TEXT_FIELDS):
        return problem
    for name, limit in MAX_LENGTHS.items():
        if len(values.get(name, "")) > limit:
            return Message("%(field)s is longer than %(limit)s characters", field=name, limit=limit)
    address = clean_address(values)
    if isinstance(address, str):
        return address
    email = values.get("email") or None
    if email is not None and not EMAIL_PATTERN.match(email):
        return Message("email %(email)s is not an email address", email=repr(shortened(email)))
    consents = []
    for column, channel in CONSENT_COLUMNS.items():
        stated = (values.get(column) or "").strip().lower()
        if stated and stated not in CONSENT_VALUES:
            return Message("%(field)s must be yes, no or empty, not %(value)s", field=column,
                           value=repr(shortened(stated)))
        if stated:
            consents.append((channel, CONSENT_VALUES[stated]))
    wording = (values.get(CONSENT_WORDING_COLUMN) or "").strip() or None
    if wording is not None and len(wording) > WORDING_MAX_LENGTH:
        return Message("%(field)s is longer than %(limit)s characters", field=CONSENT_WORDING_COLUMN,
                       limit=WORDING_MAX_LENGTH)
    return CustomerRecord(
        row=row,
        customer_no=values["customer_no"],
        name=values["name"],
        name_incomplete=is_incomplete_name(values["name"]),
        phone=values.get("phone") or None,
        email=email,
        address=address,
        consents=tuple(consents),
        consent_wording=wording,
    )


def import_customers(
    session: Session,
    *,
    path: Path,
    actor: str,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a customer CSV: store good rows, reject bad ones into a rejects file beside it."""
    source = open_csv(
        path, required=REQUIRED_COLUMNS, optional=(*CUSTOMER_COLUMNS, *CONSENT_COLUMNS, CONSENT_WORDING_COLUMN)
    )
    report = ImportReport(path=path, total=source.row_count)
    duplicates = _rows_by_duplicated_customer_no(source.rows())

    chunk: list[CustomerRecord] = []
    chunk_values: dict[int, dict[str, str]] = {}
    for row, values in source.rows():
        parsed = parse_customer_row(row, values)
        if isinstance(parsed, CustomerRecord) and parsed.customer_no in duplicates:
            parsed = Message(
                "customer_no %(customer_no)s also appears on row(s) %(rows)s",
                customer_no=parsed.customer_no, rows=other_rows(duplicates[parsed.customer_no], besides=row),
            )
        if isinstance(parsed, str):
            report.rejected.append(Rejection(row=row, reason=parsed, values=values))
        else:
            chunk.append(parsed)
            chunk_values[row] = values
        if len(chunk) >= CHUNK_SIZE:
            _store_chunk(session, _without_erased(session, chunk, chunk_values, report), report=report, actor=actor)
            chunk, chunk_values = [], {}
        if progress:
            progress(1, report.total)
    if chunk:
        _store_chunk(session, _without_erased(session, chunk, chunk_values, report), report=report, actor=actor)
    report.rejected.sort(key=lambda rejection: rejection.row)

    finish_import(session, report, columns=source.columns, action="customers.import", actor=actor)
    return report


def _without_erased(
    session: Session, records: list[CustomerRecord], values: dict[int, dict[str, str]], report: ImportReport
) -> list[CustomerRecord]:
    """Reject the rows of customers erased on request: they are never stored (nor mailed) again."""
    erased = erased_numbers_among(session, [r.customer_no for r in records])
    for r in records:
        if r.customer_no in erased:
            reason = Message("customer %(customer_no)s was erased on request and is not imported again",
                             customer_no=r.customer_no)
            report.rejected.append(Rejection(row=r.row, reason=reason, values=values[r.row]))
    return [r for r in records if r.customer_no not in erased]


def _rows_by_duplicated_customer_no(rows: Iterable[tuple[int, dict[str, str]]]) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = defaultdict(list)
    for row, values in rows:
        if customer_no := values.get("customer_no"):
            seen[customer_no].append(row)
    return {customer_no: rows for customer_no, rows in seen.items() if len(rows) > 1}


@dataclass(slots=True)
class _ChunkWrites:
    """What one chunk of the customer file changes, as rows for multi-row statements."""

    customer_updates: list[dict[str, object]] = field(default_factory=list)
    address_updates: list[dict[str, Any]] = field(default_factory=list)
    new_addresses: list[dict[str, Any]] = field(default_factory=list)
    # History rows; a None address id is the new address of the customer named in the row.
    events: list[dict[str, Any]] = field(default_factory=list)
    audit_changes: list[tuple[str, list[str]]] = field(default_factory=list)


def _store_chunk(
    session: Session, records: Sequence[CustomerRecord], *, report: ImportReport, actor: str
) -> None:
    now = utcnow()
    existing = _stored_customers(session, [r.customer_no for r in records])
    writes = _ChunkWrites()
    for record_ in records:
        current = existing.get(record_.customer_no)
        if current is not None:
            _update_customer(current, record_, writes=writes, report=report, actor=actor, now=now)
    new_records = [r for r in records if r.customer_no not in existing]
    ids = {number: row.id for number, row in existing.items()}
    if new_records:
        new_ids = _insert_customers(session, new_records, now=now)
        ids.update(new_ids)
        for r in new_records:
            _add_address(new_ids[r.customer_no], r, writes=writes, actor=actor, now=now)
        report.created += len(new_records)
    _write(session, writes, actor=actor)
    record_imported(
        session,
        [
            ImportedDecision(ids[r.customer_no], r.customer_no, channel, granted, r.consent_wording)
            for r in records
            for channel, granted in r.consents
        ],
        actor=actor, now=now,
    )


def _stored_customers(session: Session, customer_nos: list[str]) -> dict[str, Any]:
    """Return the stored customers of these numbers with their current address, by number."""
    return {
        row.customer_no: row
        for row in session.execute(
            select(
                Customer.id, Customer.customer_no, Customer.name, Customer.phone, Customer.email,
                Customer.name_incomplete, Address.id.label("address_id"), Address.line1, Address.line2,
                Address.city, Address.region, Address.postal_code, Address.country, Address.fingerprint,
                Address.validity,
            )
            .outerjoin(Address, and_(Address.customer_id == Customer.id, Address.is_current))
            .where(Customer.customer_no.in_(customer_nos))
        )
    }


def _update_customer(
    current: Any, record_: CustomerRecord, *, writes: _ChunkWrites, report: ImportReport, actor: str,
    now: datetime,
) -> None:
    """Collect the changes of a known customer: its own fields, then its address (edited, moved or new)."""
    changed_fields = [f for f in CUSTOMER_FIELDS if getattr(current, f) != getattr(record_, f)]
    if changed_fields:
        writes.customer_updates.append(
            {"id": current.id, "updated_at": now, **{f: getattr(record_, f) for f in changed_fields}}
        )
        writes.audit_changes.append((record_.customer_no, changed_fields))
    address_changed = True
    before = current._asdict()
    if current.address_id is None:
        _add_address(current.id, record_, writes=writes, actor=actor, now=now)
    elif not lifecycle.edited_changes(before, record_.address):
        address_changed = False
    elif current.fingerprint == record_.address.fingerprint:
        # Typed differently, same address: edit in place and keep its validity.
        edit = lifecycle.edit_in_place(
            address_id=current.address_id, customer_id=current.id, before=before, after=record_.address,
            source=ChangeSource.IMPORT, actor=actor, now=now,
        )
        assert edit is not None  # the fields differ
        writes.address_updates.append(edit[0])
        writes.events.append(edit[1])
    else:
        superseded, event = lifecycle.supersede(
            address_id=current.address_id, customer_id=current.id, validity_before=current.validity,
            source=ChangeSource.IMPORT, actor=actor, now=now, note=Message("a new address was imported"),
        )
        writes.address_updates.append(superseded)
        writes.events.append(event)
        _add_address(current.id, record_, writes=writes, actor=actor, now=now)
    if changed_fields or address_changed:
        report.updated += 1
    else:
        report.unchanged += 1


def _add_address(
    customer_id: int, record_: CustomerRecord, *, writes: _ChunkWrites, actor: str, now: datetime
) -> None:
    writes.new_addresses.append(
        lifecycle.address_row(
            customer_id=customer_id, address=record_.address, validity=AddressValidity.UNVERIFIED,
            source=ChangeSource.IMPORT, now=now,
        )
    )
    writes.events.append(
        lifecycle.created_event(
            customer_id=customer_id, address=record_.address, source=ChangeSource.IMPORT, actor=actor, now=now
        )
    )


def _insert_customers(session: Session, records: Sequence[CustomerRecord], *, now: datetime) -> dict[str, int]:
    """Insert new customers; return their ids by customer number."""
    # No RETURNING: with it, SQLite falls back to one statement per row to keep the order.
    session.execute(
        insert(Customer),
        [
            {"customer_no": r.customer_no, "name": r.name, "name_incomplete": r.name_incomplete,
             "phone": r.phone, "email": r.email, "created_at": now, "updated_at": now}
            for r in records
        ],
        execution_options=ONE_STATEMENT,
    )
    ids: dict[str, int] = dict(
        session.execute(
            select(Customer.customer_no, Customer.id).where(Customer.customer_no.in_([r.customer_no for r in records]))
        ).all()
    )
    # A bulk INSERT runs no ORM events: the search terms are written here, in the same multi-row way.
    add_search_terms(
        session,
        (
            {"id": ids[r.customer_no], "customer_no": r.customer_no, "name": r.name, "phone": r.phone,
             "email": r.email}
            for r in records
        ),
    )
    return ids


def _write(session: Session, writes: _ChunkWrites, *, actor: str) -> None:
    if writes.customer_updates:
        session.execute(update(Customer), writes.customer_updates)
        searched = [row["id"] for row in writes.customer_updates if SEARCHED_FIELDS & row.keys()]
        sync_search_terms(session, [int(str(id_)) for id_ in searched])
    # Superseded addresses stop being current before the new ones are inserted (one current each).
    lifecycle.update_addresses(session, writes.address_updates)
    new_address_ids = lifecycle.insert_addresses(session, writes.new_addresses)
    lifecycle.insert_events(session, writes.events, new_address_ids=new_address_ids)
    for customer_no, fields in writes.audit_changes:
        record(
            session, actor=actor, action="customer.update", object_type="customer",
            object_id=customer_no, detail={"fields": fields, "source": ChangeSource.IMPORT.value},
        )
