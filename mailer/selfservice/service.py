"""The customers' own address updates, through the signed link printed on each envelope.

The token names a piece; its signature binds it to the piece code and the batch's expiry day.
Decisions:

- A link acts on the address its letter was sent to, while that address (the same row, or one
  with the same fingerprint, as after a merge of duplicates) is still the customer's current one.
  Once the address has changed by any route, the letter's link can change nothing: whoever finds
  an old envelope at the old address cannot overwrite the customer's newer address with it.
- A new address is validated exactly as the import validates it (``clean_address``), in the
  letter's country, or in the country a customer moving abroad names. It becomes current as
  DELIVERABLE, confirmed by the customer: the person who lives there is the best witness that it
  reaches them. A return later downgrades it as usual.
- A link changes an address once: ``MailPiece.address_updated_at`` is claimed with one
  conditional UPDATE, so two submissions racing each other cannot both change it.
- "This address is still right" marks the address DELIVERABLE and confirmed by the customer. It
  does not use the link up (a customer who confirms and moves later in the year can still send
  the new address), but it is recorded once per letter: a confirmation by the customer since the
  batch was made is not repeated, so a reloaded page adds no history and no churn evidence.
- A new address typed the same as the old one (equal fingerprint) is that confirmation.
- Both acts are AddressEvent rows with source CUSTOMER, which the churn refresh reads as the
  customer's self-update evidence. The stored churn risk moves at once by that same evidence
  (``add_evidence``, as a return moves it), so the staff see the customer re-scored before the
  next refresh, which then counts the same row. Each act is audited with actor "customer" and
  the customer number, never the address.
- The page names the sender of the letter (its profile's sender: name, colour, hotline, website
  and privacy notice), so that a customer can tell it from a phishing page.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from mailer.addresses.countries import canonical_country
from mailer.addresses.lifecycle import replace_address, set_validity, validity_pair
from mailer.addresses.models import Address, AddressValidity, ChangeSource
from mailer.addresses.service import ADDRESS_MAX_LENGTHS, CleanAddress, clean_address, current_address
from mailer.audit.service import record
from mailer.batches.models import Batch, MailPiece
from mailer.batches.piece_codes import PieceCodeError, display_piece_code
from mailer.batches.senders import sender_for
from mailer.batches.tokens import make_token, split_token
from mailer.customers.consent import CUSTOMER_PAGE_WITHDRAWAL, set_consent
from mailer.customers.models import ConsentChannel, ConsentSource, Customer
from mailer.customers.self_update import rescore_after_self_update
from mailer.db import utcnow
from mailer.envelopes import Sender
from mailer.envelopes.profiles import PROFILES
from mailer.messages import Message
from mailer.reference.store import reference_in_use
from mailer.selfservice.divisions import DivisionNotFound, find_place, street_with_district, us_states
from mailer.selfservice.masking import mask_name, mask_postal_code, mask_street, strip_leading

log = logging.getLogger(__name__)

CUSTOMER_ACTOR = "customer"
# The fields a customer types; the country is the letter's unless they move abroad (COUNTRY_FIELD).
FORM_FIELDS = ("line1", "line2", "city", "region", "postal_code")
COUNTRY_FIELD = "country"
# A Chinese letter's page has the district chosen apart from the street; it is stored at the street's head.
DISTRICT_FIELD = "district"
DEFAULT_LANGUAGE = "en"


class LinkProblem(StrEnum):
    """Why an address-update link cannot be used."""

    MALFORMED = "malformed"  # not a token at all, or a piece code failing its check character
    UNKNOWN = "unknown"  # no piece has this code
    TAMPERED = "tampered"  # the signature is not this piece's
    EXPIRED = "expired"  # past the batch's update_expires_on
    USED = "used"  # the link has already changed the address
    ADDRESS_CHANGED = "address_changed"  # the letter's address is no longer the customer's current one

    @property
    def genuine(self) -> bool:
        """Tell whether the link was signed by us (only then does the problem say anything about it)."""
        return self in (LinkProblem.EXPIRED, LinkProblem.USED, LinkProblem.ADDRESS_CHANGED)


class LinkError(Exception):
    """An address-update link that cannot be used, and why; ``piece`` only for a genuine link."""

    def __init__(self, problem: LinkProblem, *, piece: MailPiece | None = None) -> None:
        super().__init__(f"address-update link refused: {problem.value}")
        self.problem = problem
        self.piece = piece if problem.genuine else None


class AddressProblem(StrEnum):
    """What ``clean_address`` found wrong with a typed address."""

    MISSING = "missing"
    TOO_LONG = "too_long"
    POSTAL_CODE = "postal_code"
    COUNTRY = "country"
    CONTROL_CHARACTER = "control_character"  # a line break, tab or other character no envelope can print
    DIVISION = "division"  # a province, city or district not in the reference data under the one above it
    OTHER = "other"


class AddressRejected(ValueError):
    """A typed address that fails validation: the fields at fault and the validation's message."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message
        self.problem, self.fields = _read_problem(message)

    @property
    def division(self) -> tuple[str, str]:
        """Return the name of a division not found and the division it was looked for in ("" for China)."""
        if self.problem is AddressProblem.DIVISION:
            return str(self.message.values["name"]), str(self.message.values["parent"])
        return "", ""

    @property
    def limit(self) -> int | None:
        """Return the length limit of a field that is too long, else None."""
        if self.problem is AddressProblem.TOO_LONG and self.fields:
            return ADDRESS_MAX_LENGTHS.get(self.fields[0])
        return None


# The templates of clean_address's messages, and what each says is wrong.
_PROBLEMS = {
    "missing %(fields)s": AddressProblem.MISSING,
    "%(field)s is longer than %(limit)s characters": AddressProblem.TOO_LONG,
    "postal code %(postal_code)s does not fit %(country)s: %(problem)s": AddressProblem.POSTAL_CODE,
    "unknown country %(country)s": AddressProblem.COUNTRY,
    "%(field)s %(name)s is not in %(parent)s": AddressProblem.DIVISION,
    "%(field)s contains a control character (%(character)s), which cannot be printed": AddressProblem.CONTROL_CHARACTER,
}


def _read_problem(message: Message) -> tuple[AddressProblem, tuple[str, ...]]:
    problem = _PROBLEMS.get(message.template, AddressProblem.OTHER)
    if problem is AddressProblem.MISSING:
        return problem, tuple(message.values["fields"].split(", "))
    if problem in (AddressProblem.TOO_LONG, AddressProblem.CONTROL_CHARACTER, AddressProblem.DIVISION):
        return problem, (message.values["field"],)
    if problem is AddressProblem.POSTAL_CODE:
        return problem, ("postal_code",)
    if problem is AddressProblem.COUNTRY:
        return problem, ("country",)
    return problem, ()


@dataclass(frozen=True, slots=True)
class MaskedView:
    """What the page shows of a letter: its addressee and address, partly hidden, and its language."""

    name: str
    lines: tuple[str, ...]
    country: str
    language: str
    # The envelope profile, and who sent the letter as that profile names them.
    profile: str
    sender: Sender


def find_piece_for_token(session: Session, *, token: str, secret: str, today: date) -> MailPiece:
    """Return the piece an address-update token is for; raise LinkError if it cannot be used."""
    try:
        piece_code, signature = split_token(token)
    except PieceCodeError:
        raise LinkError(LinkProblem.MALFORMED) from None
    piece = session.scalar(select(MailPiece).where(MailPiece.piece_code == piece_code))
    if piece is None:
        raise LinkError(LinkProblem.UNKNOWN)
    batch = session.get_one(Batch, piece.batch_id)
    expected = make_token(secret=secret, piece_code=piece_code, expires_on=batch.update_expires_on)
    if not hmac.compare_digest(f"{piece_code}-{signature}", expected):
        raise LinkError(LinkProblem.TAMPERED)
    if today > batch.update_expires_on:
        raise LinkError(LinkProblem.EXPIRED, piece=piece)
    if piece.address_updated_at is not None:
        raise LinkError(LinkProblem.USED, piece=piece)
    address_on_letter(session, piece=piece)
    return piece


def address_on_letter(session: Session, *, piece: MailPiece) -> Address:
    """Return the customer's current address if it is the one the piece was sent to; else raise."""
    current = current_address(session, customer_id=piece.customer_id)
    if current is not None and current.id != piece.address_id:
        sent_to = session.get_one(Address, piece.address_id)
        if current.fingerprint != sent_to.fingerprint:
            current = None
    if current is None:
        raise LinkError(LinkProblem.ADDRESS_CHANGED, piece=piece)
    return current


def letter_language(session: Session, *, piece: MailPiece) -> str:
    """Return the language of the piece's envelope profile ("zh" or "en")."""
    batch = session.get_one(Batch, piece.batch_id)
    profile = PROFILES.get(batch.profile)
    return profile.language if profile is not None else DEFAULT_LANGUAGE


def letter_sender(session: Session, *, piece: MailPiece, senders: Mapping[str, Any] | None = None) -> Sender:
    """Return who sent the piece: its envelope profile's sender, from ``senders`` (the setting) or the default."""
    batch = session.get_one(Batch, piece.batch_id)
    return sender_for(batch.profile, senders)


def masked_view(session: Session, *, piece: MailPiece, senders: Mapping[str, Any] | None = None) -> MaskedView:
    """Return the piece's addressee and address with the personal details hidden, and its sender."""
    customer = session.get_one(Customer, piece.customer_id)
    address = address_on_letter(session, piece=piece)
    return MaskedView(
        name=mask_name(customer.name),
        lines=_masked_lines(address),
        country=address.country,
        language=letter_language(session, piece=piece),
        profile=session.get_one(Batch, piece.batch_id).profile,
        sender=letter_sender(session, piece=piece, senders=senders),
    )


def _masked_lines(address: Address) -> tuple[str, ...]:
    line2 = mask_street(address.line2 or "")
    postal_code = mask_postal_code(address.postal_code)
    region = address.region or ""
    if address.country == "CN":
        # Province and city first, as the envelope prints them, each once.
        head = address.city if not region or region == address.city else region + address.city
        street = mask_street(strip_leading(address.line1, region, address.city))
        lines: tuple[str, ...] = (head + street, line2, postal_code)
    elif address.country == "US":
        last = " ".join(part for part in (f"{address.city},", region, postal_code) if part)
        lines = (mask_street(address.line1), line2, last)
    else:
        lines = (mask_street(address.line1), line2, f"{postal_code} {address.city}", region)
    return tuple(line.strip() for line in lines if line.strip())


def update_address(
    session: Session, *, piece: MailPiece, values: Mapping[str, str | None], actor: str = CUSTOMER_ACTOR
) -> Address:
    """Make the address a customer typed their current one, through the piece's link (once).

    Raises AddressRejected for an address the import would refuse, LinkError if the link is spent.
    An address equal to the one on the letter confirms it instead and leaves the link unused.
    """
    if piece.address_updated_at is not None:
        raise LinkError(LinkProblem.USED, piece=piece)
    old = address_on_letter(session, piece=piece)
    typed = {field: (values.get(field) or "") for field in FORM_FIELDS}
    country = piece.country
    abroad = (values.get(COUNTRY_FIELD) or "").strip()
    if abroad:
        # A customer moving abroad names the country; an unknown one is refused, never replaced.
        country = canonical_country(abroad) or abroad
    if country == "CN" and piece.country == "CN":
        typed = _with_chosen_divisions(typed, district=values.get(DISTRICT_FIELD) or "")
    cleaned = clean_address({**typed, "country": country})
    if isinstance(cleaned, str):
        raise AddressRejected(cleaned)
    if country == "US" and piece.country == "US":
        _check_chosen_state(typed["region"])
    if cleaned.fingerprint == old.fingerprint:
        return confirm_address(session, piece=piece, actor=actor)
    _claim_link(session, piece=piece)
    new = _replace(session, piece=piece, old=old, cleaned=cleaned, actor=actor)
    rescore_after_self_update(session, customer_id=piece.customer_id)
    log.info("piece %s: the customer gave a new address (address %s supersedes %s)", piece.id, new.id, old.id)
    return new


def _with_chosen_divisions(typed: Mapping[str, str], *, district: str) -> dict[str, str]:
    """Check the province, city and district chosen on a Chinese letter's page; return the fields to store.

    Each must be in the reference data under the one above it; the district heads the street line.
    """
    try:
        place = find_place(reference_in_use(), province=typed["region"], city=typed["city"], district=district)
    except DivisionNotFound as error:
        choice = error.choice
        raise AddressRejected(Message(
            "%(field)s %(name)s is not in %(parent)s", field=choice.field, name=choice.name, parent=choice.parent
        )) from None
    other_missing = [field for field in ("line1", "postal_code") if not typed[field].strip()]
    if place.missing or other_missing:
        raise AddressRejected(Message("missing %(fields)s", fields=", ".join([*place.missing, *other_missing])))
    return {**typed, "line1": street_with_district(typed["line1"], place.district)}


def _check_chosen_state(region: str) -> None:
    """Refuse a state that is not one of those a US letter's page offers (the reference data's)."""
    if region.strip() and region.strip() not in us_states(reference_in_use()):
        raise AddressRejected(
            Message("%(field)s %(name)s is not in %(parent)s", field="region", name=region.strip(), parent="")
        )


def _claim_link(session: Session, *, piece: MailPiece) -> None:
    # One conditional UPDATE: of two submissions at once, only the first finds the column empty.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(MailPiece)
            .where(MailPiece.id == piece.id, MailPiece.address_updated_at.is_(None))
            .values(address_updated_at=utcnow())
            .execution_options(synchronize_session="evaluate")
        ),
    )
    if result.rowcount != 1:
        raise LinkError(LinkProblem.USED, piece=piece)


def _replace(session: Session, *, piece: MailPiece, old: Address, cleaned: CleanAddress, actor: str) -> Address:
    customer = session.get_one(Customer, piece.customer_id)
    new = replace_address(
        session, customer_id=piece.customer_id, address=cleaned, source=ChangeSource.CUSTOMER, actor=actor,
        note=_note(piece), validity=AddressValidity.DELIVERABLE,
    )
    changed = sorted(field for field, value in cleaned.fields.items() if value != getattr(old, field))
    record(
        session, actor=actor, action="customer.address_update", object_type="customer",
        object_id=customer.customer_no,
        detail={
            "piece": piece.piece_code, "batch": piece.batch_id, "address": new.id, "superseded": old.id,
            "fields": changed,
        },
    )
    session.flush()
    return new


def confirm_address(session: Session, *, piece: MailPiece, actor: str = CUSTOMER_ACTOR) -> Address:
    """Record the customer's word that the address on the letter is still right (once per letter)."""
    if piece.address_updated_at is not None:
        raise LinkError(LinkProblem.USED, piece=piece)
    address = address_on_letter(session, piece=piece)
    batch = session.get_one(Batch, piece.batch_id)
    if (
        address.validity is AddressValidity.DELIVERABLE
        and address.confirmed_via is ChangeSource.CUSTOMER
        and address.confirmed_at is not None
        and address.confirmed_at >= batch.created_at
    ):
        return address
    previous = address.validity
    set_validity(
        session, address=address, validity=AddressValidity.DELIVERABLE, source=ChangeSource.CUSTOMER,
        actor=actor, note=_note(piece), confirmed=True,
    )
    customer = session.get_one(Customer, piece.customer_id)
    rescore_after_self_update(session, customer_id=customer.id)
    record(
        session, actor=actor, action="customer.address_confirm", object_type="customer",
        object_id=customer.customer_no,
        detail={"piece": piece.piece_code, "batch": piece.batch_id, "address": address.id,
                "validity": validity_pair(previous, AddressValidity.DELIVERABLE)},
    )
    session.flush()
    log.info("piece %s: the customer confirmed address %s", piece.id, address.id)
    return address


def withdraw_mail_consent(session: Session, *, piece: MailPiece, actor: str = CUSTOMER_ACTOR) -> None:
    """Record the customer's wish to get no more catalogs by post, through their letter's link."""
    customer = session.get_one(Customer, piece.customer_id)
    set_consent(
        session, customer=customer, channel=ConsentChannel.MAIL, granted=False, source=ConsentSource.CUSTOMER_PAGE,
        actor=actor, wording=CUSTOMER_PAGE_WITHDRAWAL, note=_note(piece),
    )
    log.info("piece %s: the customer withdrew mail consent", piece.id)


def _note(piece: MailPiece) -> Message:
    return Message("address-update link of piece %(piece)s", piece=display_piece_code(piece.piece_code))
