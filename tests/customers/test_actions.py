"""Staff's changes to one customer: a corrected address with its reason in the history, notes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.models import AddressEvent, AddressEventKind, AddressValidity, ChangeSource
from mailer.addresses.service import current_address
from mailer.audit.models import AuditEntry
from mailer.customers.actions import CustomerActionError, add_note, correct_address, customer_notes
from mailer.customers.models import CustomerStatus
from tests.factories import US_ROW, add_customer

NEW = {"line1": "500 Elm Avenue", "line2": "", "city": "Chicago", "region": "IL", "postal_code": "60601",
       "country": "US"}


def events(session: Session, customer_id: int) -> list[AddressEvent]:
    return list(session.scalars(select(AddressEvent).where(AddressEvent.customer_id == customer_id)
                                .order_by(AddressEvent.id)))


def test_a_new_address_supersedes_the_old_one_with_staff_as_source_and_the_reason(session: Session) -> None:
    person = add_customer(session, "C1", validity=AddressValidity.DELIVERABLE)
    old = current_address(session, customer_id=person.id)
    assert old is not None

    new = correct_address(session, customer=person, values=NEW, reason="Customer called: moved in May",
                          actor="ann@example.com")

    assert (new.line1, new.validity, new.is_current) == ("500 Elm Avenue", AddressValidity.UNVERIFIED, True)
    assert (old.validity, old.is_current) == (AddressValidity.SUPERSEDED, False)
    superseded, created = events(session, person.id)
    assert (superseded.kind, created.kind) == (AddressEventKind.SUPERSEDED, AddressEventKind.CREATED)
    assert {e.source for e in (superseded, created)} == {ChangeSource.STAFF}
    assert created.note == "Customer called: moved in May" and created.actor == "ann@example.com"
    (audit,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.address_correct"))
    assert audit.detail["fields"] == ["city", "line1", "line2", "postal_code"]
    assert "Elm" not in str(audit.detail)


def test_the_same_address_typed_better_is_edited_in_place_and_keeps_its_validity(session: Session) -> None:
    person = add_customer(session, "C1", validity=AddressValidity.DELIVERABLE)
    before = current_address(session, customer_id=person.id)
    assert before is not None

    after = correct_address(
        session, customer=person, values={**{k: US_ROW[k] for k in NEW}, "line1": "12 OAK ST"},
        reason="typed as on the envelope", actor="a",
    )

    assert after.id == before.id and after.line1 == "12 OAK ST" and after.validity is AddressValidity.DELIVERABLE
    (edited,) = events(session, person.id)
    assert edited.kind is AddressEventKind.EDITED and edited.changes == {"line1": ["12 Oak Street", "12 OAK ST"]}
    assert edited.source is ChangeSource.STAFF


@pytest.mark.parametrize(
    ("values", "reason", "complaint"),
    [
        (NEW, "  ", "reason is missing"),
        (NEW, "line\nbreak", "control character"),
        ({**NEW, "postal_code": "ABC"}, "moved", "postal code 'ABC' does not fit US"),
        ({**NEW, "line1": ""}, "moved", "missing line1"),
        ({k: US_ROW[k] for k in NEW}, "same", "nothing to correct"),
    ],
)
def test_a_correction_that_cannot_be_made_changes_nothing(
    session: Session, values: dict[str, str], reason: str, complaint: str
) -> None:
    person = add_customer(session, "C1")
    with pytest.raises(CustomerActionError, match=complaint):
        correct_address(session, customer=person, values=values, reason=reason, actor="a")
    assert events(session, person.id) == []


def test_a_merged_customer_is_not_corrected(session: Session) -> None:
    person = add_customer(session, "C1", status=CustomerStatus.MERGED)
    with pytest.raises(CustomerActionError, match="merged"):
        correct_address(session, customer=person, values=NEW, reason="moved", actor="a")


def test_notes_are_kept_newest_first_and_audited_without_their_text(session: Session) -> None:
    person = add_customer(session, "C1")
    add_note(session, customer=person, text="Prefers calls after 6pm", actor="a")
    add_note(session, customer=person, text="Asked for the\nwinter catalog", actor="b")

    assert [n.text for n in customer_notes(session, customer_id=person.id)] == [
        "Asked for the\nwinter catalog", "Prefers calls after 6pm"]
    audits = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.note")))
    assert len(audits) == 2 and all("catalog" not in str(a.detail) for a in audits)
    with pytest.raises(CustomerActionError, match="note is missing"):
        add_note(session, customer=person, text=" ", actor="a")
