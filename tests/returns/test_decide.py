"""Deciding what returns do, on plain state: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailer.addresses.models import AddressEventKind, AddressValidity, ChangeSource
from mailer.addresses.service import CleanAddress, clean_address
from mailer.customers.models import CustomerStatus
from returns.catalog import REASONS
from returns.decide import (
    AddressState,
    ChunkState,
    CustomerState,
    Decisions,
    EarlierReturn,
    Piece,
    Settings,
    SoftReturn,
)
from returns.models import ReturnSource
from returns.outcomes import PieceNotFound, ReturnConflict, ReturnError, ReturnRequest
from tests.factories import US_ROW

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
MAILED_AT = datetime(2026, 6, 1, tzinfo=UTC)
RETURNED_AT = datetime(2026, 10, 1, tzinfo=UTC)
CODE = "7KQ4MZ2D"
SETTINGS = Settings(source=ReturnSource.POSTAL_FILE, actor="file", window=timedelta(days=180), now=NOW)


def _state(
    *,
    validity: AddressValidity = AddressValidity.DELIVERABLE,
    is_current: bool = True,
    confirmed_at: datetime | None = None,
    status: CustomerStatus = CustomerStatus.ACTIVE,
    history: list[EarlierReturn] | None = None,
    soft: list[SoftReturn] | None = None,
) -> ChunkState:
    state = ChunkState(
        pieces={CODE: Piece(11, CODE, 3, 7, 5, ["PAT SMITH", "12 OAK ST"], MAILED_AT)},
        customers={7: CustomerState(7, "C7", "Pat Smith", status, 0.4, None)},
        addresses={5: AddressState(5, 7, validity, is_current, "f" * 32, confirmed_at, loaded=(validity, is_current))},
    )
    state.history[11] = history or []
    state.soft[5] = soft or []
    return state


def _request(reason: str, *, returned_at: datetime = RETURNED_AT, **extra: object) -> ReturnRequest:
    return ReturnRequest(piece_code=CODE, reason=REASONS[reason], given_as=reason, returned_at=returned_at,
                         **extra)  # type: ignore[arg-type]


def _moved_to() -> CleanAddress:
    cleaned = clean_address({**US_ROW, "line1": "500 Elm Avenue"})
    assert isinstance(cleaned, CleanAddress)
    return cleaned


def test_a_hard_return_makes_the_address_undeliverable_with_history_audit_and_churn() -> None:
    state = _state()
    decisions = Decisions(state, SETTINGS)

    outcome = decisions.decide(_request("VAC"))

    effects = decisions.effects
    assert (outcome.previous_validity, outcome.validity) == (AddressValidity.DELIVERABLE, AddressValidity.UNDELIVERABLE)
    assert state.addresses[5].validity is AddressValidity.UNDELIVERABLE and state.addresses[5].changed
    (event,) = effects.events
    assert (event["address_id"], event["kind"], event["changes"], event["source"], event["actor"]) == (
        5, AddressEventKind.VALIDITY, {"validity": ["deliverable", "undeliverable"]}, ChangeSource.POSTAL_FILE, "file",
    )
    assert event["note"].startswith("returned mail: VAC (Vacant), piece")
    (row,) = effects.new_returns
    assert (row["validity_before"], row["validity_after"], row["churn_risk_before"]) == (
        AddressValidity.DELIVERABLE, AddressValidity.UNDELIVERABLE, 0.4,
    )
    assert row["churn_risk_after"] == state.customers[7].churn_risk > 0.4 and state.customers[7].changed
    (audit,) = effects.address_audits
    assert audit["detail"]["validity"] == ["deliverable", "undeliverable"]


def test_an_unknown_piece_and_a_return_before_mailing_are_errors() -> None:
    decisions = Decisions(_state(), SETTINGS)

    with pytest.raises(PieceNotFound):
        decisions.decide(ReturnRequest(piece_code="ZZZZZZZZ", reason=REASONS["VAC"], given_as="VAC",
                                       returned_at=RETURNED_AT))
    with pytest.raises(ReturnError, match="cannot have come back"):
        decisions.decide(_request("VAC", returned_at=MAILED_AT - timedelta(days=1)))
    assert decisions.effects.new_returns == [] and decisions.effects.events == []


def test_a_second_soft_return_within_the_window_escalates() -> None:
    state = _state(validity=AddressValidity.SUSPECT, soft=[SoftReturn(RETURNED_AT - timedelta(days=30), 1)])
    decisions = Decisions(state, SETTINGS)

    outcome = decisions.decide(_request("UNC"))

    assert outcome.escalated and outcome.validity is AddressValidity.UNDELIVERABLE
    assert "second soft return within 180 days" in decisions.effects.events[0]["note"]


def test_a_soft_return_outside_the_window_only_keeps_the_address_suspect() -> None:
    state = _state(validity=AddressValidity.SUSPECT, soft=[SoftReturn(RETURNED_AT - timedelta(days=200), 1)])
    decisions = Decisions(state, SETTINGS)

    outcome = decisions.decide(_request("UNC"))

    assert not outcome.escalated and outcome.validity is AddressValidity.SUSPECT
    assert decisions.effects.events == [] and not state.addresses[5].changed


def test_the_same_reason_again_is_already_recorded_and_changes_nothing() -> None:
    earlier = EarlierReturn(4, "VAC", RETURNED_AT, True, None, AddressValidity.DELIVERABLE,
                            AddressValidity.UNDELIVERABLE, None, 0.4, 0.5)
    decisions = Decisions(_state(validity=AddressValidity.UNDELIVERABLE, history=[earlier]), SETTINGS)

    outcome = decisions.decide(_request("VAC", returned_at=RETURNED_AT + timedelta(days=1)))

    assert outcome.already_recorded
    assert decisions.effects.new_returns == [] and decisions.effects.retired_returns == []


def test_a_different_reason_takes_the_earlier_one_back_first() -> None:
    earlier = EarlierReturn(4, "VAC", RETURNED_AT, True, None, AddressValidity.DELIVERABLE,
                            AddressValidity.UNDELIVERABLE, None, None, None)
    state = _state(validity=AddressValidity.UNDELIVERABLE, history=[earlier])
    decisions = Decisions(state, SETTINGS)

    outcome = decisions.decide(_request("UNC"))

    assert outcome.corrected_from == "VAC"
    assert (outcome.previous_validity, outcome.validity) == (AddressValidity.UNDELIVERABLE, AddressValidity.SUSPECT)
    assert decisions.effects.retired_returns == [4] and not earlier.is_current
    assert decisions.effects.new_returns[0]["corrects_id"] == 4
    (event,) = decisions.effects.events
    assert event["changes"] == {"validity": ["undeliverable", "suspect"]}
    assert ", correcting VAC (Vacant)" in event["note"]


def test_a_return_that_moved_the_customer_is_not_corrected_here() -> None:
    earlier = EarlierReturn(4, "MOVED", RETURNED_AT, True, 99, AddressValidity.DELIVERABLE,
                            AddressValidity.SUPERSEDED, None, None, None)
    decisions = Decisions(_state(validity=AddressValidity.SUPERSEDED, is_current=False, history=[earlier]), SETTINGS)

    with pytest.raises(ReturnConflict):
        decisions.decide(_request("VAC"))


def test_a_move_supersedes_the_printed_address_and_brings_a_new_one() -> None:
    state = _state()
    decisions = Decisions(state, SETTINGS)
    new_address = _moved_to()

    outcome = decisions.decide(_request("MOVED", new_address=new_address))

    effects = decisions.effects
    assert outcome.moved_to == new_address.fields
    assert (state.addresses[5].validity, state.addresses[5].is_current) == (AddressValidity.SUPERSEDED, False)
    assert effects.new_addresses[7]["line1"] == "500 Elm Avenue" and effects.new_addresses[7]["is_current"]
    assert effects.moved_by_return == {0: 7}
    superseded, created = effects.events
    assert (superseded["address_id"], superseded["kind"], superseded["changes"]) == (
        5, AddressEventKind.SUPERSEDED, {"validity": ["deliverable", "superseded"], "is_current": [True, False]},
    )
    assert (created["address_id"], created["kind"], created["changes"]["line1"]) == (
        None, AddressEventKind.CREATED, [None, "500 Elm Avenue"],
    )
    assert superseded["note"] == created["note"]


@pytest.mark.parametrize(
    ("state", "extra", "why"),
    [
        (_state(is_current=False), {}, "the customer has another address now"),
        (_state(), {"change_address": False}, "logged without changing the address"),
        (_state(confirmed_at=RETURNED_AT + timedelta(days=1)), {}, "it was confirmed after this piece came back"),
    ],
)
def test_the_address_is_left_alone_and_says_why(state: ChunkState, extra: dict[str, object], why: str) -> None:
    decisions = Decisions(state, SETTINGS)

    outcome = decisions.decide(_request("VAC", **extra))

    assert outcome.address_note == why and outcome.validity is outcome.previous_validity
    assert decisions.effects.events == [] and not state.addresses[5].changed
    assert len(decisions.effects.new_returns) == 1


def test_a_refusal_stops_mailing_the_customer_without_touching_the_address() -> None:
    state = _state()
    decisions = Decisions(state, SETTINGS)

    outcome = decisions.decide(_request("REF"))

    assert outcome.customer_status is CustomerStatus.DO_NOT_MAIL and outcome.validity is AddressValidity.DELIVERABLE
    ((customer, before, after, why),) = decisions.effects.status_changes
    assert (customer.id, before, after, why) == (7, CustomerStatus.ACTIVE, CustomerStatus.DO_NOT_MAIL,
                                                 f"return REF of piece {CODE}")
    assert decisions.effects.new_returns[0]["customer_status_before"] is CustomerStatus.ACTIVE


def test_an_illegible_print_flags_the_batch_not_the_address() -> None:
    decisions = Decisions(_state(), SETTINGS)

    outcome = decisions.decide(_request("ILL"))

    assert outcome.batch_flagged and decisions.effects.flag_batches == {3}
    assert outcome.validity is AddressValidity.DELIVERABLE and decisions.effects.events == []


def test_returns_of_one_chunk_see_the_ones_before_them() -> None:
    state = _state()
    state.pieces["9XYZ0000"] = Piece(12, "9XYZ0000", 4, 7, 5, ["PAT SMITH"], MAILED_AT)
    decisions = Decisions(state, SETTINGS)

    first = decisions.decide(_request("UNC"))
    second = decisions.decide(ReturnRequest(piece_code="9XYZ0000", reason=REASONS["TA"], given_as="TA",
                                            returned_at=RETURNED_AT + timedelta(days=5)))

    assert first.validity is AddressValidity.SUSPECT
    assert second.escalated and second.validity is AddressValidity.UNDELIVERABLE
    assert [e["changes"]["validity"] for e in decisions.effects.events] == [
        ["deliverable", "suspect"], ["suspect", "undeliverable"],
    ]
