"""Importing the customer file: new customers, updated ones, and moves, with address history."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from mailer.addresses.models import (
    Address,
    AddressEvent,
    AddressEventKind,
    AddressValidity,
    ChangeSource,
)
from mailer.addresses.service import ADDRESS_FIELDS, CleanAddress, clean_address
from mailer.audit.service import record
from mailer.customers.models import Customer
from mailer.customers.names import is_incomplete_name
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
from mailer.messages import Message, shortened, stored

CUSTOMER_COLUMNS = (
    "customer_no", "name", "line1", "line2", "city", "region", "postal_code", "country", "phone", "email",
)
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
# empty fields (phone but no email, no line2, ...); writing them as NULL keeps one multi-row INSERT.
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
    return CustomerRecord(
        row=row,
        customer_no=values["customer_no"],
        name=values["name"],
        name_incomplete=is_incomplete_name(values["name"]),
        phone=values.get("phone") or None,
        email=email,
        address=address,
    )


def import_customers(
    session: Session,
    *,
    path: Path,
    actor: str,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a customer CSV: store good rows, reject bad ones into a rejects file beside it."""
    source = open_csv(path, required=REQUIRED_COLUMNS, optional=CUSTOMER_COLUMNS)
    report = ImportReport(path=path, total=source.row_count)
    duplicates = _rows_by_duplicated_customer_no(source.rows())

    chunk: list[CustomerRecord] = []
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
        if len(chunk) >= CHUNK_SIZE:
            _store_chunk(session, chunk, report=report, actor=actor)
            chunk = []
        if progress:
            progress(1, report.total)
    if chunk:
        _store_chunk(session, chunk, report=report, actor=actor)

    finish_import(session, report, columns=source.columns, action="customers.import", actor=actor)
    return report


def _rows_by_duplicated_customer_no(rows: Iterable[tuple[int, dict[str, str]]]) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = defaultdict(list)
    for row, values in rows:
        if customer_no := values.get("customer_no"):
            seen[customer_no].append(row)
    return {customer_no: rows for customer_no, rows in seen.items() if len(rows) > 1}


def _store_chunk(
    session: Session, records: Sequence[CustomerRecord], *, report: ImportReport, actor: str
) -> None:
    existing = {
        row.customer_no: row
        for row in session.execute(
            select(
                Customer.id, Customer.customer_no, Customer.name, Customer.phone, Customer.email,
                Customer.name_incomplete, Address.id.label("address_id"), Address.line1, Address.line2,
                Address.city, Address.region, Address.postal_code, Address.country, Address.fingerprint,
                Address.validity,
            )
            .outerjoin(Address, and_(Address.customer_id == Customer.id, Address.is_current))
            .where(Customer.customer_no.in_([r.customer_no for r in records]))
        )
    }
    now = utcnow()
    new_records = [r for r in records if r.customer_no not in existing]
    customer_updates: list[dict[str, object]] = []
    address_edits: list[dict[str, object]] = []
    superseded: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    moves: list[tuple[int, CustomerRecord]] = []
    audit_changes: list[tuple[str, list[str]]] = []

    for record_ in records:
        current = existing.get(record_.customer_no)
        if current is None:
            continue
        changed_fields = [f for f in CUSTOMER_FIELDS if getattr(current, f) != getattr(record_, f)]
        if changed_fields:
            customer_updates.append(
                {"id": current.id, "updated_at": now, **{f: getattr(record_, f) for f in changed_fields}}
            )
            audit_changes.append((record_.customer_no, changed_fields))
        address_changes = {
            f: [getattr(current, f), record_.address.fields[f]]
            for f in ADDRESS_FIELDS
            if getattr(current, f) != record_.address.fields[f]
        }
        if current.address_id is None:
            moves.append((current.id, record_))
        elif not address_changes:
            pass
        elif current.fingerprint == record_.address.fingerprint:
            # Typed differently, same address: edit in place and keep its validity.
            address_edits.append({"id": current.address_id, "updated_at": now, **record_.address.fields})
            events.append(
                _event(current.address_id, current.id, AddressEventKind.EDITED, address_changes, actor, now)
            )
        else:
            superseded.append(
                {"id": current.address_id, "is_current": False, "validity": AddressValidity.SUPERSEDED,
                 "updated_at": now}
            )
            events.append(
                _event(
                    current.address_id, current.id, AddressEventKind.SUPERSEDED,
                    {"validity": [current.validity.value, AddressValidity.SUPERSEDED.value],
                     "is_current": [True, False]},
                    actor, now, note=Message("a new address was imported"),
                )
            )
            moves.append((current.id, record_))
        if changed_fields or address_changes:
            report.updated += 1
        else:
            report.unchanged += 1

    if customer_updates:
        session.execute(update(Customer), customer_updates)
    if address_edits:
        session.execute(update(Address), address_edits)
    if superseded:
        # The old address stops being current before the new one is inserted (one current each).
        session.execute(update(Address), superseded)

    if new_records:
        # No RETURNING: with it, SQLite falls back to one statement per row to keep the order.
        session.execute(
            insert(Customer),
            [
                {"customer_no": r.customer_no, "name": r.name, "name_incomplete": r.name_incomplete,
                 "phone": r.phone, "email": r.email, "created_at": now, "updated_at": now}
                for r in new_records
            ],
            execution_options=ONE_STATEMENT,
        )
        new_ids = dict(
            session.execute(
                select(Customer.customer_no, Customer.id).where(
                    Customer.customer_no.in_([r.customer_no for r in new_records])
                )
            ).all()
        )
        moves.extend((new_ids[r.customer_no], r) for r in new_records)
        report.created += len(new_records)

    if moves:
        session.execute(
            insert(Address),
            [
                {"customer_id": customer_id, **r.address.fields, "normalized": r.address.normalized,
                 "fingerprint": r.address.fingerprint, "household_key": r.address.household_key,
                 "validity": AddressValidity.UNVERIFIED, "is_current": True,
                 "created_at": now, "updated_at": now}
                for customer_id, r in moves
            ],
            execution_options=ONE_STATEMENT,
        )
        address_ids = dict(
            session.execute(
                select(Address.customer_id, Address.id).where(
                    Address.customer_id.in_([customer_id for customer_id, _ in moves]), Address.is_current
                )
            ).all()
        )
        for customer_id, r in moves:
            created = {f: [None, v] for f, v in r.address.fields.items() if v is not None}
            events.append(
                _event(address_ids[customer_id], customer_id, AddressEventKind.CREATED, created, actor, now)
            )

    if events:
        session.execute(insert(AddressEvent), events, execution_options=ONE_STATEMENT)
    for customer_no, fields in audit_changes:
        record(
            session, actor=actor, action="customer.update", object_type="customer",
            object_id=customer_no, detail={"fields": fields, "source": ChangeSource.IMPORT.value},
        )


def _event(
    address_id: int,
    customer_id: int,
    kind: AddressEventKind,
    changes: dict[str, object],
    actor: str,
    now: object,
    *,
    note: str | None = None,
) -> dict[str, object]:
    return {
        "address_id": address_id, "customer_id": customer_id, "kind": kind, "changes": changes,
        "source": ChangeSource.IMPORT, "actor": actor, "note": note, "note_phrase": stored(note),
        "created_at": now,
    }
