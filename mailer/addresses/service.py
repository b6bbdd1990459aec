"""Validating addresses and changing them, always with a history row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.countries import canonical_country, canonical_postal_code, postal_code_problem, uses_postal_codes
from mailer.addresses.models import Address, AddressEvent, AddressEventKind, AddressValidity, ChangeSource
from mailer.addresses.normalize import normalize_address
from mailer.db import utcnow
from mailer.imports import control_character_problem
from mailer.messages import Message, shortened, stored

ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")
# The postal code is required too, where the country has postal codes (required_address_fields).
REQUIRED_ADDRESS_FIELDS = ("line1", "city", "postal_code", "country")
ADDRESS_MAX_LENGTHS = {"line1": 200, "line2": 200, "city": 100, "region": 100}


@dataclass(frozen=True, slots=True)
class CleanAddress:
    """A validated address: printable fields plus its normalized form and keys."""

    fields: dict[str, str | None]
    normalized: str
    fingerprint: str
    household_key: str


def clean_address(values: Mapping[str, str], *, prefix: str = "") -> CleanAddress | Message:
    """Validate address fields (named ``prefix + field``); return the clean address or what is wrong."""
    get = {field: (values.get(prefix + field) or "").strip() for field in ADDRESS_FIELDS}
    missing = [prefix + field for field in required_address_fields(get["country"]) if not get[field]]
    if missing:
        return Message("missing %(fields)s", fields=", ".join(missing))
    if problem := control_character_problem(get, ADDRESS_FIELDS, prefix=prefix):
        return problem
    for field, limit in ADDRESS_MAX_LENGTHS.items():
        if len(get[field]) > limit:
            return Message("%(field)s is longer than %(limit)s characters", field=prefix + field, limit=limit)
    country = canonical_country(get["country"])
    if country is None:
        return Message("unknown country %(country)s", country=repr(shortened(get["country"])))
    postal_code = canonical_postal_code(country=country, postal_code=get["postal_code"])
    if problem := postal_code_problem(country=country, postal_code=postal_code):
        return Message(
            "postal code %(postal_code)s does not fit %(country)s: %(problem)s",
            postal_code=repr(shortened(get["postal_code"])), country=country, problem=problem,
        )
    normalized = normalize_address(
        line1=get["line1"], line2=get["line2"], city=get["city"], region=get["region"],
        postal_code=postal_code, country=country,
    )
    return CleanAddress(
        fields={
            "line1": get["line1"],
            "line2": get["line2"] or None,
            "city": get["city"],
            "region": get["region"] or None,
            "postal_code": postal_code,
            "country": country,
        },
        normalized=normalized.text,
        fingerprint=normalized.fingerprint,
        household_key=normalized.household_key,
    )


def required_address_fields(country: str) -> tuple[str, ...]:
    """Return the address fields that must not be empty in a country (code or name, as typed)."""
    if not country or uses_postal_codes(country):
        return REQUIRED_ADDRESS_FIELDS
    # Hong Kong, Macau and the like have no postal codes: an address there has none to give.
    return tuple(field for field in REQUIRED_ADDRESS_FIELDS if field != "postal_code")


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
        address_id=address.id, customer_id=address.customer_id, kind=kind, changes=changes, source=source,
        actor=actor, note=note, note_phrase=stored(note),
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
    changes: dict[str, Any] = {}
    if address.validity is not validity:
        changes["validity"] = [address.validity.value, validity.value]
        address.validity = validity
    if confirmed:
        now = utcnow()
        changes["confirmed_at"] = [
            address.confirmed_at.isoformat() if address.confirmed_at else None, now.isoformat()
        ]
        address.confirmed_at = now
        address.confirmed_via = source
    if not changes:
        return False
    record_event(
        session, address=address, kind=AddressEventKind.VALIDITY, changes=changes, source=source, actor=actor,
        note=note,
    )
    session.flush()
    return True


def current_address(session: Session, *, customer_id: int) -> Address | None:
    """Return a customer's current address, or None."""
    return session.scalar(select(Address).where(Address.customer_id == customer_id, Address.is_current))


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
            session, address=old, kind=AddressEventKind.SUPERSEDED,
            changes={"validity": [old.validity.value, AddressValidity.SUPERSEDED.value], "is_current": [True, False]},
            source=source, actor=actor, note=note,
        )
        old.validity = AddressValidity.SUPERSEDED
        old.is_current = False
        # The old row must stop being current before the new one is written (one current each).
        session.flush()
    now = utcnow()
    new = Address(
        customer_id=customer_id, **address.fields, normalized=address.normalized,
        fingerprint=address.fingerprint, household_key=address.household_key, validity=validity,
        is_current=True,
        confirmed_at=now if validity is AddressValidity.DELIVERABLE else None,
        confirmed_via=source if validity is AddressValidity.DELIVERABLE else None,
    )
    session.add(new)
    session.flush()
    record_event(
        session, address=new, kind=AddressEventKind.CREATED,
        changes={f: [None, v] for f, v in address.fields.items() if v is not None},
        source=source, actor=actor, note=note,
    )
    session.flush()
    return new
