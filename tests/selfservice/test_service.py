"""A customer's own address update through the link on the envelope: tokens, masking, changes, history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailer.addresses.lifecycle import replace_address
from mailer.addresses.models import (
    Address,
    AddressEvent,
    AddressEventKind,
    AddressValidity,
    AddressVerification,
    ChangeSource,
)
from mailer.addresses.service import clean_address, current_address
from mailer.audit.models import AuditEntry
from mailer.batches.models import MailPiece
from mailer.batches.piece_codes import new_piece_code
from mailer.batches.selection import BatchFilters, create_batch
from mailer.batches.tokens import SIGNATURE_LENGTH
from mailer.customers.models import Customer
from mailer.messages import Message
from mailer.selfservice.service import (
    AddressProblem,
    AddressRejected,
    LinkError,
    LinkProblem,
    confirm_address,
    find_piece_for_token,
    masked_view,
    update_address,
)
from tests.factories import add_customer
from tests.selfservice.letters import CN_ROW, SECRET, US_ROW, Letter, letter_of, mail_letter

TODAY = date(2026, 12, 1)
NEW_US = {"line1": "500 Elm Avenue", "line2": "", "city": "Chicago", "region": "IL", "postal_code": "60601"}
HK_ADDRESS = {"line1": "皇后大道中99號", "line2": "", "city": "香港", "region": "", "postal_code": ""}
NEW_CN = {
    "line1": "中山东一路18号", "line2": "", "city": "上海市", "region": "上海市", "district": "黄浦区",
    "postal_code": "200002",
}


def _find(session: Session, token: str, *, today: date = TODAY) -> MailPiece:
    return find_piece_for_token(session, token=token, secret=SECRET, today=today)


def _problem(session: Session, token: str, *, today: date = TODAY) -> LinkError:
    with pytest.raises(LinkError) as caught:
        _find(session, token, today=today)
    return caught.value


def _events(session: Session, customer_id: int) -> list[AddressEvent]:
    return list(
        session.scalars(select(AddressEvent).where(AddressEvent.customer_id == customer_id).order_by(AddressEvent.id))
    )


def _audit(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


@pytest.fixture
def letter(session: Session) -> Letter:
    return mail_letter(session, "C001", today=TODAY)


# --- the link -----------------------------------------------------------------------------------


def test_a_genuine_token_finds_its_piece(session: Session, letter: Letter) -> None:
    assert _find(session, letter.token).id == letter.piece_id
    # As typed from the envelope: lower case, the code split in two.
    code, signature = letter.token.rsplit("-", 1)
    assert _find(session, f"{code[:4]}-{code[4:]}-{signature}".lower()).id == letter.piece_id


@pytest.mark.parametrize("token", ["", "nonsense", "ABCDEFGH", "ABCDEFGH-1234567890", "-" * 20])
def test_a_malformed_token_is_refused(session: Session, token: str) -> None:
    error = _problem(session, token)
    assert error.problem is LinkProblem.MALFORMED and error.piece is None


def test_a_token_for_no_piece_is_unknown(session: Session, letter: Letter) -> None:
    error = _problem(session, f"{new_piece_code()}-{'A' * SIGNATURE_LENGTH}")
    assert error.problem is LinkProblem.UNKNOWN and error.piece is None


def test_a_changed_signature_or_another_pieces_signature_is_tampered(session: Session, letter: Letter) -> None:
    other = mail_letter(session, "C002", base=CN_ROW, today=TODAY)
    code, signature = letter.token.rsplit("-", 1)
    flipped = ("B" if signature[0] != "B" else "C") + signature[1:]
    for token in (f"{code}-{flipped}", f"{code}-{other.token.rsplit('-', 1)[1]}"):
        error = _problem(session, token)
        assert error.problem is LinkProblem.TAMPERED and error.piece is None
    # Signed with another secret: a link from another installation, or forged.
    forged = mail_letter(session, "C003", base=US_ROW, postal_code="62705", today=TODAY, secret="another")
    assert _problem(session, forged.token).problem is LinkProblem.TAMPERED


def test_a_link_works_until_its_batchs_expiry_day(session: Session, letter: Letter) -> None:
    assert letter.expires_on > TODAY
    assert _find(session, letter.token, today=letter.expires_on).id == letter.piece_id
    error = _problem(session, letter.token, today=letter.expires_on + timedelta(days=1))
    assert error.problem is LinkProblem.EXPIRED and error.piece is not None and error.piece.id == letter.piece_id


def test_a_link_is_spent_once_the_address_changed_another_way(session: Session, letter: Letter) -> None:
    cleaned = clean_address({**US_ROW, **NEW_US, "country": "US"})
    assert not isinstance(cleaned, str)
    replace_address(session, customer_id=letter.customer_id, address=cleaned, source=ChangeSource.STAFF, actor="s")
    assert _problem(session, letter.token).problem is LinkProblem.ADDRESS_CHANGED


def test_the_same_address_in_a_new_row_keeps_the_link_working(session: Session, letter: Letter) -> None:
    # As after a merge of duplicates: the current row differs, the place is the same.
    cleaned = clean_address({**US_ROW, "line1": "12 Oak St."})
    assert not isinstance(cleaned, str)
    new = replace_address(session, customer_id=letter.customer_id, address=cleaned, source=ChangeSource.MERGE,
                          actor="s")
    piece = _find(session, letter.token)
    assert confirm_address(session, piece=piece).id == new.id


# --- what the page shows ------------------------------------------------------------------------


def test_the_masked_view_hides_the_name_and_street_but_keeps_the_city(session: Session, letter: Letter) -> None:
    view = masked_view(session, piece=_find(session, letter.token))
    assert view.name == "J*** S****"
    assert view.lines == ("** O** S*****", "A** *", "Springfield, IL 627**")
    assert (view.country, view.language) == ("US", "en")
    shown = " ".join((view.name, *view.lines))
    for secret in ("John", "Smith", "12", "Oak", "62704"):
        assert secret not in shown


def test_the_masked_view_of_a_chinese_letter(session: Session) -> None:
    letter = mail_letter(session, "C010", base=CN_ROW, today=TODAY)
    view = masked_view(session, piece=_find(session, letter.token))
    assert view.name == "王*"
    assert view.lines == ("浙江省杭州市文******", "310***")
    assert (view.country, view.language) == ("CN", "zh")


# --- a new address ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem", "fields"),
    [
        ({"postal_code": "6060"}, AddressProblem.POSTAL_CODE, ("postal_code",)),
        ({"city": "", "line1": " "}, AddressProblem.MISSING, ("line1", "city")),
        ({"line1": "x" * 201}, AddressProblem.TOO_LONG, ("line1",)),
        ({"line1": "500 Elm\nAvenue"}, AddressProblem.CONTROL_CHARACTER, ("line1",)),
        ({"line2": "Apt\x004"}, AddressProblem.CONTROL_CHARACTER, ("line2",)),
        ({"city": "Chi\x1bcago"}, AddressProblem.CONTROL_CHARACTER, ("city",)),
        ({"region": "I\x07L"}, AddressProblem.CONTROL_CHARACTER, ("region",)),
        ({"postal_code": "606\r01"}, AddressProblem.CONTROL_CHARACTER, ("postal_code",)),
        ({"postal_code": "٦٠٦٠١"}, AddressProblem.POSTAL_CODE, ("postal_code",)),
    ],
)
def test_a_new_address_is_validated_like_the_import(
    session: Session, letter: Letter, changes: dict[str, str], problem: AddressProblem, fields: tuple[str, ...]
) -> None:
    piece = _find(session, letter.token)
    with pytest.raises(AddressRejected) as caught:
        update_address(session, piece=piece, values={**NEW_US, **changes})
    assert caught.value.problem is problem and caught.value.fields == fields
    assert caught.value.limit == (200 if problem is AddressProblem.TOO_LONG else None)
    # Nothing changed, and the link can still be used.
    assert current_address(session, customer_id=letter.customer_id).id == letter.address_id  # type: ignore[union-attr]
    assert _find(session, letter.token).address_updated_at is None


def test_a_control_character_is_a_problem_of_its_field(session: Session, letter: Letter) -> None:
    with pytest.raises(AddressRejected) as caught:
        update_address(session, piece=_find(session, letter.token), values={**NEW_US, "city": "Chicago\u2028IL"})
    assert str(caught.value.message) == "city contains a control character (U+2028), which cannot be printed"
    assert (caught.value.problem, caught.value.fields, caught.value.limit) == (
        AddressProblem.CONTROL_CHARACTER, ("city",), None
    )


def test_a_customer_in_hong_kong_moves_without_a_postal_code(session: Session) -> None:
    customer = add_customer(session, "C021", base={**CN_ROW, **HK_ADDRESS, "country": "HK"})
    batch = create_batch(
        session, campaign_name="Catalog for Hong Kong", profile="cn-dl", filters=BatchFilters(countries=("HK",)),
        actor="test", today=TODAY,
    )
    letter = letter_of(session, batch=batch, customer=customer)

    new = update_address(session, piece=_find(session, letter.token), values={**HK_ADDRESS, "line1": "彌敦道132號"})

    assert (new.line1, new.city, new.postal_code, new.country) == ("彌敦道132號", "香港", "", "HK")
    assert new.is_current and new.validity is AddressValidity.DELIVERABLE


def test_unknown_validation_messages_name_no_field() -> None:
    assert AddressRejected(Message("unknown country %(country)s", country="'Narnia'")).fields == ("country",)
    other = AddressRejected(Message("something else"))
    assert other.problem is AddressProblem.OTHER and other.fields == ()


def test_without_a_country_the_address_is_in_the_letters(session: Session, letter: Letter) -> None:
    piece = _find(session, letter.token)
    with pytest.raises(AddressRejected) as caught:
        update_address(session, piece=piece, values={**NEW_CN, "country": ""})
    # A Chinese postal code is no US ZIP code: the letter's country (US) holds.
    assert caught.value.problem is AddressProblem.POSTAL_CODE


def test_a_customer_moving_abroad_names_the_country(session: Session, letter: Letter) -> None:
    piece = _find(session, letter.token)
    new = update_address(session, piece=piece, values={**NEW_CN, "country": "中国"})
    assert (new.country, new.postal_code) == ("CN", NEW_CN["postal_code"])


def test_an_unknown_country_is_refused_not_replaced(session: Session, letter: Letter) -> None:
    piece = _find(session, letter.token)
    with pytest.raises(AddressRejected) as caught:
        update_address(session, piece=piece, values={**NEW_US, "country": "Atlantis"})
    assert (caught.value.problem, caught.value.fields) == (AddressProblem.COUNTRY, ("country",))
    assert piece.address_updated_at is None


def test_an_update_re_scores_the_customer_at_once(session: Session, letter: Letter) -> None:
    customer = session.get_one(Customer, letter.customer_id)
    customer.churn_risk = 0.5
    session.flush()
    piece = _find(session, letter.token)
    update_address(session, piece=piece, values=NEW_US)
    session.refresh(customer)
    assert customer.churn_risk is not None and customer.churn_risk < 0.5
    assert customer.churn_explanation is not None
    assert any("address" in str(line.get("text", "")) for line in customer.churn_explanation)


def test_a_new_address_is_applied_with_history_and_audit(session: Session, letter: Letter) -> None:
    piece = _find(session, letter.token)
    new = update_address(session, piece=piece, values={**NEW_US, "postal_code": "606011234"})

    assert new.is_current and new.validity is AddressValidity.DELIVERABLE
    assert (new.line1, new.city, new.postal_code, new.country) == ("500 Elm Avenue", "Chicago", "60601-1234", "US")
    # Checked against the postal reference data, apart from the validity the customer's word gives.
    assert (new.verification, new.verification_reason) == (AddressVerification.VERIFIED, "ZIP 60601 is Chicago, IL")
    assert new.confirmed_via is ChangeSource.CUSTOMER and new.confirmed_at is not None
    old = session.get_one(Address, letter.address_id)
    assert not old.is_current and old.validity is AddressValidity.SUPERSEDED
    assert current_address(session, customer_id=letter.customer_id).id == new.id  # type: ignore[union-attr]

    events = _events(session, letter.customer_id)
    assert [(e.address_id, e.kind) for e in events] == [
        (old.id, AddressEventKind.SUPERSEDED), (new.id, AddressEventKind.CREATED)
    ]
    assert {(e.source, e.actor) for e in events} == {(ChangeSource.CUSTOMER, "customer")}
    assert all(piece.piece_code[:4] in (e.note or "") for e in events)
    assert events[1].changes["line1"] == [None, "500 Elm Avenue"]

    (entry,) = _audit(session, "customer.address_update")
    assert (entry.actor, entry.object_type, entry.object_id) == ("customer", "customer", letter.customer_no)
    assert entry.detail["address"] == new.id and entry.detail["superseded"] == old.id
    assert entry.detail["fields"] == ["city", "line1", "line2", "postal_code"]
    assert "Elm" not in str(entry.detail) and "Oak" not in str(entry.detail)
    assert piece.address_updated_at is not None


def test_a_link_changes_the_address_only_once(session: Session, letter: Letter) -> None:
    piece = _find(session, letter.token)
    update_address(session, piece=piece, values=NEW_US)
    with pytest.raises(LinkError) as caught:
        update_address(session, piece=piece, values={**NEW_US, "line1": "9 Pine Road"})
    assert caught.value.problem is LinkProblem.USED
    assert _problem(session, letter.token).problem is LinkProblem.USED
    with pytest.raises(LinkError):
        confirm_address(session, piece=piece)
    assert len(_audit(session, "customer.address_update")) == 1


def test_two_submissions_at_once_change_the_address_once(session: Session, letter: Letter) -> None:
    piece = _find(session, letter.token)
    # Another request used the link after this one loaded the piece.
    pieces = MailPiece.__table__
    session.execute(
        update(pieces).where(pieces.c.id == piece.id).values(address_updated_at=datetime(2026, 12, 1, tzinfo=UTC))
    )
    assert piece.address_updated_at is None
    with pytest.raises(LinkError) as caught:
        update_address(session, piece=piece, values=NEW_US)
    assert caught.value.problem is LinkProblem.USED
    assert current_address(session, customer_id=letter.customer_id).id == letter.address_id  # type: ignore[union-attr]


def test_a_chinese_customer_moves(session: Session) -> None:
    letter = mail_letter(session, "C011", base=CN_ROW, today=TODAY)
    new = update_address(session, piece=_find(session, letter.token), values=NEW_CN)
    assert (new.region, new.city, new.line1, new.postal_code, new.country) == (
        "上海市", "上海市", "黄浦区中山东一路18号", "200002", "CN"
    )


# --- "this address is still right" ---------------------------------------------------------------


def test_confirming_marks_the_address_deliverable_once_per_letter(session: Session, letter: Letter) -> None:
    piece = _find(session, letter.token)
    address = confirm_address(session, piece=piece)

    assert address.id == letter.address_id and address.validity is AddressValidity.DELIVERABLE
    assert address.confirmed_via is ChangeSource.CUSTOMER and address.confirmed_at is not None
    (event,) = _events(session, letter.customer_id)
    assert (event.kind, event.source, event.actor) == (AddressEventKind.VALIDITY, ChangeSource.CUSTOMER, "customer")
    assert event.changes["validity"] == ["unverified", "deliverable"]
    (entry,) = _audit(session, "customer.address_confirm")
    assert (entry.actor, entry.object_id) == ("customer", letter.customer_no)

    # Again, from a reloaded page: nothing new is written.
    confirm_address(session, piece=_find(session, letter.token))
    assert len(_events(session, letter.customer_id)) == 1
    assert len(_audit(session, "customer.address_confirm")) == 1
    # Confirming does not use the link up: the customer can still send a new address.
    assert update_address(session, piece=_find(session, letter.token), values=NEW_US).is_current


def test_typing_the_same_address_again_confirms_it(session: Session, letter: Letter) -> None:
    piece = _find(session, letter.token)
    same = {"line1": "12 Oak St", "line2": "Apt. 4", "city": "springfield", "region": "IL", "postal_code": "62704"}
    address = update_address(session, piece=piece, values=same)
    assert address.id == letter.address_id and address.validity is AddressValidity.DELIVERABLE
    assert piece.address_updated_at is None
    assert [e.kind for e in _events(session, letter.customer_id)] == [AddressEventKind.VALIDITY]


def test_a_suspect_address_confirmed_by_the_customer_is_deliverable(session: Session, letter: Letter) -> None:
    session.execute(update(Address).where(Address.id == letter.address_id).values(validity=AddressValidity.SUSPECT))
    address = confirm_address(session, piece=_find(session, letter.token))
    assert address.validity is AddressValidity.DELIVERABLE
    (event,) = _events(session, letter.customer_id)
    assert event.changes["validity"] == ["suspect", "deliverable"]
