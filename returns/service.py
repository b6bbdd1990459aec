"""Recording returned mail and what it does to the address, the customer, churn and the batch.

A return is recorded by ``record_return`` (one scan) or ``apply_returns`` (many, from a postal
file). Both go the same way (``returns.recording``): read the pieces, their customers (locked, so
two stations never interleave on one customer), addresses and earlier returns; decide each
return's effects in memory, in order; write everything with a few bulk statements inside a
savepoint. A scan is a chunk of one. Nothing is committed here: the caller owns the transaction.

Rules, beyond the catalog's effects (returns/reasons.csv):

- Soft returns make an address ``suspect``; a soft return on an address that is already suspect,
  within ``window_days`` of another soft return on it, makes it ``undeliverable``. A confirmation or
  a cleared flag puts the address back outside ``suspect``, so the count starts again.
- A return only changes the address it was printed on while that address is still current, and
  not when the address was confirmed after the piece came back.
- MOVED without a new address is recorded as the catalog's fallback (MLNA, moved left no address):
  what we know is only that the customer is gone from there.
- The same reason for a piece that already has it is "already recorded" and changes nothing;
  so is a postal-file row whose reason and ``returned_at`` the piece's history already holds.
- A different reason is a correction: the earlier return's own effects (validity, status, churn,
  the batch flag) are taken back where nothing has changed them since, then the new reason applies.
  A return that moved the customer to a new address is not corrected here (the address is
  corrected on the customer's page).
- Logged without changing the address, a return still counts as churn evidence, still changes
  the customer's status (deceased, refused) and still flags the batch for an illegible print.
- Churn: each return moves the stored risk at once by its weight in log-odds, faded by its age as
  the nightly refresh fades it, with a line added to the explanation; a customer never scored
  starts from the stated prior. Weight 1 (TA, ILL) moves nothing and adds no line; DEC makes it 1.
- ``clear_flag`` (staff: the flag was wrong) puts the address back to what it was before the
  returns that flagged it; ``confirm_address`` (the customer, an order, staff vouch for it) makes it
  ``deliverable``. Neither edits the address; both write a history row.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from mailer.addresses.lifecycle import set_validity, validity_pair
from mailer.addresses.models import Address, AddressEvent, AddressEventKind, AddressValidity, ChangeSource
from mailer.addresses.service import ADDRESS_FIELDS, CleanAddress, clean_address
from mailer.audit.service import record
from mailer.batches.piece_codes import PieceCodeError, display_piece_code, parse_piece_code
from mailer.customers.models import Customer
from mailer.customers.self_update import rescore_after_self_update
from mailer.db import utcnow
from mailer.messages import Message
from returns.catalog import REASONS, Reason, resolve_reason
from returns.decide import RETURN_CHANGE_SOURCES, Settings
from returns.models import ReturnSource
from returns.outcomes import (
    PieceNotFound,
    ReturnConflict,
    ReturnError,
    ReturnOutcome,
    ReturnRequest,
    UnknownReason,
)
from returns.recording import CHUNK_SIZE, apply_chunk

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_SOFT_RETURN_WINDOW_DAYS",
    "PieceNotFound",
    "ReturnConflict",
    "ReturnError",
    "ReturnOutcome",
    "ReturnRequest",
    "UnknownReason",
    "ValidityChange",
    "apply_returns",
    "clear_flag",
    "confirm_address",
    "current_address_id",
    "parse_code",
    "parse_returned_at",
    "prepare_return",
    "record_return",
    "undo_return",
    "validity_before_returns",
]

logger = logging.getLogger(__name__)

DEFAULT_SOFT_RETURN_WINDOW_DAYS: Final = 180
# A date without a time means that day; a little ahead of our clock is someone else's time zone.
FUTURE_TOLERANCE: Final = timedelta(days=1)
_FLAGGED: Final = frozenset({AddressValidity.SUSPECT, AddressValidity.UNDELIVERABLE})


# --- what a clerk or a file gives ---------------------------------------------------------------


def parse_returned_at(value: str) -> datetime:
    """Read an ISO date (that day, 00:00 UTC) or date-time (UTC unless it names its zone)."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ReturnError(
            Message("returned_at %(value)s is not a date (YYYY-MM-DD) or date-time (ISO 8601)", value=repr(value))
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _storable(moment: datetime) -> bool:
    # Stored in UTC: a time zone may push the first or the last day out of the range of dates.
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


def parse_code(typed: str) -> str:
    """Return the canonical piece code, or raise PieceNotFound with what the clerk should do."""
    try:
        return parse_piece_code(typed)
    except PieceCodeError as exc:
        raise PieceNotFound(
            Message("Not a piece code: %(problem)s. Scan the code again or type it as printed.", problem=exc.args[0])
        ) from None


def prepare_return(
    *,
    piece_code: str,
    reason: str | Reason,
    returned_at: datetime,
    new_address: Mapping[str, str] | None = None,
    address_prefix: str = "",
    change_address: bool = True,
    note: str | None = None,
    now: datetime | None = None,
) -> ReturnRequest:
    """Check a return as given; raise ReturnError saying what is wrong."""
    code = parse_code(piece_code)
    if isinstance(reason, Reason):
        resolved, given_as = reason, reason.code
    else:
        found = resolve_reason(reason)
        if found is None:
            raise UnknownReason(
                Message(
                    "Unknown return reason %(reason)s. Use one of: %(known)s",
                    reason=repr(reason.strip()), known=", ".join(f"{r.code} ({r.label_zh})" for r in REASONS.values()),
                )
            )
        resolved, given_as = found, reason.strip()
    if returned_at.tzinfo is None:
        raise ValueError("returned_at must be timezone-aware")
    if not _storable(returned_at):
        raise ReturnError(
            Message(
                "returned_at %(date)s of piece %(code)s cannot be stored: in UTC it falls outside the years 1 to 9999",
                date=returned_at.isoformat(), code=display_piece_code(code),
            )
        )
    if returned_at > (now or utcnow()) + FUTURE_TOLERANCE:
        raise ReturnError(Message("returned_at %(date)s is in the future", date=returned_at.date().isoformat()))
    address: CleanAddress | None = None
    if new_address and any((new_address.get(address_prefix + f) or "").strip() for f in ADDRESS_FIELDS):
        if not resolved.moves_customer:
            raise ReturnError(
                Message("a new address only comes with a move; %(code)s (%(label)s) has none",
                        code=resolved.code, label=resolved.label_en)
            )
        if not change_address:
            raise ReturnError(Message("a new address cannot be recorded while keeping the address unchanged"))
        cleaned = clean_address(new_address, prefix=address_prefix)
        if isinstance(cleaned, str):
            raise ReturnError(Message("the new address is not usable: %(problem)s", problem=cleaned))
        address = cleaned
    if resolved.moves_customer and address is None and resolved.without_new_address:
        resolved = REASONS[resolved.without_new_address]
    return ReturnRequest(
        piece_code=code, reason=resolved, given_as=given_as[:60], returned_at=returned_at,
        new_address=address, change_address=change_address, note=(note or "").strip() or None,
    )


# --- recording ----------------------------------------------------------------------------------


def record_return(
    session: Session,
    *,
    piece_code: str,
    reason: str | Reason,
    source: ReturnSource,
    actor: str,
    returned_at: datetime | None = None,
    new_address: Mapping[str, str] | None = None,
    change_address: bool = True,
    note: str | None = None,
    window_days: int = DEFAULT_SOFT_RETURN_WINDOW_DAYS,
    now: datetime | None = None,
) -> ReturnOutcome:
    """Record one returned piece with all its effects; raise ReturnError if it cannot be."""
    now = now or utcnow()
    request = prepare_return(
        piece_code=piece_code, reason=reason, returned_at=returned_at or now, new_address=new_address,
        change_address=change_address, note=note, now=now,
    )
    (result,) = apply_returns(session, [request], source=source, actor=actor, window_days=window_days, now=now)
    if isinstance(result, ReturnError):
        raise result
    logger.info(
        "recorded return %s for piece %s of customer %s%s", result.reason.code, result.piece_code,
        result.customer_no, " (already recorded)" if result.already_recorded else "",
    )
    return result


def undo_return(
    session: Session,
    *,
    piece_code: str,
    reason: str | Reason,
    source: ReturnSource,
    actor: str,
    window_days: int = DEFAULT_SOFT_RETURN_WINDOW_DAYS,
    now: datetime | None = None,
) -> ReturnOutcome:
    """Take back a piece's current return of ``reason`` (scanned by mistake), as a correction.

    Its effects are taken back as a correction takes them back; the return stays in the history,
    no longer current. Raise ReturnError if the piece's current return is not of that reason.
    """
    now = now or utcnow()
    code = parse_code(piece_code)
    # The reason as recorded: no fallback here (a MOVED return without its new address is MLNA).
    resolved = reason if isinstance(reason, Reason) else resolve_reason(reason)
    if resolved is None:
        raise UnknownReason(Message("Unknown return reason %(reason)s.", reason=repr(str(reason).strip())))
    undo = ReturnRequest(piece_code=code, reason=resolved, given_as=resolved.code, returned_at=now, undo=True)
    (result,) = apply_returns(session, [undo], source=source, actor=actor, window_days=window_days, now=now)
    if isinstance(result, ReturnError):
        raise result
    logger.info("undid return %s of piece %s of customer %s", result.reason.code, result.piece_code, result.customer_no)
    return result


def apply_returns(
    session: Session,
    requests: Sequence[ReturnRequest],
    *,
    source: ReturnSource,
    actor: str,
    window_days: int = DEFAULT_SOFT_RETURN_WINDOW_DAYS,
    now: datetime | None = None,
) -> list[ReturnOutcome | ReturnError]:
    """Record returns in order, each seeing the ones before; return each one's outcome or error."""
    now = now or utcnow()
    settings = Settings(source=source, actor=actor, window=timedelta(days=window_days), now=now)
    results: list[ReturnOutcome | ReturnError] = []
    chunk: list[ReturnRequest] = []
    codes: set[str] = set()
    for request in requests:
        # A piece twice in one chunk would need the id of a row not yet written: start a new chunk.
        if len(chunk) >= CHUNK_SIZE or request.piece_code in codes:
            results.extend(apply_chunk(session, chunk, settings))
            chunk, codes = [], set()
        chunk.append(request)
        codes.add(request.piece_code)
    if chunk:
        results.extend(apply_chunk(session, chunk, settings))
    return results


# --- staff and customers putting an address right ----------------------------------------------


@dataclass(frozen=True, slots=True)
class ValidityChange:
    """An address's validity before and after a staff or customer action."""

    address_id: int
    customer_id: int
    previous: AddressValidity
    validity: AddressValidity


def _locked_current_address(session: Session, address_id: int) -> Address:
    address = session.get(Address, address_id)
    if address is None:
        raise ReturnError(Message("there is no address %(address_id)s", address_id=address_id))
    # The same lock a return takes, so a clearing and a scan of one customer never interleave.
    session.execute(select(Customer.id).where(Customer.id == address.customer_id).with_for_update())
    session.refresh(address)
    if not address.is_current:
        raise ReturnError(Message("this address is no longer the customer's current address"))
    return address


def validity_before_returns(session: Session, *, address: Address) -> AddressValidity:
    """Return what an address was before the returns that flagged it (unverified if none did)."""
    events = session.scalars(
        select(AddressEvent)
        .where(AddressEvent.address_id == address.id, AddressEvent.kind == AddressEventKind.VALIDITY)
        .order_by(AddressEvent.id.desc())
        .limit(100)
    )
    before: AddressValidity | None = None
    for event in events:
        if event.source not in RETURN_CHANGE_SOURCES or "validity" not in event.changes:
            break
        before = AddressValidity(event.changes["validity"][0])
    if before is None or before in _FLAGGED:
        return AddressValidity.UNVERIFIED
    return before


def clear_flag(session: Session, *, address_id: int, note: str, actor: str) -> ValidityChange:
    """Clear a wrong suspect/undeliverable flag, with a reason, without editing the address.

    The address goes back to what it was before the returns that flagged it: staff say the flag
    was wrong, not that they verified the address (``confirm_address`` says that).
    """
    if not note.strip():
        raise ReturnError(Message("say why the flag is wrong"))
    address = _locked_current_address(session, address_id)
    previous = address.validity
    if previous not in _FLAGGED:
        raise ReturnError(Message("the address is not flagged: it is %(validity)s", validity=Message(previous.value)))
    target = validity_before_returns(session, address=address)
    set_validity(
        session, address=address, validity=target, source=ChangeSource.STAFF, actor=actor,
        note=Message("flag cleared: %(note)s", note=note.strip()),
    )
    record(
        session, actor=actor, action="address.clear_flag", object_type="address", object_id=str(address.id),
        detail={"customer_id": address.customer_id, "validity": validity_pair(previous, target), "note": note.strip()},
    )
    session.flush()
    logger.info("cleared the %s flag of address %s", previous.value, address.id)
    return ValidityChange(address.id, address.customer_id, previous, target)


def confirm_address(
    session: Session, *, address_id: int, via: ChangeSource, actor: str, note: str | None = None
) -> ValidityChange:
    """Mark an address deliverable: the customer confirmed it or an order was delivered there.

    A customer's own confirmation is also evidence they are still with us, and lowers the stored
    churn risk as the churn refresh counts it (``SELF_UPDATE_WEIGHT``).
    """
    if via in RETURN_CHANGE_SOURCES or via in (ChangeSource.IMPORT, ChangeSource.MERGE):
        raise ValueError(f"{via.value} does not confirm an address")
    address = _locked_current_address(session, address_id)
    previous = address.validity
    set_validity(
        session, address=address, validity=AddressValidity.DELIVERABLE, source=via, actor=actor,
        note=note or Message("address confirmed (%(via)s)", via=via.value), confirmed=True,
    )
    if via is ChangeSource.CUSTOMER:
        rescore_after_self_update(session, customer_id=address.customer_id)
    session.flush()
    return ValidityChange(address.id, address.customer_id, previous, AddressValidity.DELIVERABLE)


def current_address_id(session: Session, *, customer_no: str) -> int:
    """Return the id of a customer's current address; raise ReturnError if there is none."""
    address_id = session.scalar(
        select(Address.id)
        .join(Customer, Customer.id == Address.customer_id)
        .where(and_(Customer.customer_no == customer_no, Address.is_current))
    )
    if address_id is None:
        raise ReturnError(Message("no customer %(customer_no)s with a current address", customer_no=customer_no))
    return address_id
