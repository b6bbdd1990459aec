"""Undoing the last scan of a piece: its effects taken back, the return kept in the history as corrected."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.models import AddressValidity
from mailer.audit.models import AuditEntry
from mailer.customers.models import CustomerStatus
from returns.models import ReturnSource
from returns.service import ReturnConflict, undo_return
from tests.returns.conftest import address_of, customer, history, mail_customers
from tests.returns.test_service import returns_of, scan


def undo(session: Session, piece_code: str, reason: str, now: datetime):  # type: ignore[no-untyped-def]
    return undo_return(session, piece_code=piece_code, reason=reason, source=ReturnSource.SCAN, actor="clerk", now=now)


def test_an_undo_takes_back_the_return_and_keeps_it_as_corrected(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1", churn_risk=0.4)["C1"]
    scan(session, piece.piece_code, "REF", now)
    assert customer(session, "C1").status is CustomerStatus.DO_NOT_MAIL

    undone = undo(session, piece.piece_code, "REF", now + timedelta(minutes=1))

    assert undone.undone and undone.as_dict()["status"] == "undone"
    assert undone.message.startswith(f"Undone: piece {undone.display_code} is no longer recorded")
    (kept,) = returns_of(session, piece.id)
    assert (kept.reason, kept.is_current) == ("REF", False)
    stored = customer(session, "C1")
    assert stored.status is CustomerStatus.ACTIVE and stored.churn_risk == pytest.approx(0.4)
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.address_return_undone")).one()
    assert audit.detail["reason"] == "REF" and audit.object_id == "C1"

    # Scanned again afterwards, the piece is a new return, not "already recorded".
    again = scan(session, piece.piece_code, "ANK", now + timedelta(minutes=2))
    assert not again.already_recorded and not again.corrected


def test_an_undo_puts_the_address_back_with_a_history_row(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]
    scan(session, piece.piece_code, "ANK", now)

    undo(session, piece.piece_code, "ANK", now)

    assert address_of(session, piece).validity is AddressValidity.DELIVERABLE
    last = history(session, "C1")[-1]
    assert last.changes["validity"] == ["undeliverable", "deliverable"]
    assert (last.note or "").startswith("returned mail undone: ANK")


def test_only_the_return_the_clerk_saw_is_undone(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]
    with pytest.raises(ReturnConflict, match="nothing of that to undo"):
        undo(session, piece.piece_code, "ANK", now)
    scan(session, piece.piece_code, "ANK", now)
    scan(session, piece.piece_code, "VAC", now + timedelta(minutes=1))  # corrected since, elsewhere

    with pytest.raises(ReturnConflict, match="not recorded as ANK"):
        undo(session, piece.piece_code, "ANK", now + timedelta(minutes=2))
    assert [r.is_current for r in returns_of(session, piece.id)] == [False, True]


def test_a_move_with_its_new_address_is_not_undone_here(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]
    new_address = {"line1": "9 Elm Road", "city": "Springfield", "region": "IL", "postal_code": "62704"}
    new_address["country"] = "US"
    scan(session, piece.piece_code, "MOVED", now, new_address=new_address)

    with pytest.raises(ReturnConflict, match="Correct the address on the customer's page"):
        undo(session, piece.piece_code, "MOVED", now)
