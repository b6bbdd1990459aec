"""Deciding what each return does, in memory, without a database.

``returns.recording`` loads a chunk's pieces, customers, printed addresses and earlier returns into
the plain dataclasses below (a ``ChunkState``), and ``Decisions.decide`` takes the chunk's returns
one by one, in order: each sees what the ones before it did to the state, and adds what must be
written to ``Effects`` (new and retired returns, address history rows, new addresses, batches to
flag or check again, status changes, audit rows). The rules are told in ``returns.service``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from mailer.addresses import lifecycle
from mailer.addresses.models import AddressValidity, ChangeSource
from mailer.batches.piece_codes import display_piece_code
from mailer.churn.evidence import Evidence
from mailer.churn.stored_risk import add_evidence, withdraw_evidence
from mailer.customers.models import CustomerStatus
from mailer.messages import Message, join
from returns.catalog import REASONS, AddressEffect, BatchEffect, CustomerEffect, Reason
from returns.models import ReturnSource
from returns.outcomes import PieceNotFound, ReturnConflict, ReturnError, ReturnOutcome, ReturnRequest

SOFT_REASONS: Final = frozenset(code for code, reason in REASONS.items() if reason.is_soft)
CHANGE_SOURCE: Final = {
    ReturnSource.SCAN: ChangeSource.RETURN_SCAN,
    ReturnSource.STAFF: ChangeSource.RETURN_SCAN,
    ReturnSource.POSTAL_FILE: ChangeSource.POSTAL_FILE,
}
# Who gave the forwarding address a move brings: the post office on the returned piece, or its file.
FORWARDING_SOURCE: Final = {
    ReturnSource.SCAN: ChangeSource.POST_OFFICE,
    ReturnSource.STAFF: ChangeSource.POST_OFFICE,
    ReturnSource.POSTAL_FILE: ChangeSource.POSTAL_FILE,
}
# History rows written by returns, whichever way they came in.
RETURN_CHANGE_SOURCES: Final = frozenset({*CHANGE_SOURCE.values(), *FORWARDING_SOURCE.values()})
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

    @property
    def forwarding_source(self) -> ChangeSource:
        """Return the source of the forwarding addresses of moves coming this way."""
        return FORWARDING_SOURCE[self.source]


@dataclass(slots=True)
class Piece:
    """A mailed piece and the address printed on it."""

    id: int
    code: str
    batch_id: int
    customer_id: int
    address_id: int
    lines: list[str]
    # When its batch was created: the piece cannot have come back before it was mailed.
    mailed_at: datetime


@dataclass(slots=True)
class CustomerState:
    """What returns read and change of a customer."""

    id: int
    customer_no: str
    name: str
    status: CustomerStatus
    churn_risk: float | None
    explanation: list[Any] | None
    changed: bool = False
    # Spend at the last churn refresh: the retention list sorts by risk x spend.
    spent_cents: int | None = None
    # As stored, so only what changed is written (each of these columns is indexed).
    loaded_status: CustomerStatus | None = None
    loaded_value_at_risk_cents: int | None = None

    @property
    def value_at_risk_cents(self) -> int | None:
        """Return risk x spend, as the churn refresh stores it, or None when either is unknown."""
        if self.churn_risk is None or self.spent_cents is None:
            return None
        return round(self.churn_risk * self.spent_cents)

    def changed_columns(self) -> dict[str, Any]:
        """Return the customer's columns the returns changed, by name."""
        columns: dict[str, Any] = {"churn_risk": self.churn_risk, "churn_explanation": self.explanation}
        if self.status is not self.loaded_status:
            columns["status"] = self.status
        if self.value_at_risk_cents != self.loaded_value_at_risk_cents:
            columns["churn_value_at_risk_cents"] = self.value_at_risk_cents
        return columns


@dataclass(slots=True)
class AddressState:
    """A printed address as loaded (``loaded``: validity and currency) and as the returns leave it."""

    id: int
    customer_id: int
    validity: AddressValidity
    is_current: bool
    fingerprint: str
    confirmed_at: datetime | None
    loaded: tuple[AddressValidity, bool] | None = None

    @property
    def changed(self) -> bool:
        """Tell whether the returns left the address otherwise than it was loaded."""
        return self.loaded != (self.validity, self.is_current)

    def changed_columns(self) -> dict[str, Any]:
        """Return the address's columns the returns changed, by name."""
        columns: dict[str, Any] = {}
        if self.loaded is None or self.validity is not self.loaded[0]:
            columns["validity"] = self.validity
        if self.loaded is None or self.is_current is not self.loaded[1]:
            columns["is_current"] = self.is_current
        return columns


@dataclass(slots=True)
class EarlierReturn:
    """A return already stored for a piece, with what it did."""

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
class SoftReturn:
    """A soft return that counts toward an address's escalation; no id while not yet stored."""

    returned_at: datetime
    return_id: int | None = None


@dataclass(slots=True)
class ChunkState:
    """Everything the returns of one chunk read: pieces by code, the rest by id."""

    pieces: dict[str, Piece]
    customers: dict[int, CustomerState]
    # Only the printed addresses: a return never changes another one (they may be superseded).
    addresses: dict[int, AddressState]
    # Earlier returns by piece id, oldest first.
    history: dict[int, list[EarlierReturn]] = field(default_factory=lambda: defaultdict(list))
    # Soft returns counting toward escalation, by address id.
    soft: dict[int, list[SoftReturn]] = field(default_factory=lambda: defaultdict(list))


@dataclass(slots=True)
class Effects:
    """What the decided returns write."""

    new_returns: list[dict[str, Any]] = field(default_factory=list)
    # Customer ids whose new address a new return (by position) brought.
    moved_by_return: dict[int, int] = field(default_factory=dict)
    retired_returns: list[int] = field(default_factory=list)
    # New current addresses (lifecycle.address_row) by customer: at most one each, as the printed
    # address is no longer current once a move superseded it.
    new_addresses: dict[int, dict[str, Any]] = field(default_factory=dict)
    # History rows; a None address id is the new address of the customer named in the row.
    events: list[dict[str, Any]] = field(default_factory=list)
    flag_batches: set[int] = field(default_factory=set)
    recheck_batches: set[int] = field(default_factory=set)
    status_changes: list[tuple[CustomerState, CustomerStatus, CustomerStatus, str]] = field(default_factory=list)
    # Audit rows of the customers whose address a return changed.
    address_audits: list[dict[str, Any]] = field(default_factory=list)


class Decisions:
    """The returns of one chunk, decided in order against its state."""

    def __init__(self, state: ChunkState, settings: Settings) -> None:
        self.state = state
        self.settings = settings
        self.today = settings.now.date()
        self.effects = Effects()

    def decide(self, request: ReturnRequest) -> ReturnOutcome:
        """Decide one return, changing the state and adding its effects; raise ReturnError if it cannot be."""
        state, effects = self.state, self.effects
        piece = state.pieces.get(request.piece_code)
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
        customer = state.customers[piece.customer_id]
        address = state.addresses[piece.address_id]
        reason = request.reason
        history = state.history[piece.id]
        current = next((r for r in history if r.is_current), None)

        if request.undo:
            return self._undo(request, piece, customer, address, current)
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
            effects.flag_batches.add(piece.batch_id)

        changed_validity = address.validity is not validity_before
        effects.new_returns.append(
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
            effects.moved_by_return[len(effects.new_returns) - 1] = customer.id
        if address.validity is not validity_at_start:
            self._history_rows(
                request, piece, address, validity_at_start, escalated=escalated, moved=moved,
                corrected=REASONS.get(current.reason) if current is not None else None,
            )
            effects.address_audits.append(
                {
                    "actor": self.settings.actor, "action": "customer.address_return", "object_type": "customer",
                    "object_id": customer.customer_no, "created_at": self.settings.now,
                    # What changed and why; the address itself stays in the address history.
                    "detail": {
                        "piece_code": piece.code, "reason": reason.code, "source": self.settings.source.value,
                        "validity": lifecycle.validity_pair(validity_at_start, address.validity), "new_address": moved,
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

    def _undo(
        self,
        request: ReturnRequest,
        piece: Piece,
        customer: CustomerState,
        address: AddressState,
        current: EarlierReturn | None,
    ) -> ReturnOutcome:
        """Take back the piece's current return (scanned by mistake); it stays in the history, corrected."""
        reason = request.reason
        code = display_piece_code(piece.code)
        if current is None or current.reason != reason.code:
            # Only the return the clerk saw: never one another station recorded or corrected since.
            raise ReturnConflict(
                Message(
                    "Piece %(code)s is not recorded as %(reason)s now: there is nothing of that to undo.",
                    code=code, reason=reason.code,
                )
            )
        if current.new_address_id is not None:
            raise ReturnConflict(
                Message(
                    "Piece %(code)s brought a new address, which is now the customer's address. Correct the "
                    "address on the customer's page instead.",
                    code=code,
                )
            )
        validity_at_start = address.validity
        self._take_back(current, piece, customer, address)
        if address.validity is not validity_at_start:
            self.effects.events.append(
                lifecycle.validity_event(
                    address_id=address.id, customer_id=address.customer_id, before=validity_at_start,
                    after=address.validity, source=self.settings.change_source, actor=self.settings.actor,
                    now=self.settings.now,
                    note=Message(
                        "returned mail undone: %(code)s (%(reason)s), piece %(piece)s",
                        code=reason.code, reason=reason.label_en, piece=code,
                    ),
                )
            )
        self.effects.address_audits.append(
            {
                "actor": self.settings.actor, "action": "customer.address_return_undone", "object_type": "customer",
                "object_id": customer.customer_no, "created_at": self.settings.now,
                "detail": {
                    "piece_code": piece.code, "reason": reason.code, "source": self.settings.source.value,
                    "validity": lifecycle.validity_pair(validity_at_start, address.validity),
                },
            }
        )
        return self._outcome(piece, customer, address, reason, validity_at_start, undone=True)

    def _take_back(self, current: EarlierReturn, piece: Piece, customer: CustomerState, address: AddressState) -> None:
        """Undo what an earlier return of this piece did, where nothing has changed it since."""
        old = REASONS.get(current.reason)
        current.is_current = False
        self.effects.retired_returns.append(current.id)
        soft = self.state.soft
        soft[address.id] = [s for s in soft[address.id] if s.return_id != current.id]
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
            self.effects.recheck_batches.add(piece.batch_id)

    def _apply_to_address(
        self, request: ReturnRequest, customer: CustomerState, address: AddressState
    ) -> tuple[bool, bool, str | None]:
        """Apply the reason to the printed address; return (escalated, moved, why left alone)."""
        reason = request.reason
        if reason.is_soft and request.change_address:
            recent = self._recent_soft_return(address, request.returned_at)
            self.state.soft[address.id].append(SoftReturn(request.returned_at))
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
            self.effects.new_addresses[customer.id] = lifecycle.address_row(
                customer_id=customer.id, address=request.new_address, validity=AddressValidity.UNVERIFIED,
                source=self.settings.forwarding_source, now=self.settings.now,
            )
            return False, True, None
        return False, False, None

    def _recent_soft_return(self, address: AddressState, returned_at: datetime) -> bool:
        window = self.settings.window
        return any(
            abs(soft.returned_at - returned_at) <= window
            and (address.confirmed_at is None or soft.returned_at >= address.confirmed_at)
            for soft in self.state.soft[address.id]
        )

    def _apply_to_customer(
        self, request: ReturnRequest, customer: CustomerState, piece: Piece
    ) -> CustomerStatus | None:
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

    def _set_status(self, customer: CustomerState, status: CustomerStatus, why: str) -> None:
        self.effects.status_changes.append((customer, customer.status, status, why))
        customer.status = status
        customer.changed = True

    def _apply_to_churn(
        self, request: ReturnRequest, customer: CustomerState
    ) -> tuple[float | None, float | None]:
        """Move the stored churn risk by the reason's weight; return the risk before and after."""
        reason = request.reason
        if not reason.moves_churn or customer.churn_risk == 1.0:
            return None, None
        before = customer.churn_risk
        item = Evidence(label=reason.evidence_label, weight=reason.churn_weight, observed_on=request.returned_at.date())
        update_ = add_evidence(before, customer.explanation, item, as_of=self.today)
        customer.churn_risk, customer.explanation, customer.changed = update_.risk, update_.explanation, True
        return before, update_.risk

    def _history_rows(
        self,
        request: ReturnRequest,
        piece: Piece,
        address: AddressState,
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
        source, actor, now = self.settings.change_source, self.settings.actor, self.settings.now
        events = self.effects.events
        if moved:
            events.append(
                lifecycle.superseded_event(
                    address_id=address.id, customer_id=address.customer_id, validity_before=validity_at_start,
                    source=source, actor=actor, now=now, note=note,
                )
            )
            if request.new_address is not None:
                events.append(
                    lifecycle.created_event(
                        customer_id=address.customer_id, address=request.new_address,
                        source=self.settings.forwarding_source, actor=actor, now=now, note=note,
                    )
                )
        else:
            events.append(
                lifecycle.validity_event(
                    address_id=address.id, customer_id=address.customer_id, before=validity_at_start,
                    after=address.validity, source=source, actor=actor, now=now, note=note,
                )
            )

    def _outcome(
        self,
        piece: Piece,
        customer: CustomerState,
        address: AddressState,
        reason: Reason,
        previous: AddressValidity,
        **extra: Any,
    ) -> ReturnOutcome:
        return ReturnOutcome(
            piece_code=piece.code, batch_id=piece.batch_id, customer_no=customer.customer_no,
            customer_name=customer.name, lines=list(piece.lines), reason=reason, previous_validity=previous,
            validity=address.validity, customer_status=customer.status, churn_risk=customer.churn_risk, **extra,
        )
