"""Recording returns: each reason's effects, escalation, corrections, rescans, and putting flags right."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEventKind, AddressValidity, AddressVerification, ChangeSource
from mailer.audit.models import AuditEntry
from mailer.batches.models import MailPiece
from mailer.batches.piece_codes import display_piece_code
from mailer.batches.selection import BatchFilters, create_batch
from mailer.churn.evidence import SELF_UPDATE_WEIGHT
from mailer.customers.models import Customer, CustomerStatus
from returns import recording, service
from returns.catalog import REASONS, AddressEffect, BatchEffect, CustomerEffect, Reason
from returns.decide import ChunkState
from returns.models import MailReturn, ReturnSource
from returns.service import (
    PieceNotFound,
    ReturnConflict,
    ReturnError,
    UnknownReason,
    clear_flag,
    confirm_address,
    record_return,
)
from tests.factories import CN_ROW, add_customer
from tests.returns.conftest import MAILED_AT, address_of, batch_of, current_address, customer, history, mail_customers

NEW_ADDRESS = {
    "line1": "500 Elm Avenue", "line2": "", "city": "Chicago", "region": "IL", "postal_code": "60601", "country": "US",
}


def scan(session: Session, piece_code: str, reason: str, now: datetime, **kwargs: object):  # type: ignore[no-untyped-def]
    """Record a return as a mailroom scan."""
    options: dict[str, object] = {"source": ReturnSource.SCAN, "actor": "clerk@example.com", "now": now}
    options.update(kwargs)
    return record_return(session, piece_code=piece_code, reason=reason, **options)  # type: ignore[arg-type]


def expected_risk(before: float, weight: float) -> float:
    odds = before / (1 - before) * weight
    return odds / (1 + odds)


def returns_of(session: Session, piece_id: int) -> list[MailReturn]:
    return list(session.scalars(select(MailReturn).where(MailReturn.piece_id == piece_id).order_by(MailReturn.id)))


# --- every reason ---------------------------------------------------------------------------------


def _expected_validity(reason: Reason) -> AddressValidity:
    effect = reason.address_effect
    if effect is AddressEffect.SUPERSEDED and reason.without_new_address:
        # Without a forwarding address a move is what the catalog's fallback says.
        return _expected_validity(REASONS[reason.without_new_address])
    return {
        AddressEffect.UNDELIVERABLE: AddressValidity.UNDELIVERABLE,
        AddressEffect.SUSPECT: AddressValidity.SUSPECT,
        AddressEffect.NONE: AddressValidity.DELIVERABLE,
    }[effect]


def address_audits(session: Session) -> list[AuditEntry]:
    """The audit rows of addresses changed by returns, oldest first."""
    return list(session.scalars(
        select(AuditEntry).where(AuditEntry.action == "customer.address_return").order_by(AuditEntry.id)
    ))


@pytest.mark.parametrize("reason", list(REASONS.values()), ids=lambda r: r.code)
def test_each_reason_has_the_catalogs_effects(session: Session, now: datetime, reason: Reason) -> None:
    piece = mail_customers(session, "C1", churn_risk=0.4)["C1"]

    outcome = scan(session, piece.piece_code, reason.code, now)

    applied = REASONS[reason.without_new_address] if reason.without_new_address else reason
    stored = customer(session, "C1")
    address = address_of(session, piece)
    assert outcome.reason.code == applied.code and not outcome.already_recorded
    assert address.validity is _expected_validity(reason) is outcome.validity
    assert outcome.previous_validity is AddressValidity.DELIVERABLE
    assert stored.status is {
        CustomerEffect.DECEASED: CustomerStatus.DECEASED,
        CustomerEffect.DO_NOT_MAIL: CustomerStatus.DO_NOT_MAIL,
        CustomerEffect.NONE: CustomerStatus.ACTIVE,
    }[applied.customer_effect]
    if applied.is_terminal:
        assert stored.churn_risk == 1.0
    elif applied.churn_weight == 1:
        assert stored.churn_risk == 0.4 and stored.churn_explanation is None
    else:
        assert stored.churn_risk == pytest.approx(expected_risk(0.4, applied.churn_weight))
        assert stored.churn_explanation is not None
        assert any(line["label"] == f"Returned mail: {applied.label_en}" for line in stored.churn_explanation)
        assert stored.churn_explanation[-1]["kind"] == "result"
    assert outcome.churn_risk == stored.churn_risk
    assert batch_of(session, piece).print_problem is (applied.batch_effect is BatchEffect.FLAG_PRINT)

    (row,) = returns_of(session, piece.id)
    assert (row.reason, row.given_as, row.is_current, row.source) == (
        applied.code, reason.code, True, ReturnSource.SCAN,
    )
    events = [e for e in history(session, "C1") if e.kind is AddressEventKind.VALIDITY]
    if address.validity is AddressValidity.DELIVERABLE:
        assert events == []
    else:
        (event,) = events
        assert event.changes == {"validity": ["deliverable", address.validity.value]}
        assert event.source is ChangeSource.RETURN_SCAN and event.actor == "clerk@example.com"
        assert applied.code in (event.note or "")


def test_a_reason_may_be_given_as_a_usps_letter_or_a_chinese_label(session: Session, now: datetime) -> None:
    pieces = mail_customers(session, "C1", "C2", "C3")

    by_letter = scan(session, pieces["C1"].piece_code, "v", now)
    by_label = scan(session, pieces["C2"].piece_code, "拒收", now)
    by_other_label = scan(session, pieces["C3"].piece_code, "查无此人", now)

    assert (by_letter.reason.code, by_label.reason.code, by_other_label.reason.code) == ("VAC", "REF", "ANK")
    assert returns_of(session, pieces["C2"].id)[0].given_as == "拒收"


def test_a_refusal_leaves_the_address_alone_and_stops_catalogs(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]

    outcome = scan(session, piece.piece_code, "REF", now)

    assert address_of(session, piece).validity is AddressValidity.DELIVERABLE
    assert customer(session, "C1").status is CustomerStatus.DO_NOT_MAIL
    assert "no more catalogs" in outcome.message
    (audit,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.status"))
    assert audit.object_id == "C1" and audit.detail["status"] == ["active", "do_not_mail"]


def test_an_illegible_print_flags_the_batch_and_blames_nobody(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]

    outcome = scan(session, piece.piece_code, "ILL", now)

    assert batch_of(session, piece).print_problem
    assert address_of(session, piece).validity is AddressValidity.DELIVERABLE
    assert customer(session, "C1").churn_risk == 0.4
    assert outcome.batch_flagged and "printing problem" in outcome.message


def test_a_never_scored_customer_starts_from_the_stated_prior(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1", churn_risk=None)["C1"]

    scan(session, piece.piece_code, "VAC", now)

    stored = customer(session, "C1")
    assert stored.churn_risk == pytest.approx(expected_risk(0.5, REASONS["VAC"].churn_weight))
    assert stored.churn_explanation is not None
    assert [line["kind"] for line in stored.churn_explanation] == ["prior", "evidence", "result"]


def test_a_return_keeps_the_retention_lists_value_at_risk_in_step(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]
    stored = customer(session, "C1")
    stored.churn_spent_cents = 20_000
    stored.churn_value_at_risk_cents = round(0.4 * 20_000)
    session.flush()

    scan(session, piece.piece_code, "MLNA", now)

    stored = customer(session, "C1")
    assert stored.churn_risk is not None and stored.churn_risk > 0.4
    assert stored.churn_value_at_risk_cents == round(stored.churn_risk * 20_000)


def test_an_older_return_counts_faded_like_the_churn_refresh_counts_it(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1", churn_risk=0.4)["C1"]

    scan(session, piece.piece_code, "VAC", now, returned_at=now - timedelta(days=365))

    faded_weight = math.sqrt(REASONS["VAC"].churn_weight)  # one half-life later, √w
    assert customer(session, "C1").churn_risk == pytest.approx(expected_risk(0.4, faded_weight))


# --- moves ----------------------------------------------------------------------------------------


def test_a_move_with_a_forwarding_address_makes_it_current(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]

    outcome = scan(session, piece.piece_code, "MOVED", now, new_address=NEW_ADDRESS)

    old = address_of(session, piece)
    new = current_address(session, "C1")
    assert (old.validity, old.is_current) == (AddressValidity.SUPERSEDED, False)
    assert (new.line1, new.city, new.validity) == ("500 Elm Avenue", "Chicago", AddressValidity.UNVERIFIED)
    assert (new.verification, new.verification_reason) == (AddressVerification.VERIFIED, "ZIP 60601 is Chicago, IL")
    assert outcome.moved_to is not None and outcome.moved_to["line1"] == "500 Elm Avenue"
    (row,) = returns_of(session, piece.id)
    assert row.reason == "MOVED" and row.new_address_id == new.id
    kinds = [(e.kind, e.address_id, e.source) for e in history(session, "C1")]
    assert kinds == [
        (AddressEventKind.SUPERSEDED, old.id, ChangeSource.RETURN_SCAN),
        (AddressEventKind.CREATED, new.id, ChangeSource.POST_OFFICE),
    ]
    (audit,) = address_audits(session)
    assert (audit.object_type, audit.object_id) == ("customer", "C1")
    assert audit.detail == {
        "piece_code": piece.piece_code, "reason": "MOVED", "source": "scan",
        "validity": ["deliverable", "superseded"], "new_address": True, "corrects": None,
    }


def test_a_move_without_an_address_is_recorded_as_moved_left_no_address(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]

    outcome = scan(session, piece.piece_code, "已迁新址", now)

    assert outcome.reason.code == "MLNA"
    assert address_of(session, piece).validity is AddressValidity.UNDELIVERABLE
    (row,) = returns_of(session, piece.id)
    assert (row.reason, row.given_as) == ("MLNA", "已迁新址")


def test_a_forwarding_address_is_checked_like_any_address(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]

    with pytest.raises(ReturnError, match="new address is not usable: postal code '1' does not fit US"):
        scan(session, piece.piece_code, "MOVED", now, new_address={**NEW_ADDRESS, "postal_code": "1"})
    with pytest.raises(ReturnError, match="only comes with a move"):
        scan(session, piece.piece_code, "VAC", now, new_address=NEW_ADDRESS)
    assert returns_of(session, piece.id) == []


def test_a_return_on_an_address_no_longer_current_changes_no_address(session: Session, now: datetime) -> None:
    pieces = mail_customers(session, "C1")
    later = mail_customers(session, "C1", campaign="Summer 2027")
    scan(session, pieces["C1"].piece_code, "MOVED", now, new_address=NEW_ADDRESS)

    outcome = scan(session, later["C1"].piece_code, "VAC", now)

    assert current_address(session, "C1").validity is AddressValidity.UNVERIFIED
    assert outcome.address_note == "the customer has another address now"
    assert "left alone" in outcome.message


# --- soft returns ---------------------------------------------------------------------------------


def test_a_second_soft_return_within_the_window_makes_it_undeliverable(session: Session, now: datetime) -> None:
    first = mail_customers(session, "C1")["C1"]
    second = mail_customers(session, "C1", campaign="Summer 2027")["C1"]

    one = scan(session, first.piece_code, "UNC", now - timedelta(days=100))
    two = scan(session, second.piece_code, "OTH", now, window_days=180)

    assert one.validity is AddressValidity.SUSPECT and not one.escalated
    assert two.validity is AddressValidity.UNDELIVERABLE and two.escalated
    validity_events = [e for e in history(session, "C1") if e.kind is AddressEventKind.VALIDITY]
    assert [e.changes["validity"] for e in validity_events] == [
        ["deliverable", "suspect"], ["suspect", "undeliverable"],
    ]
    assert "second soft return within 180 days" in (validity_events[-1].note or "")


def test_soft_returns_further_apart_than_the_window_stay_suspect(session: Session, now: datetime) -> None:
    first = mail_customers(session, "C1")["C1"]
    second = mail_customers(session, "C1", campaign="Summer 2027")["C1"]

    scan(session, first.piece_code, "UNC", now - timedelta(days=181))
    two = scan(session, second.piece_code, "UNC", now, window_days=180)

    assert two.validity is AddressValidity.SUSPECT and not two.escalated


def test_the_window_is_the_callers_setting(session: Session, now: datetime) -> None:
    first = mail_customers(session, "C1")["C1"]
    second = mail_customers(session, "C1", campaign="Summer 2027")["C1"]

    scan(session, first.piece_code, "UNC", now - timedelta(days=40))
    two = scan(session, second.piece_code, "UNC", now, window_days=30)

    assert two.validity is AddressValidity.SUSPECT


def test_temporarily_away_is_soft_but_no_churn_signal(session: Session, now: datetime) -> None:
    first = mail_customers(session, "C1", churn_risk=0.4)["C1"]
    second = mail_customers(session, "C1", campaign="Summer 2027")["C1"]

    scan(session, first.piece_code, "TA", now - timedelta(days=10))
    two = scan(session, second.piece_code, "TA", now)

    assert two.validity is AddressValidity.UNDELIVERABLE
    assert customer(session, "C1").churn_risk == 0.4


# --- confirmations and cleared flags --------------------------------------------------------------


def test_a_confirmation_makes_the_address_deliverable_and_restarts_the_count(session: Session, now: datetime) -> None:
    first = mail_customers(session, "C1")["C1"]
    second = mail_customers(session, "C1", campaign="Summer 2027")["C1"]
    scan(session, first.piece_code, "VAC", now - timedelta(days=20))
    address = address_of(session, first)

    change = confirm_address(session, address_id=address.id, via=ChangeSource.ORDER, actor="orders")

    session.refresh(address)
    assert (change.previous, change.validity) == (AddressValidity.UNDELIVERABLE, AddressValidity.DELIVERABLE)
    assert address.validity is AddressValidity.DELIVERABLE and address.confirmed_via is ChangeSource.ORDER
    assert address.confirmed_at is not None
    event = history(session, "C1")[-1]
    assert event.source is ChangeSource.ORDER and event.changes["validity"] == ["undeliverable", "deliverable"]

    # A soft return after the confirmation is a first one again.
    assert scan(session, second.piece_code, "UNC", datetime.now(now.tzinfo)).validity is AddressValidity.SUSPECT


def test_a_return_that_came_back_before_a_confirmation_leaves_the_address_alone(
    session: Session, now: datetime
) -> None:
    piece = mail_customers(session, "C1")["C1"]
    address = address_of(session, piece)
    confirm_address(session, address_id=address.id, via=ChangeSource.CUSTOMER, actor="customer")

    recorded_at = datetime.now(now.tzinfo)

    outcome = scan(session, piece.piece_code, "VAC", recorded_at, returned_at=recorded_at - timedelta(days=30))

    assert outcome.validity is AddressValidity.DELIVERABLE
    assert outcome.address_note == "it was confirmed after this piece came back"


def test_a_customers_own_confirmation_lowers_churn_risk(session: Session) -> None:
    piece = mail_customers(session, "C1", churn_risk=0.5)["C1"]

    confirm_address(session, address_id=piece.address_id, via=ChangeSource.CUSTOMER, actor="customer")

    assert customer(session, "C1").churn_risk == pytest.approx(expected_risk(0.5, SELF_UPDATE_WEIGHT))


def test_staff_clear_a_wrong_flag_back_to_what_it_was_before_the_returns(session: Session, now: datetime) -> None:
    first = mail_customers(session, "C1", validity=AddressValidity.UNVERIFIED)["C1"]
    second = mail_customers(session, "C1", campaign="Summer 2027")["C1"]
    scan(session, first.piece_code, "UNC", now - timedelta(days=5))
    scan(session, second.piece_code, "ANK", now)
    address = address_of(session, first)
    assert address.validity is AddressValidity.UNDELIVERABLE

    change = clear_flag(session, address_id=address.id, note="phoned: the neighbour took it in", actor="staff@x")

    session.refresh(address)
    assert (change.previous, change.validity) == (AddressValidity.UNDELIVERABLE, AddressValidity.UNVERIFIED)
    assert address.validity is AddressValidity.UNVERIFIED and address.line1 == "1 Oak Street"
    event = history(session, "C1")[-1]
    assert event.source is ChangeSource.STAFF and event.changes == {"validity": ["undeliverable", "unverified"]}
    assert event.note == "flag cleared: phoned: the neighbour took it in"
    assert session.scalar(select(func.count()).where(AuditEntry.action == "address.clear_flag")) == 1
    # The returns stay on record as churn evidence.
    assert session.scalar(select(func.count()).where(MailReturn.is_current)) == 2


def test_clearing_needs_a_reason_and_a_flag(session: Session) -> None:
    piece = mail_customers(session, "C1")["C1"]

    with pytest.raises(ReturnError, match="say why"):
        clear_flag(session, address_id=piece.address_id, note=" ", actor="staff")
    with pytest.raises(ReturnError, match="not flagged: it is deliverable"):
        clear_flag(session, address_id=piece.address_id, note="why not", actor="staff")


def test_a_return_may_be_logged_without_changing_the_address(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1", churn_risk=0.4)["C1"]

    outcome = scan(session, piece.piece_code, "ANK", now, change_address=False, source=ReturnSource.STAFF)

    assert address_of(session, piece).validity is AddressValidity.DELIVERABLE
    assert outcome.address_note == "logged without changing the address"
    assert customer(session, "C1").churn_risk == pytest.approx(expected_risk(0.4, REASONS["ANK"].churn_weight))
    (row,) = returns_of(session, piece.id)
    assert row.address_unchanged and row.source is ReturnSource.STAFF
    assert history(session, "C1") == [] and address_audits(session) == []


# --- rescans and corrections ----------------------------------------------------------------------


def test_scanning_a_piece_twice_records_it_once(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1", churn_risk=0.4)["C1"]
    scan(session, piece.piece_code, "VAC", now)
    risk = customer(session, "C1").churn_risk

    again = scan(session, piece.piece_code, "V", now + timedelta(minutes=3))

    assert again.already_recorded and again.message.startswith("Already recorded")
    assert len(returns_of(session, piece.id)) == 1
    assert customer(session, "C1").churn_risk == risk
    assert len(history(session, "C1")) == 1 and len(address_audits(session)) == 1


def test_a_different_reason_is_a_correction_kept_in_the_history(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1", churn_risk=0.4)["C1"]
    scan(session, piece.piece_code, "ANK", now)

    corrected = scan(session, piece.piece_code, "TA", now + timedelta(minutes=1))

    assert corrected.corrected and corrected.corrected_from == "ANK"
    assert corrected.message.startswith("Corrected")
    first, second = returns_of(session, piece.id)
    assert (first.reason, first.is_current) == ("ANK", False)
    assert (second.reason, second.is_current, second.corrects_id) == ("TA", True, first.id)
    # ANK's undeliverable is taken back; TA makes the address suspect.
    assert address_of(session, piece).validity is AddressValidity.SUSPECT
    assert [e.changes["validity"] for e in history(session, "C1")] == [
        ["deliverable", "undeliverable"], ["undeliverable", "suspect"],
    ]
    assert "correcting ANK" in (history(session, "C1")[-1].note or "")
    assert [(a.detail["validity"], a.detail["corrects"]) for a in address_audits(session)] == [
        (["deliverable", "undeliverable"], None), (["undeliverable", "suspect"], "ANK"),
    ]
    # ANK's churn weight is taken back; TA's is none.
    stored = customer(session, "C1")
    assert stored.churn_risk == pytest.approx(0.4)
    assert "corrected: taken back" in stored.churn_explanation[-2]["text"]  # type: ignore[index]


def test_correcting_a_deceased_return_restores_status_and_risk(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1", churn_risk=0.3)["C1"]
    scan(session, piece.piece_code, "DEC", now)
    assert customer(session, "C1").churn_risk == 1.0

    scan(session, piece.piece_code, "UNC", now)

    stored = customer(session, "C1")
    assert stored.status is CustomerStatus.ACTIVE
    assert stored.churn_risk == pytest.approx(expected_risk(0.3, REASONS["UNC"].churn_weight))
    assert address_of(session, piece).validity is AddressValidity.SUSPECT


def test_correcting_an_illegible_return_clears_the_batch_flag(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]
    scan(session, piece.piece_code, "ILL", now)

    scan(session, piece.piece_code, "VAC", now)

    assert not batch_of(session, piece).print_problem


def test_rescanning_the_corrected_reason_is_already_recorded(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]
    scan(session, piece.piece_code, "ANK", now)
    scan(session, piece.piece_code, "VAC", now + timedelta(minutes=1))

    again = scan(session, piece.piece_code, "VAC", now + timedelta(minutes=2))

    assert again.already_recorded and len(returns_of(session, piece.id)) == 2


def test_a_move_is_not_corrected_by_a_scan(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]
    scan(session, piece.piece_code, "MOVED", now, new_address=NEW_ADDRESS)

    with pytest.raises(ReturnConflict, match="Correct the address on the customer's page"):
        scan(session, piece.piece_code, "VAC", now)


# --- what a clerk may get wrong -------------------------------------------------------------------


def test_a_bad_check_character_is_refused_with_a_clerks_message(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]
    code = piece.piece_code
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")

    with pytest.raises(PieceNotFound, match=r"fails its check character.*Scan the code again"):
        scan(session, typo, "VAC", now)
    assert returns_of(session, piece.id) == []


def test_an_unknown_piece_is_refused(session: Session, now: datetime) -> None:
    mail_customers(session, "C1")

    with pytest.raises(PieceNotFound, match="No piece with code 0000-0000 was mailed"):
        scan(session, "0000-0000", "VAC", now)


def test_an_unknown_reason_is_refused_with_the_choices(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]

    with pytest.raises(UnknownReason, match=r"Unknown return reason 'XYZ'\. Use one of: ANK \(原址查无此人\)"):
        scan(session, piece.piece_code, "XYZ", now)


def test_a_return_from_the_future_is_refused(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]

    with pytest.raises(ReturnError, match="in the future"):
        scan(session, piece.piece_code, "VAC", now, returned_at=now + timedelta(days=3))


# --- what comes after -----------------------------------------------------------------------------


def test_a_batch_created_after_returns_leaves_the_bad_addresses_out(session: Session, now: datetime) -> None:
    pieces = mail_customers(session, "C1", "C2", "C3", "C4", "C5")
    scan(session, pieces["C1"].piece_code, "VAC", now)
    scan(session, pieces["C2"].piece_code, "DEC", now)
    scan(session, pieces["C3"].piece_code, "REF", now)
    scan(session, pieces["C4"].piece_code, "UNC", now)  # suspect: still mailed

    batch = create_batch(session, campaign_name="Summer 2027", profile="us-10", filters=BatchFilters(), actor="t")

    assert batch.piece_count == 2
    assert (batch.left_out["undeliverable"], batch.left_out["deceased"], batch.left_out["do_not_mail"]) == (1, 1, 1)


def test_returns_of_many_pieces_are_applied_in_order_in_one_go(session: Session, now: datetime) -> None:
    first = mail_customers(session, "C1", "C2")
    second = mail_customers(session, "C1", "C2", campaign="Summer 2027")
    requests = [
        service.prepare_return(piece_code=first["C1"].piece_code, reason="UNC", returned_at=now - timedelta(days=3)),
        service.prepare_return(piece_code=second["C1"].piece_code, reason="UNC", returned_at=now),
        service.prepare_return(piece_code=first["C2"].piece_code, reason="ANK", returned_at=now),
        service.prepare_return(piece_code=first["C2"].piece_code, reason="VAC", returned_at=now),
        service.prepare_return(piece_code=second["C2"].piece_code, reason="VAC", returned_at=now),
    ]

    results = service.apply_returns(session, requests, source=ReturnSource.POSTAL_FILE, actor="file", now=now)

    assert [getattr(r, "validity", None) for r in results] == [
        AddressValidity.SUSPECT, AddressValidity.UNDELIVERABLE, AddressValidity.UNDELIVERABLE,
        AddressValidity.UNDELIVERABLE, AddressValidity.UNDELIVERABLE,
    ]
    assert [getattr(r, "corrected_from", None) for r in results] == [None, None, None, "ANK", None]
    assert {e.source for e in history(session, "C1")} == {ChangeSource.POSTAL_FILE}


def test_a_concurrent_recording_met_at_write_time_is_read_again(
    session: Session, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    piece = mail_customers(session, "C1", churn_risk=0.4)["C1"]
    scan(session, piece.piece_code, "VAC", now)
    # As if another station's row had not been there when this one read: its insert hits the
    # one-current-return-per-piece index, the savepoint rolls back, and the retry reads it.
    real_load = recording._Chunk._load
    calls = []

    def stale_load(self: recording._Chunk) -> ChunkState:
        state = real_load(self)
        calls.append(1)
        if len(calls) == 1:
            state.history.clear()
        return state

    monkeypatch.setattr(recording._Chunk, "_load", stale_load)

    again = scan(session, piece.piece_code, "VAC", now + timedelta(minutes=1))

    assert again.already_recorded and len(calls) == 2
    assert len(returns_of(session, piece.id)) == 1
    assert customer(session, "C1").churn_risk == pytest.approx(expected_risk(0.4, REASONS["VAC"].churn_weight))


def test_a_chinese_address_moves_with_its_own_rules(session: Session, now: datetime) -> None:
    add_customer(session, "CN1", base=CN_ROW, validity=AddressValidity.DELIVERABLE)
    batch = create_batch(session, campaign_name="春季目录", profile="cn-dl", filters=BatchFilters(), actor="t")
    batch.created_at = MAILED_AT
    piece = session.scalar(select(MailPiece).where(MailPiece.batch_id == batch.id))
    assert piece is not None
    new = {"line1": "中山路88号", "city": "杭州市", "region": "浙江省", "postal_code": "310001", "country": "中国"}

    outcome = scan(session, piece.piece_code, "已迁新址", now, new_address=new)

    assert outcome.reason.code == "MOVED"
    assert current_address(session, "CN1").country == "CN"


def test_a_return_from_before_the_piece_was_mailed_is_refused_and_changes_nothing(
    session: Session, now: datetime
) -> None:
    piece = mail_customers(session, "C1")["C1"]
    code = display_piece_code(piece.piece_code)

    expected = rf"Piece {code} cannot have come back on 1900-01-01T00:00:00\+00:00: its batch"
    with pytest.raises(ReturnError, match=expected):
        scan(session, piece.piece_code, "ANK", now, returned_at=datetime(1900, 1, 1, tzinfo=UTC))

    assert address_of(session, piece).validity is AddressValidity.DELIVERABLE
    assert returns_of(session, piece.id) == []


def test_a_return_dated_outside_what_can_be_stored_is_refused(session: Session, now: datetime) -> None:
    piece = mail_customers(session, "C1")["C1"]
    first_day = datetime.fromisoformat("0001-01-01T00:00:00+05:00")

    with pytest.raises(ReturnError, match=r"returned_at 0001-01-01T00:00:00\+05:00 of piece .* cannot be stored"):
        scan(session, piece.piece_code, "UNC", now, returned_at=first_day)

    assert returns_of(session, piece.id) == []


def test_objects_already_in_the_session_read_what_a_return_wrote(session: Session) -> None:
    piece = mail_customers(session, "C1")["C1"]
    held_customer = session.scalar(select(Customer).where(Customer.customer_no == "C1"))
    held_address = session.get_one(Address, piece.address_id)
    assert held_customer is not None
    validity_before = held_address.validity

    scan(session, piece.piece_code, "DEC", MAILED_AT + timedelta(days=3))

    # Not refreshed by hand: the bulk writes expired them, so they load the stored rows again.
    assert held_customer.status is CustomerStatus.DECEASED
    assert (validity_before, held_address.validity) == (AddressValidity.DELIVERABLE, AddressValidity.UNDELIVERABLE)
