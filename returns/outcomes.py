"""What a return asks for, what recording it did, and why it could not be recorded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailer.addresses.models import AddressValidity
from mailer.addresses.service import CleanAddress
from mailer.batches.piece_codes import display_piece_code
from mailer.customers.models import CustomerStatus
from mailer.messages import Message, join
from returns.catalog import REASONS, CustomerEffect, Reason


class ReturnError(ValueError):
    """A return cannot be recorded as asked; the message tells a clerk what to do."""


class PieceNotFound(ReturnError):
    """The code is not one of our pieces: mistyped, misread, or never mailed."""


class UnknownReason(ReturnError):
    """The reason is none of the catalog's codes, USPS letters or Chinese labels."""


class ReturnConflict(ReturnError):
    """The return cannot be changed this way; someone must look at the customer."""


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    """One return to record, checked: a canonical piece code and a catalog reason."""

    piece_code: str
    reason: Reason
    # The reason as given (our code, a USPS letter, a Chinese label), kept on the return.
    given_as: str
    returned_at: datetime
    new_address: CleanAddress | None = None
    change_address: bool = True
    note: str | None = None
    # Take back the piece's current return of this reason instead of recording one.
    undo: bool = False


@dataclass(frozen=True, slots=True)
class ReturnOutcome:
    """What recording one return did, for the clerk's screen and the API's answer."""

    piece_code: str
    batch_id: int
    customer_no: str
    customer_name: str
    # The address block as printed on the envelope (name first).
    lines: list[str]
    reason: Reason
    previous_validity: AddressValidity
    validity: AddressValidity
    customer_status: CustomerStatus
    churn_risk: float | None
    already_recorded: bool = False
    # The reason code this return replaced, when it corrected an earlier one.
    corrected_from: str | None = None
    escalated: bool = False
    moved_to: dict[str, str | None] | None = None
    batch_flagged: bool = False
    # Why the address was left alone although the reason would change it.
    address_note: str | None = None
    # The return of this reason was taken back (an undo, kept in the history as corrected).
    undone: bool = False

    @property
    def corrected(self) -> bool:
        """Tell whether this return corrected an earlier reason."""
        return self.corrected_from is not None

    @property
    def display_code(self) -> str:
        """Return the piece code as printed."""
        return display_piece_code(self.piece_code)

    @property
    def message(self) -> Message:
        """Return one clerk-readable summary."""
        label = f"“{self.reason.label_en} / {self.reason.label_zh}”"
        if self.undone:
            head = Message(
                "Undone: piece %(code)s is no longer recorded as %(reason)s; the history keeps it as corrected.",
                code=self.display_code, reason=label,
            )
            return join(" ", [head, *self._effects()])
        if self.already_recorded:
            return Message(
                "Already recorded: piece %(code)s came back %(reason)s. Nothing changed.",
                code=self.display_code, reason=label,
            )
        if self.corrected_from is not None:
            old = f"“{REASONS[self.corrected_from].label_en}”"
            head = Message(
                "Corrected: piece %(code)s is now %(reason)s instead of %(old)s.",
                code=self.display_code, reason=label, old=old,
            )
        else:
            head = Message(
                "Recorded: piece %(code)s for %(name)s came back %(reason)s.",
                code=self.display_code, name=self.customer_name, reason=label,
            )
        return join(" ", [head, *self._effects()])

    def as_dict(self) -> dict[str, Any]:
        """Return what the recording did as plain data (the API's answer, ``--json``)."""
        reason = self.reason
        return {
            "status": (
                "undone" if self.undone else "already_recorded" if self.already_recorded
                else "corrected" if self.corrected else "recorded"
            ),
            "already_recorded": self.already_recorded,
            "undone": self.undone,
            "corrected": self.corrected,
            "corrected_from": self.corrected_from,
            "message": self.message,
            "piece": {"code": self.display_code, "batch_id": self.batch_id, "lines": self.lines},
            "reason": {"code": reason.code, "label_en": reason.label_en, "label_zh": reason.label_zh},
            "address": {
                "previous_validity": self.previous_validity.value,
                "validity": self.validity.value,
                "escalated": self.escalated,
                "moved_to": self.moved_to,
                "left_alone_because": self.address_note,
            },
            "customer": {
                "customer_no": self.customer_no,
                "name": self.customer_name,
                "status": self.customer_status.value,
                "churn_risk": self.churn_risk,
            },
            "batch": {"id": self.batch_id, "print_problem": self.batch_flagged},
        }

    def _effects(self) -> Iterable[Message]:
        if self.moved_to is not None:
            yield Message("The new address is now the customer's address.")
        elif self.escalated:
            yield Message("Second soft return within the window: the address is now undeliverable.")
        elif self.validity is not self.previous_validity:
            # The pages' catalog names every validity by its stored value.
            yield Message("The address is now %(validity)s.", validity=Message(self.validity.value))
        elif self.address_note:
            yield Message("The address was left alone: %(why)s.", why=self.address_note)
        if self.reason.customer_effect is CustomerEffect.DECEASED:
            yield Message("The customer is marked deceased and will not be mailed again.")
        elif self.reason.customer_effect is CustomerEffect.DO_NOT_MAIL:
            yield Message("The customer refused: no more catalogs.")
        if self.batch_flagged:
            yield Message(
                "Batch %(batch_id)s is flagged for a printing problem; the address is not blamed.",
                batch_id=self.batch_id,
            )
