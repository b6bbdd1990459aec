"""Validating addresses and finding a customer's current one; ``lifecycle`` changes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.countries import canonical_country, canonical_postal_code, postal_code_problem, uses_postal_codes
from mailer.addresses.models import Address
from mailer.addresses.normalize import normalize_address
from mailer.addresses.verification import Verification, verify_address
from mailer.imports import control_character_problem
from mailer.messages import Message, shortened, stored
from mailer.reference.store import reference_in_use

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
    # What the postal reference data says about it; kept apart from validity.
    verification: Verification

    def verification_columns(self) -> dict[str, object]:
        """Return the address's verification as the columns store it."""
        return {
            "verification": self.verification.status,
            "verification_reason": self.verification.reason,
            "verification_phrase": stored(self.verification.reason),
            "verification_suggestion": self.verification.suggestion or None,
        }


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
    fields: dict[str, str | None] = {
        "line1": get["line1"],
        "line2": get["line2"] or None,
        "city": get["city"],
        "region": get["region"] or None,
        "postal_code": postal_code,
        "country": country,
    }
    return CleanAddress(
        fields=fields,
        normalized=normalized.text,
        fingerprint=normalized.fingerprint,
        household_key=normalized.household_key,
        verification=verify_address(fields, reference_in_use()),
    )


def required_address_fields(country: str) -> tuple[str, ...]:
    """Return the address fields that must not be empty in a country (code or name, as typed)."""
    if not country or uses_postal_codes(country):
        return REQUIRED_ADDRESS_FIELDS
    # Hong Kong, Macau and the like have no postal codes: an address there has none to give.
    return tuple(field for field in REQUIRED_ADDRESS_FIELDS if field != "postal_code")


def current_address(session: Session, *, customer_id: int) -> Address | None:
    """Return a customer's current address, or None."""
    return session.scalar(select(Address).where(Address.customer_id == customer_id, Address.is_current))
