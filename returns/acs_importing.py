"""Importing a USPS ACS fulfillment file: each notice matched to its piece and recorded as a return.

A notice names its piece by the Intelligent Mail barcode (Mailer ID and serial number, stored on
the piece when it was rendered) or by the keyline (our piece code, printed above the address).
Its deliverability code is a USPS letter of the reason catalog (blank: moved with a new address),
and the return goes the way of every other one (``returns.service.apply_returns``), with the rules,
rejects file, exit codes and idempotency of our own returns CSV. A family move (F) with a new
address also moves everyone of the notice's surname in the old household; an individual (I) or
business (B) move only the addressee.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.lifecycle import replace_address
from mailer.addresses.models import Address, ChangeSource
from mailer.batches.models import MailPiece
from mailer.batches.piece_codes import PieceCodeError, parse_piece_code
from mailer.customers.models import Customer, CustomerStatus
from mailer.db import larger_sqlite_cache, utcnow
from mailer.imports import ImportReport, ProgressCallback, Rejection, finish_import
from mailer.messages import Message
from returns.acs import (
    DETAIL_NAMES,
    AcsHeader,
    AcsLayout,
    AcsNotice,
    UnusableAcsFile,
    parse_header,
    parse_notice,
    read_records,
)
from returns.catalog import REASONS, Reason, resolve_reason
from returns.importing import NEW_ADDRESS_PREFIX, SQLITE_CACHE_KIB, apply_postal_returns, cycle_collection_paused
from returns.service import CHUNK_SIZE, ReturnError, ReturnOutcome, ReturnRequest, prepare_return

MOVED = REASONS["MOVED"]
# Who moves with a family: anyone still a customer (a do-not-mail customer still lives somewhere).
_MOVABLE = (CustomerStatus.ACTIVE, CustomerStatus.DO_NOT_MAIL)


def acs_reason(code: str) -> Reason:
    """Return the catalog reason of an ACS deliverability code (blank: moved with a new address)."""
    if not code.strip():
        return MOVED
    reason = resolve_reason(code)
    if reason is None:
        raise ValueError(f"the reason catalog has no USPS letter {code!r}")
    return reason


def import_acs(
    session: Session,
    *,
    path: Path,
    layout: AcsLayout,
    actor: str,
    window_days: int,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import an ACS file in either USPS layout (or our rejects file of one); reject bad notices.

    Raise UnusableAcsFile (nothing stored) when the header is missing or malformed, or when the file
    holds another number of notices than its header announces (a truncated download).
    """
    total = _detail_count(path, layout)
    report = ImportReport(path=path, total=total)
    now = utcnow()
    header: AcsHeader | None = None
    details = 0
    pending: list[tuple[int, dict[str, str], AcsNotice]] = []
    with cycle_collection_paused(), larger_sqlite_cache(session, kib=SQLITE_CACHE_KIB):
        for record in read_records(path, layout):
            if record.values.get("record_type") == "H":
                if header is not None or details:
                    raise UnusableAcsFile(f"row {record.row}: a header record (H) after the first record")
                if record.problem is not None:
                    raise UnusableAcsFile(f"header record (row {record.row}): {record.problem}")
                header = parse_header(record.values)
                continue
            if header is None and layout is not AcsLayout.NAMED_CSV:
                raise UnusableAcsFile("the file does not begin with a header record (H): it is not a whole ACS file")
            details += 1
            problem: str | None = str(record.problem) if record.problem is not None else None
            notice: AcsNotice | None = None
            if problem is None:
                try:
                    notice = parse_notice(record.values, file_created_on=header.created_on if header else None)
                except ValueError as exc:
                    problem = str(exc)
            if notice is None:
                report.rejected.append(Rejection(row=record.row, reason=problem or "", values=record.values))
                if progress:
                    progress(1, report.total)
                continue
            pending.append((record.row, record.values, notice))
            if len(pending) >= CHUNK_SIZE:
                _apply(session, pending, report=report, actor=actor, window_days=window_days, now=now,
                       progress=progress)
                pending = []
        if header is not None and header.notice_count != details:
            raise UnusableAcsFile(
                f"the header announces {header.notice_count} notices but the file holds {details}: it is incomplete"
            )
        if pending:
            _apply(session, pending, report=report, actor=actor, window_days=window_days, now=now, progress=progress)
    finish_import(session, report, columns=DETAIL_NAMES, action="returns.import_acs", actor=actor)
    return report


def _detail_count(path: Path, layout: AcsLayout) -> int:
    with path.open("rb") as handle:
        if layout is AcsLayout.NAMED_CSV:
            # Every row but the one of names is a notice.
            return max(sum(1 for line in handle if line.strip()) - 1, 0)
        # Every record but the header (and a CSV's row of column titles) is a notice, or a rejected one.
        count = 0
        for number, line in enumerate(handle):
            if not line.strip() or line.startswith((b"H", b'"H"')):
                continue
            if number == 0 and line.lstrip(b'"').lower().startswith(b"record"):
                continue
            count += 1
        return count


def _apply(
    session: Session,
    pending: Sequence[tuple[int, dict[str, str], AcsNotice]],
    *,
    report: ImportReport,
    actor: str,
    window_days: int,
    now: datetime,
    progress: ProgressCallback | None,
) -> None:
    codes = _piece_codes(session, [notice for _, _, notice in pending])
    notices: list[AcsNotice] = []
    requests: list[tuple[int, dict[str, str], ReturnRequest]] = []
    for (row, values, notice), code in zip(pending, codes, strict=True):
        try:
            if isinstance(code, Message):
                raise ReturnError(code)
            request = prepare_return(
                piece_code=code, reason=acs_reason(notice.deliverability_code),
                returned_at=datetime.combine(notice.fulfilled_on, time(), tzinfo=UTC),
                new_address=notice.new_address, address_prefix=NEW_ADDRESS_PREFIX, note=notice.note(), now=now,
            )
        except ReturnError as exc:
            report.rejected.append(Rejection(row=row, reason=str(exc), values=values))
            continue
        notices.append(notice)
        requests.append((row, values, request))
    outcomes = apply_postal_returns(session, requests, report=report, actor=actor, window_days=window_days, now=now)
    family_moves: list[tuple[AcsNotice, ReturnOutcome, ReturnRequest]] = []
    for notice, (_, _, request), result in zip(notices, requests, outcomes, strict=True):
        if result is None:
            continue
        if notice.move_type == "F" and result.moved_to is not None and not result.already_recorded:
            family_moves.append((notice, result, request))
    if family_moves:
        _move_families(session, family_moves, actor=actor)
    if progress:
        progress(len(pending), report.total)


def _piece_codes(session: Session, notices: Sequence[AcsNotice]) -> list[str | Message]:
    """Return each notice's piece code, or why it names none of our pieces."""
    serials_by_mailer: dict[str, set[int]] = defaultdict(set)
    for notice in notices:
        if notice.mailer_id is not None and notice.serial is not None:
            serials_by_mailer[notice.mailer_id].add(notice.serial)
    by_serial: dict[tuple[str | None, int | None], str] = {}
    for mailer_id, serials in serials_by_mailer.items():
        # A serial may come round again after 45 days: the latest piece that carried it is the one mailed.
        for serial, code in session.execute(
            select(MailPiece.imb_serial, MailPiece.piece_code)
            .where(MailPiece.imb_mailer_id == mailer_id, MailPiece.imb_serial.in_(sorted(serials)))
            .order_by(MailPiece.id)
        ):
            by_serial[(mailer_id, serial)] = code
    codes: list[str | Message] = []
    for notice in notices:
        if notice.mailer_id is not None and notice.serial is not None:
            found = by_serial.get((notice.mailer_id, notice.serial))
            codes.append(found if found is not None else Message(
                "no piece carries the Intelligent Mail barcode of Mailer ID %(mailer_id)s, serial %(serial)s",
                mailer_id=notice.mailer_id, serial=notice.serial,
            ))
            continue
        try:
            codes.append(parse_piece_code(notice.keyline or ""))
        except PieceCodeError as exc:
            codes.append(Message("keyline %(keyline)s is not one of our piece codes: %(problem)s",
                                 keyline=repr(notice.keyline), problem=exc.args[0]))
    return codes


def _surname(name: str) -> str:
    words = name.replace(",", " ").split()
    return words[-1].casefold() if words else ""


def _move_families(
    session: Session, moves: Sequence[tuple[AcsNotice, ReturnOutcome, ReturnRequest]], *, actor: str
) -> None:
    """Move the addressee's household members of the notice's surname to the new address too."""
    printed = {
        row.piece_code: (row.customer_id, row.household_key)
        for row in session.execute(
            select(MailPiece.piece_code, MailPiece.customer_id, Address.household_key)
            .join(Address, Address.id == MailPiece.address_id)
            .where(MailPiece.piece_code.in_([outcome.piece_code for _, outcome, _ in moves]))
        )
    }
    households = {key for _, key in printed.values()}
    members: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for customer_id, name, key in session.execute(
        select(Customer.id, Customer.name, Address.household_key)
        .join(Address, Address.customer_id == Customer.id)
        .where(Address.is_current, Address.household_key.in_(households), Customer.status.in_(_MOVABLE))
        .order_by(Customer.id)
    ):
        members[key].append((customer_id, name))
    for notice, outcome, request in moves:
        addressee_id, key = printed[outcome.piece_code]
        surname = notice.last_name.casefold() or _surname(outcome.customer_name)
        address = request.new_address
        if address is None:
            continue
        for customer_id, name in members.get(key, []):
            if customer_id == addressee_id or _surname(name) != surname:
                continue
            replace_address(
                session, customer_id=customer_id, address=address, source=ChangeSource.POSTAL_FILE, actor=actor,
                note=f"{notice.note()}; moved with {outcome.customer_no} (piece {outcome.display_code})",
            )
