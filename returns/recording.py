"""Applying returns: read once, decide in memory in order, write in bulk.

A chunk of returns of distinct pieces is read with a few ``IN`` queries (the pieces, their
customers — locked, so two stations never interleave on one customer — the addresses and the
pieces' earlier returns), each return's effects are decided in memory in order, and everything is
written with a few multi-row statements inside one savepoint. A unique-index clash (another
station got there between our read and our write) rolls the savepoint back and the chunk is read
again. ``returns.service`` is the way in; the rules are told there.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Update, bindparam, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from mailer.addresses.models import Address, AddressEvent, AddressEventKind, AddressValidity, ChangeSource
from mailer.addresses.service import CleanAddress
from mailer.audit.service import record, record_many
from mailer.batches.models import Batch, MailPiece
from mailer.batches.piece_codes import display_piece_code
from mailer.churn.evidence import Evidence
from mailer.churn.stored_risk import add_evidence, withdraw_evidence
from mailer.customers.models import Customer, CustomerStatus
from mailer.messages import Message, join, stored
from returns.catalog import REASONS, AddressEffect, BatchEffect, CustomerEffect, Reason
from returns.models import MailReturn, ReturnSource
from returns.outcomes import PieceNotFound, ReturnConflict, ReturnError, ReturnOutcome, ReturnRequest

logger = logging.getLogger(__name__)

CHUNK_SIZE: Final = 2000

SOFT_REASONS: Final = frozenset(code for code, reason in REASONS.items() if reason.is_soft)
PRINT_PROBLEM_REASONS: Final = tuple(
    code for code, reason in REASONS.items() if reason.batch_effect is BatchEffect.FLAG_PRINT
)
CHANGE_SOURCE: Final = {
    ReturnSource.SCAN: ChangeSource.RETURN_SCAN,
    ReturnSource.STAFF: ChangeSource.RETURN_SCAN,
    ReturnSource.POSTAL_FILE: ChangeSource.POSTAL_FILE,
}
# History rows written by returns, whichever way they came in.
RETURN_CHANGE_SOURCES: Final = frozenset(CHANGE_SOURCE.values())
_STATUS_OF: Final = {
    CustomerEffect.DECEASED: CustomerStatus.DECEASED,
    CustomerEffect.DO_NOT_MAIL: CustomerStatus.DO_NOT_MAIL,
}


@dataclass(frozen=True, slots=True)
class Settings:
    """How a run of returns came in, who recorded them, when, and the soft-return window."""

    source: ReturnSource
    actor: str
    window: timedelta
    now: datetime

    @property
    def change_source(self) -> ChangeSource:
        """Return the history rows' source for returns coming this way."""
        return CHANGE_SOURCE[self.source]


def apply_chunk(
    session: Session, requests: Sequence[ReturnRequest], settings: Settings
) -> list[ReturnOutcome | ReturnError]:
    """Record returns of distinct pieces in order in a savepoint; return each one's outcome or error."""
    for attempt in (1, 2):
        try:
            with session.begin_nested():
                return _Chunk(session, requests, settings).run()
        except IntegrityError:
            # Another station recorded one of these pieces between our reading and our writing
            # (possible where customers are not locked): read again, and it is "already recorded".
            if attempt == 2:
                raise
            logger.info("returns of %d piece(s) met a concurrent recording; reading again", len(requests))
    raise AssertionError("unreachable")


@dataclass(slots=True)
class _Piece:
    id: int
    code: str
    batch_id: int
    customer_id: int
    address_id: int
    lines: list[str]
    # When its batch was created: the piece cannot have come back before it was mailed.
    mailed_at: datetime


@dataclass(slots=True)
class _Customer:
    id: int
    customer_no: str
    name: str
    status: CustomerStatus
    churn_risk: float | None
    explanation: list[Any] | None
    changed: bool = False
    # Spend at the last churn refresh: the retention list sorts by risk x spend.
    spent_cents: int | None = None

    @property
    def value_at_risk_cents(self) -> int | None:
        """Return risk x spend, as the churn refresh stores it, or None when either is unknown."""
        if self.churn_risk is None or self.spent_cents is None:
            return None
        return round(self.churn_risk * self.spent_cents)


@dataclass(slots=True)
class _Address:
    id: int | None
    customer_id: int
    validity: AddressValidity
    is_current: bool
    fingerprint: str
    confirmed_at: datetime | None
    loaded: tuple[AddressValidity, bool] | None = None
    new: CleanAddress | None = None

    @property
    def key(self) -> int:
        # Only stored addresses are printed on pieces and have returns.
        assert self.id is not None
        return self.id


@dataclass(slots=True)
class _Return:
    id: int
    reason: str
    returned_at: datetime
    is_current: bool
    new_address_id: int | None
    validity_before: AddressValidity | None
    validity_after: AddressValidity | None
    customer_status_before: CustomerStatus | None
    churn_risk_before: float | None
    churn_risk_after: float | None


@dataclass(slots=True)
class _Soft:
    returned_at: datetime
    return_id: int | None = None


@dataclass(slots=True)
class _Writes:
    new_returns: list[dict[str, Any]] = field(default_factory=list)
    # Customer ids whose new address a new return (by position) brought.
    moved_by_return: dict[int, int] = field(default_factory=dict)
    retired_returns: list[int] = field(default_factory=list)
    # History rows; a None address id is the new address of the customer named in the row.
    events: list[dict[str, Any]] = field(default_factory=list)
    flag_batches: set[int] = field(default_factory=set)
    recheck_batches: set[int] = field(default_factory=set)
    status_changes: list[tuple[_Customer, CustomerStatus, CustomerStatus, str]] = field(default_factory=list)
    # Audit rows of the customers whose address a return changed.
    address_audits: list[dict[str, Any]] = field(default_factory=list)


def _by_id(model: type[Any], *columns: str) -> Update:
    """Return an UPDATE of these columns of one row by id, for executemany with ``row_id`` and the columns."""
    table = model.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(name) for name in columns})
    )


class _Chunk:
    """Returns of distinct pieces: read once, decided in order in memory, written in bulk."""

    def __init__(self, session: Session, requests: Sequence[ReturnRequest], settings: Settings) -> None:
        self.session = session
        self.requests = requests
        self.settings = settings
        self.today = settings.now.date()
        self.writes = _Writes()

    def run(self) -> list[ReturnOutcome | ReturnError]:
        self._load()
        results: list[ReturnOutcome | ReturnError] = []
        for request in self.requests:
            try:
                results.append(self._apply(request))
            except ReturnError as exc:
                results.append(exc)
        self._write()
        return results

    # --- reading ---

    def _load(self) -> None:
        session = self.session
        codes = sorted({r.piece_code for r in self.requests})
        self.pieces = {
            row.piece_code: _Piece(
                row.id, row.piece_code, row.batch_id, row.customer_id, row.address_id, row.lines, row.created_at
            )
            for row in session.execute(
                select(
                    MailPiece.id, MailPiece.piece_code, MailPiece.batch_id, MailPiece.customer_id,
                    MailPiece.address_id, MailPiece.lines, Batch.created_at,
                )
                .join(Batch, Batch.id == MailPiece.batch_id)
                .where(MailPiece.piece_code.in_(codes))
            )
        }
        customer_ids = sorted({p.customer_id for p in self.pieces.values()})
        piece_ids = [p.id for p in self.pieces.values()]
        # Locked in id order (PostgreSQL; SQLite has one writer anyway): returns, confirmations and
        # cleared flags of one customer never interleave, so nothing is lost or counted twice.
        self.customers = {
            row.id: _Customer(
                row.id, row.customer_no, row.name, row.status, row.churn_risk, row.churn_explanation,
                spent_cents=row.churn_spent_cents,
            )
            for row in session.execute(
                select(
                    Customer.id, Customer.customer_no, Customer.name, Customer.status, Customer.churn_risk,
                    Customer.churn_explanation, Customer.churn_spent_cents,
                )
                .where(Customer.id.in_(customer_ids))
                .order_by(Customer.id)
                .with_for_update()
            )
        }
        address_columns = (
            Address.id, Address.customer_id, Address.validity, Address.is_current, Address.fingerprint,
            Address.confirmed_at,
        )
        rows = session.execute(
            select(*address_columns).where(Address.id.in_(sorted({p.address_id for p in self.pieces.values()})))
        )
        # Only the printed addresses: a return never changes another one (they may be superseded).
        self.addresses = {
            row.id: _Address(
                row.id, row.customer_id, row.validity, row.is_current, row.fingerprint, row.confirmed_at,
                loaded=(row.validity, row.is_current),
            )
            for row in rows
        }
        # The forwarding addresses moves bring, by customer: at most one each (the printed address is
        # no longer current once a move superseded it).
        self.new_addresses: dict[int, _Address] = {}
        self.history: dict[int, list[_Return]] = defaultdict(list)
        for row in session.execute(
            select(
                MailReturn.id, MailReturn.piece_id, MailReturn.reason, MailReturn.returned_at, MailReturn.is_current,
                MailReturn.new_address_id, MailReturn.validity_before, MailReturn.validity_after,
                MailReturn.customer_status_before, MailReturn.churn_risk_before, MailReturn.churn_risk_after,
            )
            .where(MailReturn.piece_id.in_(piece_ids))
            .order_by(MailReturn.id)
        ):
            self.history[row.piece_id].append(
                _Return(
                    row.id, row.reason, row.returned_at, row.is_current, row.new_address_id, row.validity_before,
                    row.validity_after, row.customer_status_before, row.churn_risk_before, row.churn_risk_after,
                )
            )
        self.soft: dict[int, list[_Soft]] = defaultdict(list)
        # Only the address in SQL, the rest here: with the reason in the query, SQLite walks the
        # reason index through every soft return ever recorded instead of a few per address.
        for address_id, returned_at, return_id, reason, address_unchanged in session.execute(
            select(
                MailReturn.address_id, MailReturn.returned_at, MailReturn.id, MailReturn.reason,
                MailReturn.address_unchanged,
            ).where(MailReturn.address_id.in_(list(self.addresses)), MailReturn.is_current)
        ):
            if reason in SOFT_REASONS and not address_unchanged:
                self.soft[address_id].append(_Soft(returned_at, return_id))

    # --- deciding ---

    def _apply(self, request: ReturnRequest) -> ReturnOutcome:
        piece = self.pieces.get(request.piece_code)
        if piece is None:
            raise PieceNotFound(
                f"No piece with code {display_piece_code(request.piece_code)} was mailed. "
                "Check the code on the envelope and scan or type it again."
            )
        if request.returned_at < piece.mailed_at:
            raise ReturnError(
                Message(
                    "Piece %(code)s cannot have come back on %(date)s: its batch %(batch_id)s was created on "
                    "%(mailed)s. Check the date.",
                    code=display_piece_code(piece.code), date=request.returned_at.isoformat(),
                    batch_id=piece.batch_id, mailed=piece.mailed_at.isoformat(timespec="seconds"),
                )
            )
        customer = self.customers[piece.customer_id]
        address = self.addresses[piece.address_id]
        reason = request.reason
        history = self.history[piece.id]
        current = next((r for r in history if r.is_current), None)

        repeated = current is not None and current.reason == reason.code
        if repeated or any(r.reason == reason.code and r.returned_at == request.returned_at for r in history):
            shown = REASONS.get(current.reason, reason) if current is not None else reason
            return self._outcome(piece, customer, address, shown, address.validity, already_recorded=True)

        validity_at_start = address.validity
        if current is not None:
            if current.new_address_id is not None:
                old = REASONS.get(current.reason)
                recorded_as = old.label_en if old else current.reason
                raise ReturnConflict(
                    f"Piece {display_piece_code(piece.code)} was recorded as “{recorded_as}”"
                    " with a new address, which is now the customer's address. Correct the address on the "
                    "customer's page instead."
                )
            self._take_back(current, piece, customer, address)

        validity_before = address.validity
        escalated, moved, address_note = self._apply_to_address(request, customer, address)
        status_before = self._apply_to_customer(request, customer, piece)
        churn_before, churn_after = self._apply_to_churn(request, customer)
        flagged = reason.batch_effect is BatchEffect.FLAG_PRINT
        if flagged:
            self.writes.flag_batches.add(piece.batch_id)

        changed_validity = address.validity is not validity_before
        self.writes.new_returns.append(
            {
                "piece_id": piece.id, "batch_id": piece.batch_id, "customer_id": customer.id,
                "address_id": piece.address_id, "reason": reason.code, "given_as": request.given_as,
                "source": self.settings.source, "returned_at": request.returned_at,
                "recorded_at": self.settings.now, "actor": self.settings.actor, "note": request.note,
                "is_current": True, "corrects_id": current.id if current is not None else None,
                "new_address_id": None, "address_unchanged": not request.change_address,
                "validity_before": validity_before if changed_validity else None,
                "validity_after": address.validity if changed_validity else None,
                "customer_status_before": status_before,
                "churn_risk_before": churn_before, "churn_risk_after": churn_after,
            }
        )
        if moved:
            self.writes.moved_by_return[len(self.writes.new_returns) - 1] = customer.id
        if address.validity is not validity_at_start:
            self._history_row(
                request, piece, address, validity_at_start, escalated=escalated, moved=moved,
                corrected=REASONS.get(current.reason) if current is not None else None,
            )
            self.writes.address_audits.append(
                {
                    "actor": self.settings.actor, "action": "customer.address_return", "object_type": "customer",
                    "object_id": customer.customer_no, "created_at": self.settings.now,
                    # What changed and why; the address itself stays in the address history.
                    "detail": {
                        "piece_code": piece.code, "reason": reason.code, "source": self.settings.source.value,
                        "validity": [validity_at_start.value, address.validity.value], "new_address": moved,
                        "corrects": current.reason if current is not None else None,
                    },
                }
            )
        return self._outcome(
            piece, customer, address, reason, validity_at_start,
            corrected_from=current.reason if current is not None else None, escalated=escalated,
            moved_to=request.new_address.fields if moved and request.new_address else None,
            batch_flagged=flagged, address_note=address_note,
        )

    def _take_back(self, current: _Return, piece: _Piece, customer: _Customer, address: _Address) -> None:
        """Undo what an earlier return of this piece did, where nothing has changed it since."""
        old = REASONS.get(current.reason)
        current.is_current = False
        self.writes.retired_returns.append(current.id)
        self.soft[address.key] = [s for s in self.soft[address.key] if s.return_id != current.id]
        if (
            current.validity_after is not None
            and current.validity_before is not None
            and address.validity is current.validity_after
        ):
            address.validity = current.validity_before
        if (
            current.customer_status_before is not None
            and old is not None
            and customer.status is _STATUS_OF.get(old.customer_effect)
        ):
            self._set_status(customer, current.customer_status_before, f"correction of return {old.code}")
        if current.churn_risk_after is not None and old is not None:
            update_ = withdraw_evidence(
                customer.churn_risk, customer.explanation, label=old.evidence_label,
                risk_before=current.churn_risk_before, risk_after=current.churn_risk_after, on=self.today,
            )
            customer.churn_risk, customer.explanation, customer.changed = update_.risk, update_.explanation, True
        if old is not None and old.batch_effect is BatchEffect.FLAG_PRINT:
            self.writes.recheck_batches.add(piece.batch_id)

    def _apply_to_address(
        self, request: ReturnRequest, customer: _Customer, address: _Address
    ) -> tuple[bool, bool, str | None]:
        """Apply the reason to the printed address; return (escalated, moved, why left alone)."""
        reason = request.reason
        if reason.is_soft and request.change_address:
            recent = self._recent_soft_return(address, request.returned_at)
            self.soft[address.key].append(_Soft(request.returned_at))
        else:
            recent = False
        if reason.address_effect is AddressEffect.NONE:
            return False, False, None
        if not request.change_address:
            return False, False, Message("logged without changing the address")
        if not address.is_current:
            return False, False, Message("the customer has another address now")
        if address.confirmed_at is not None and request.returned_at < address.confirmed_at:
            return False, False, Message("it was confirmed after this piece came back")
        if reason.address_effect is AddressEffect.UNDELIVERABLE:
            address.validity = AddressValidity.UNDELIVERABLE
        elif reason.address_effect is AddressEffect.SUSPECT:
            if address.validity is AddressValidity.SUSPECT and recent:
                address.validity = AddressValidity.UNDELIVERABLE
                return True, False, None
            if address.validity in (AddressValidity.UNVERIFIED, AddressValidity.DELIVERABLE):
                address.validity = AddressValidity.SUSPECT
        elif reason.address_effect is AddressEffect.SUPERSEDED and request.new_address is not None:
            if request.new_address.fingerprint == address.fingerprint:
                return False, False, Message("the new address is the one we have")
            address.validity = AddressValidity.SUPERSEDED
            address.is_current = False
            new = _Address(
                None, customer.id, AddressValidity.UNVERIFIED, True, request.new_address.fingerprint, None,
                new=request.new_address,
            )
            self.new_addresses[customer.id] = new
            return False, True, None
        return False, False, None

    def _recent_soft_return(self, address: _Address, returned_at: datetime) -> bool:
        window = self.settings.window
        return any(
            abs(soft.returned_at - returned_at) <= window
            and (address.confirmed_at is None or soft.returned_at >= address.confirmed_at)
            for soft in self.soft[address.key]
        )

    def _apply_to_customer(self, request: ReturnRequest, customer: _Customer, piece: _Piece) -> CustomerStatus | None:
        """Set the status the reason calls for; return the status before, if it changed."""
        target = _STATUS_OF.get(request.reason.customer_effect)
        before = customer.status
        if target is CustomerStatus.DECEASED and before is not CustomerStatus.DECEASED:
            self._set_status(customer, target, f"return {request.reason.code} of piece {piece.code}")
            return before
        if target is CustomerStatus.DO_NOT_MAIL and before is CustomerStatus.ACTIVE:
            self._set_status(customer, target, f"return {request.reason.code} of piece {piece.code}")
            return before
        return None

    def _set_status(self, customer: _Customer, status: CustomerStatus, why: str) -> None:
        self.writes.status_changes.append((customer, customer.status, status, why))
        customer.status = status
        customer.changed = True

    def _apply_to_churn(self, request: ReturnRequest, customer: _Customer) -> tuple[float | None, float | None]:
        """Move the stored churn risk by the reason's weight; return the risk before and after."""
        reason = request.reason
        if not reason.moves_churn or customer.churn_risk == 1.0:
            return None, None
        before = customer.churn_risk
        item = Evidence(label=reason.evidence_label, weight=reason.churn_weight, observed_on=request.returned_at.date())
        update_ = add_evidence(before, customer.explanation, item, as_of=self.today)
        customer.churn_risk, customer.explanation, customer.changed = update_.risk, update_.explanation, True
        return before, update_.risk

    def _history_row(
        self,
        request: ReturnRequest,
        piece: _Piece,
        address: _Address,
        validity_at_start: AddressValidity,
        *,
        escalated: bool,
        moved: bool,
        corrected: Reason | None,
    ) -> None:
        reason = request.reason
        # A translation may name the reason by its code alone: the English names are not in its catalog.
        parts = [
            Message(
                "returned mail: %(code)s (%(reason)s), piece %(piece)s", code=reason.code, reason=reason.label_en,
                piece=display_piece_code(piece.code),
            )
        ]
        if corrected is not None:
            parts.append(
                Message(", correcting %(code)s (%(reason)s)", code=corrected.code, reason=corrected.label_en)
            )
        if escalated:
            parts.append(Message("; second soft return within %(days)s days", days=self.settings.window.days))
        if request.note:
            parts.append(Message("; %(note)s", note=request.note))
        note = join("", parts)
        if moved:
            kind = AddressEventKind.SUPERSEDED
            changes: dict[str, Any] = {
                "validity": [validity_at_start.value, AddressValidity.SUPERSEDED.value], "is_current": [True, False],
            }
        else:
            kind = AddressEventKind.VALIDITY
            changes = {"validity": [validity_at_start.value, address.validity.value]}
        self._event(address.id, address.customer_id, kind, changes, note)
        if moved and request.new_address is not None:
            created = {f: [None, v] for f, v in request.new_address.fields.items() if v is not None}
            self._event(None, address.customer_id, AddressEventKind.CREATED, created, note)

    def _event(
        self, address_id: int | None, customer_id: int, kind: AddressEventKind, changes: dict[str, Any], note: str
    ) -> None:
        self.writes.events.append(
            {
                "address_id": address_id, "customer_id": customer_id, "kind": kind, "changes": changes,
                "source": self.settings.change_source, "actor": self.settings.actor, "note": note,
                "note_phrase": stored(note),
                "created_at": self.settings.now,
            }
        )

    def _outcome(
        self,
        piece: _Piece,
        customer: _Customer,
        address: _Address,
        reason: Reason,
        previous: AddressValidity,
        **extra: Any,
    ) -> ReturnOutcome:
        return ReturnOutcome(
            piece_code=piece.code, batch_id=piece.batch_id, customer_no=customer.customer_no,
            customer_name=customer.name, lines=list(piece.lines), reason=reason, previous_validity=previous,
            validity=address.validity, customer_status=customer.status, churn_risk=customer.churn_risk, **extra,
        )

    # --- writing ---

    def _write(self) -> None:
        # Core statements on the tables: the ORM's bulk paths cost more than the database here. Rows
        # go in key order (stable, so one customer's history keeps its order): the indexes are then
        # walked page after page rather than at random.
        session, writes, now = self.session, self.writes, self.settings.now
        changed_addresses = sorted(
            (a for a in self.addresses.values() if a.loaded is not None and a.loaded != (a.validity, a.is_current)),
            key=lambda a: a.key,
        )
        if changed_addresses:
            # Superseded addresses stop being current before the new ones are written (one current each).
            session.execute(
                _by_id(Address, "validity", "is_current", "updated_at"),
                [{"row_id": a.id, "validity": a.validity, "is_current": a.is_current, "updated_at": now}
                 for a in changed_addresses],
            )
        new_address_ids = self._insert_new_addresses()
        if writes.retired_returns:
            session.execute(
                _by_id(MailReturn, "is_current"), [{"row_id": i, "is_current": False} for i in writes.retired_returns]
            )
        for position, customer_id in writes.moved_by_return.items():
            writes.new_returns[position]["new_address_id"] = new_address_ids[customer_id]
        if writes.new_returns:
            writes.new_returns.sort(key=lambda row: row["customer_id"])
            session.execute(MailReturn.__table__.insert(), writes.new_returns)
        for event in writes.events:
            if event["address_id"] is None:
                event["address_id"] = new_address_ids[event["customer_id"]]
        if writes.events:
            writes.events.sort(key=lambda row: row["customer_id"])
            session.execute(AddressEvent.__table__.insert(), writes.events)
        # Read in id order, so already sorted.
        changed_customers = [c for c in self.customers.values() if c.changed]
        if changed_customers:
            session.execute(
                _by_id(
                    Customer, "status", "churn_risk", "churn_explanation", "churn_value_at_risk_cents", "updated_at"
                ),
                [{"row_id": c.id, "status": c.status, "churn_risk": c.churn_risk, "churn_explanation": c.explanation,
                  "churn_value_at_risk_cents": c.value_at_risk_cents, "updated_at": now} for c in changed_customers],
            )
        if writes.flag_batches:
            session.execute(update(Batch).where(Batch.id.in_(writes.flag_batches)).values(print_problem=True))
        for batch_id in sorted(writes.recheck_batches - writes.flag_batches):
            still_illegible = exists().where(
                MailReturn.batch_id == batch_id, MailReturn.is_current, MailReturn.reason.in_(PRINT_PROBLEM_REASONS)
            )
            session.execute(update(Batch).where(Batch.id == batch_id).values(print_problem=still_illegible))
        record_many(session, writes.address_audits)
        for customer, old, new, why in writes.status_changes:
            record(
                session, actor=self.settings.actor, action="customer.status", object_type="customer",
                object_id=customer.customer_no, detail={"status": [old.value, new.value], "why": why},
            )
        self._expire(
            [(Customer, c.id) for c in changed_customers]
            + [(Address, a.id) for a in changed_addresses if a.id is not None]
            + [(Batch, b) for b in writes.flag_batches | writes.recheck_batches]
            + [(MailReturn, i) for i in writes.retired_returns]
        )
        session.flush()

    def _insert_new_addresses(self) -> dict[int, int]:
        new = list(self.new_addresses.values())
        if not new:
            return {}
        now = self.settings.now
        self.session.execute(
            Address.__table__.insert(),
            [
                {"customer_id": a.customer_id, **a.new.fields, "normalized": a.new.normalized,
                 "fingerprint": a.new.fingerprint, "household_key": a.new.household_key,
                 "validity": AddressValidity.UNVERIFIED, "is_current": True, "created_at": now, "updated_at": now}
                for a in new
                if a.new is not None
            ],
        )
        return dict(
            self.session.execute(  # type: ignore[arg-type]
                select(Address.customer_id, Address.id).where(
                    Address.customer_id.in_([a.customer_id for a in new]), Address.is_current
                )
            ).all()
        )

    def _expire(self, keys: Iterable[tuple[type, int]]) -> None:
        # The bulk statements bypass objects already in the session: let them load afresh.
        for model, id_ in keys:
            instance = self.session.identity_map.get(identity_key(model, id_))
            if instance is not None:
                self.session.expire(instance)
