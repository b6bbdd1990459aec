"""Creating a batch: who gets the catalog, one piece per household, in presort order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from mailer.addresses.countries import ALPHA2_CODES
from mailer.addresses.models import Address, AddressValidity, AddressVerification
from mailer.audit.service import record
from mailer.batches.address_block import format_address_block
from mailer.batches.models import CAMPAIGN_NAME_MAX_LENGTH, Batch, BatchStatus, Campaign, MailPiece
from mailer.batches.piece_codes import new_piece_codes
from mailer.customers.models import Consent, ConsentChannel, Customer, CustomerStatus
from mailer.envelopes.profiles import PROFILES
from mailer.messages import Message, join
from mailer.orders.models import Order

# The order in which a left-out customer's reason is counted: a customer outside the
# selection is not "saved" by hygiene, so the filter comes first.
LEFT_OUT_REASONS = (
    "filter", "deceased", "do_not_mail", "merged", "undeliverable", "unverifiable", "already_in_campaign", "household",
)
RISK_BANDS = {"low": (0.0, 0.3), "medium": (0.3, 0.7), "high": (0.7, 1.0)}
BUNDLE_PREFIX_LENGTH = 3  # postal-code prefix of a sort bundle (China's and the US's 3-digit areas)
UPDATE_LINK_DAYS = 365
INSERT_CHUNK = 5000
_STATUS_REASON = {
    CustomerStatus.DECEASED: "deceased",
    CustomerStatus.DO_NOT_MAIL: "do_not_mail",
    CustomerStatus.MERGED: "merged",
}
_UNMAILABLE = {AddressValidity.UNDELIVERABLE, AddressValidity.SUPERSEDED}
# What the reference data could not confirm: counted in every batch, left out only when asked.
_UNVERIFIED = {AddressVerification.MISMATCH, AddressVerification.UNVERIFIABLE}
# The names of the reasons, in the batch page and in the message refusing an empty batch.
LEFT_OUT_LABELS = {
    "filter": Message("outside the filters"),
    "deceased": Message("deceased"),
    "do_not_mail": Message("do not mail"),
    "merged": Message("merged into another customer"),
    "undeliverable": Message("undeliverable address"),
    "unverifiable": Message("address not verified by the postal reference data"),
    "already_in_campaign": Message("already in a batch of this campaign"),
    "household": Message("same household as another piece"),
}


class BatchError(ValueError):
    """A batch cannot be created as asked."""


@dataclass(frozen=True, slots=True)
class BatchFilters:
    """Which customers a batch is for; empty means no restriction."""

    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    postal_prefixes: tuple[str, ...] = ()
    risk_bands: tuple[str, ...] = ()
    # Leave out addresses the postal reference data could not verify (they are mailed otherwise).
    exclude_unverifiable: bool = False

    def __post_init__(self) -> None:
        unknown = [band for band in self.risk_bands if band not in RISK_BANDS]
        if unknown:
            raise BatchError(
                Message("unknown risk band(s) %(bands)s; use %(known)s", bands=", ".join(unknown),
                        known=", ".join(RISK_BANDS))
            )

    def admits(self, *, country: str, region: str | None, postal_code: str, risk: float | None) -> bool:
        """Tell whether a customer at this address with this churn risk is selected."""
        if self.countries and country not in self.countries:
            return False
        if self.regions and (region or "") not in self.regions:
            return False
        if self.postal_prefixes and not postal_code.startswith(self.postal_prefixes):
            return False
        if self.risk_bands:
            if risk is None:
                return False
            return any(_in_band(risk, RISK_BANDS[band]) for band in self.risk_bands)
        return True


def _in_band(risk: float, band: tuple[float, float]) -> bool:
    low, high = band
    return low <= risk < high or (high == 1.0 and risk == 1.0)


@dataclass(slots=True)
class _Candidate:
    customer_id: int
    customer_no: str
    name: str
    value_cents: int
    address: dict[str, Any]
    address_id: int
    normalized: str
    household_key: str
    household_size: int = field(default=1)
    unverified: bool = False


def create_batch(
    session: Session,
    *,
    campaign_name: str,
    profile: str,
    filters: BatchFilters,
    actor: str,
    remail: bool = False,
    today: date | None = None,
) -> Batch:
    """Select the recipients of a new batch and store its pieces in presort order.

    Customers and households that already hold a piece in a batch of the campaign (cancelled ones
    aside) are left out unless ``remail``. A selection without a single piece is refused: nothing is
    stored, and the message says who was left out and why.
    """
    if profile not in PROFILES:
        raise BatchError(
            Message(
                "unknown envelope profile %(profile)s; use %(known)s", profile=repr(profile), known=", ".join(PROFILES)
            )
        )
    campaign_name = _checked_campaign_name(campaign_name)
    filters = _checked_filters(filters, profile=profile)
    campaign = session.scalar(select(Campaign).where(Campaign.name == campaign_name))
    pieces, left_out = _select(session, filters, campaign_id=None if campaign is None or remail else campaign.id)
    if not pieces:
        raise BatchError(_nobody_matches(left_out))

    if campaign is None:
        campaign = Campaign(name=campaign_name, created_by=actor)
        session.add(campaign)
        session.flush()
    batch = Batch(
        campaign_id=campaign.id,
        profile=profile,
        filters=asdict(filters),
        left_out=dict(left_out),
        piece_count=len(pieces),
        unverifiable_pieces=sum(piece.unverified for piece in pieces),
        update_expires_on=(today or date.today()) + timedelta(days=UPDATE_LINK_DAYS),
        created_by=actor,
    )
    session.add(batch)
    session.flush()
    _insert_pieces(session, batch_id=batch.id, candidates=pieces)
    record(
        session, actor=actor, action="batch.create", object_type="batch", object_id=str(batch.id),
        detail={
            "campaign": campaign.name, "profile": profile, "pieces": len(pieces), "left_out": dict(left_out),
            "remail": remail,
        },
    )
    return batch


@contextmanager
def trial_batch(
    session: Session,
    *,
    campaign_name: str,
    profile: str,
    filters: BatchFilters,
    actor: str,
    remail: bool = False,
) -> Iterator[Batch]:
    """Yield the batch ``create_batch`` would create, in a savepoint rolled back after: nothing is stored.

    No batch, piece or piece code outlives the block; BatchError is raised exactly where creating would.
    """
    savepoint = session.begin_nested()
    try:
        yield create_batch(
            session, campaign_name=campaign_name, profile=profile, filters=filters, actor=actor, remail=remail
        )
    finally:
        savepoint.rollback()


def _checked_campaign_name(campaign_name: str) -> str:
    """Return the campaign name as stored, without surrounding spaces; refuse an empty or too long one."""
    name = campaign_name.strip()
    if not name:
        raise BatchError(Message("a batch needs a campaign name"))
    # Measured once trimmed: the spaces around a pasted name are not stored.
    if len(name) > CAMPAIGN_NAME_MAX_LENGTH:
        raise BatchError(
            Message(
                "a campaign name has at most %(max_length)s characters; this one has %(length)s",
                max_length=CAMPAIGN_NAME_MAX_LENGTH, length=len(name),
            )
        )
    return name


def _checked_filters(filters: BatchFilters, *, profile: str) -> BatchFilters:
    """Return the filters in the stored form (the profile's country by default); refuse unknown countries."""
    countries = tuple(code.strip().upper() for code in filters.countries if code.strip())
    unknown = [code for code in countries if code not in ALPHA2_CODES]
    if unknown:
        raise BatchError(
            Message(
                "countries: unknown country code(s) %(codes)s; use two-letter ISO codes such as CN or US",
                codes=", ".join(unknown),
            )
        )
    return BatchFilters(
        countries=countries or (PROFILES[profile].country,),
        regions=filters.regions,
        # Postal codes are stored uppercased: a prefix typed in lower case would match nothing.
        postal_prefixes=tuple(prefix.strip().upper() for prefix in filters.postal_prefixes if prefix.strip()),
        risk_bands=filters.risk_bands,
        exclude_unverifiable=filters.exclude_unverifiable,
    )


def _already_in_campaign(campaign_id: int) -> ColumnElement[bool]:
    """Return whether the row's customer, or anyone at its delivery point, holds a piece of the campaign.

    Two correlated EXISTS the database answers through the pieces' customer index and the addresses'
    household index, instead of loading every piece of the campaign into memory. Cancelled batches
    do not count.
    """
    live_batch = (Batch.id == MailPiece.batch_id) & (Batch.campaign_id == campaign_id) & (
        Batch.status != BatchStatus.CANCELLED
    )
    customer_holds = (
        select(MailPiece.id).join(Batch, live_batch).where(MailPiece.customer_id == Customer.id).exists()
    )
    mailed_address = aliased(Address)
    # The household's piece may have gone to another member: nobody at that delivery point is mailed again.
    household_holds = (
        select(MailPiece.id)
        .join(Batch, live_batch)
        .join(mailed_address, mailed_address.id == MailPiece.address_id)
        .where(mailed_address.household_key == Address.household_key)
        .exists()
    )
    return or_(customer_holds, household_holds)


def _select(
    session: Session, filters: BatchFilters, *, campaign_id: int | None
) -> tuple[list[_Candidate], Counter[str]]:
    """Return the pieces in presort order (one per household) and the customers left out, by reason."""
    left_out: Counter[str] = Counter({reason: 0 for reason in LEFT_OUT_REASONS})
    households: dict[str, _Candidate] = {}
    for row in _customer_rows(session, campaign_id=campaign_id):
        if not filters.admits(
            country=row.country, region=row.region, postal_code=row.postal_code, risk=row.churn_risk
        ):
            left_out["filter"] += 1
            continue
        if row.status in _STATUS_REASON:
            left_out[_STATUS_REASON[row.status]] += 1
            continue
        # Mail consent withdrawn: mailer.customers.consent decides, and the do_not_mail status above mirrors it.
        if row.mail_withdrawn:
            left_out["do_not_mail"] += 1
            continue
        if row.validity in _UNMAILABLE:
            left_out["undeliverable"] += 1
            continue
        unverified = row.verification in _UNVERIFIED
        if unverified and filters.exclude_unverifiable:
            left_out["unverifiable"] += 1
            continue
        if row.already_in_campaign:
            left_out["already_in_campaign"] += 1
            continue
        candidate = _Candidate(
            customer_id=row.customer_id,
            customer_no=row.customer_no,
            name=row.name,
            value_cents=row.value_cents,
            address={f: getattr(row, f) for f in ("line1", "line2", "city", "region", "postal_code", "country")},
            address_id=row.address_id,
            normalized=row.normalized,
            household_key=row.household_key,
            unverified=unverified,
        )
        holder = households.get(row.household_key)
        if holder is None:
            households[row.household_key] = candidate
            continue
        # One piece per household, addressed to its most valuable customer.
        left_out["household"] += 1
        if _more_valuable(candidate, holder):
            candidate.household_size = holder.household_size + 1
            households[row.household_key] = candidate
        else:
            holder.household_size += 1
    pieces = sorted(households.values(), key=lambda c: (c.address["postal_code"], c.normalized, c.customer_no))
    return pieces, left_out


def _nobody_matches(left_out: Counter[str]) -> Message:
    """Say that the selection holds nobody, with the customers left out by reason."""
    counts = [
        Message("%(count)s %(reason)s", count=left_out[reason], reason=LEFT_OUT_LABELS[reason])
        for reason in LEFT_OUT_REASONS
        if left_out[reason]
    ]
    if not counts:
        return Message("No customer matches the filters, so no batch was created: no customer has a current address.")
    return Message(
        "No customer matches the filters, so no batch was created. Left out: %(counts)s.", counts=join(", ", counts)
    )


def _more_valuable(candidate: _Candidate, holder: _Candidate) -> bool:
    return (candidate.value_cents, holder.customer_no) > (holder.value_cents, candidate.customer_no)


def _customer_rows(session: Session, *, campaign_id: int | None) -> Iterable[Any]:
    """Return every customer with a current address, and whether the campaign already holds them (None: never)."""
    value = (
        select(Order.customer_id, func.sum(Order.amount_cents).label("value_cents"))
        .group_by(Order.customer_id)
        .subquery()
    )
    statement = (
        select(
            Customer.id.label("customer_id"), Customer.customer_no, Customer.name, Customer.status,
            Customer.churn_risk, func.coalesce(value.c.value_cents, 0).label("value_cents"),
            Address.id.label("address_id"), Address.line1, Address.line2, Address.city, Address.region,
            Address.postal_code, Address.country, Address.validity, Address.normalized, Address.household_key,
            Address.verification,
            (false() if campaign_id is None else _already_in_campaign(campaign_id)).label("already_in_campaign"),
            Consent.id.is_not(None).label("mail_withdrawn"),
        )
        .join(Address, (Address.customer_id == Customer.id) & Address.is_current)
        .outerjoin(value, value.c.customer_id == Customer.id)
        .outerjoin(
            Consent,
            (Consent.customer_id == Customer.id) & (Consent.channel == ConsentChannel.MAIL) & Consent.is_current
            & Consent.granted.is_(False),
        )
        .execution_options(yield_per=10_000)
    )
    return session.execute(statement)


def _insert_pieces(session: Session, *, batch_id: int, candidates: Sequence[_Candidate]) -> None:
    codes = _unused_piece_codes(session, len(candidates))
    rows = [
        {
            "batch_id": batch_id,
            "customer_id": c.customer_id,
            "address_id": c.address_id,
            "piece_code": code,
            "sequence": sequence,
            "bundle": c.address["postal_code"][:BUNDLE_PREFIX_LENGTH],
            "lines": list(format_address_block(name=c.name, address=c.address)),
            "postal_code": c.address["postal_code"],
            "country": c.address["country"],
            "household_size": c.household_size,
        }
        for sequence, (c, code) in enumerate(zip(candidates, codes, strict=True), start=1)
    ]
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(MailPiece), rows[start : start + INSERT_CHUNK])


def _unused_piece_codes(session: Session, count: int) -> list[str]:
    codes = new_piece_codes(count)
    while True:
        taken: set[str] = set()
        for start in range(0, len(codes), INSERT_CHUNK):
            chunk = codes[start : start + INSERT_CHUNK]
            taken.update(session.scalars(select(MailPiece.piece_code).where(MailPiece.piece_code.in_(chunk))))
        if not taken:
            return codes
        replacements = iter(new_piece_codes(len(taken), taken=set(codes)))
        codes = [next(replacements) if code in taken else code for code in codes]
