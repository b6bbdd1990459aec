"""Erasure that keeps the books: personal data gone everywhere, figures kept, never mailed again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEvent
from mailer.audit.models import AuditEntry
from mailer.audit.service import record
from mailer.batches.models import MailPiece, PieceStatus
from mailer.batches.selection import BatchError, BatchFilters, create_batch
from mailer.customers.actions import add_note, correct_address
from mailer.customers.consent import ConsentError, current_consents, set_consent
from mailer.customers.erasure import ErasureError, erase_customer, likely_duplicates
from mailer.customers.export import customer_record
from mailer.customers.models import ConsentChannel, ConsentSource, Customer, CustomerNote, CustomerStatus
from mailer.orders.models import Order
from returns.models import MailReturn, ReturnSource
from returns.service import record_return
from tests.factories import US_ROW, add_customer

NAME = "Zbigniew Quarrington"
PERSON = {**US_ROW, "name": NAME, "line1": "77 Quarry Lane", "email": "zq@example.org", "phone": "(217) 555-0177"}
MOVED = {"line1": "9 Birchwood Court", "line2": "", "city": "Peoria", "region": "IL", "postal_code": "61602",
         "country": "US"}
# The customer number has letters a hexadecimal pseudonym never holds: finding it means it was kept.
PERSONAL = (NAME, "Quarry Lane", "Birchwood", "zq@example.org", "555-0177", "ZQ-1")


def _everything_about(session: Session, customer: Customer) -> str:
    return str(customer_record(session, customer=customer))


def _mailed_customer(session: Session) -> Customer:
    person = add_customer(session, "ZQ-1", base=PERSON, order_cents=[2500, 4000])
    correct_address(session, customer=person, values=MOVED, reason=f"{NAME} phoned: moved to Birchwood",
                    actor="ann@example.com")
    add_note(session, customer=person, text=f"{NAME} prefers email", actor="ann@example.com")
    set_consent(session, customer=person, channel=ConsentChannel.EMAIL, granted=True, source=ConsentSource.STAFF,
                actor="ann@example.com", wording=f"I, {NAME}, agree to the newsletter")
    batch = create_batch(session, campaign_name="Spring", profile="us-10", filters=BatchFilters(), actor="t")
    piece = session.scalars(select(MailPiece).where(MailPiece.batch_id == batch.id)).one()
    record_return(session, piece_code=piece.piece_code, reason="UNC", source=ReturnSource.STAFF, actor="clerk",
                  note=f"{NAME} away", window_days=180)
    # An audit row quoting the name, as a search term would be.
    record(session, actor="ann@example.com", action="customer.search", object_type="customer_list",
           detail={"term": NAME})
    return person


def test_erasure_removes_the_personal_data_and_keeps_the_figures(session: Session) -> None:
    person = _mailed_customer(session)
    assert all(value in _everything_about(session, person) for value in (NAME, "Quarry Lane", "Birchwood"))
    # What the postal reference data suggested quotes the address too.
    for address in session.scalars(select(Address).where(Address.customer_id == person.id)):
        address.verification_suggestion = {"line1": "9 BIRCHWOOD CT"}
        address.verification_reason = "Birchwood Court is spelled 9 BIRCHWOOD CT"

    report = erase_customer(session, customer=person, actor="admin@example.com")

    session.expire_all()
    erased = session.get_one(Customer, person.id)
    assert erased.customer_no == report.pseudonym and erased.customer_no.startswith("ERASED-")
    assert (erased.name, erased.phone, erased.email, erased.churn_explanation) == (report.pseudonym, None, None, None)
    assert erased.erased_at is not None and erased.status is CustomerStatus.DO_NOT_MAIL
    # The books: orders and returns are kept, under the pseudonym.
    assert sorted(session.scalars(select(Order.amount_cents).where(Order.customer_id == person.id))) == [2500, 4000]
    assert session.scalar(select(func.count()).select_from(MailReturn).where(MailReturn.customer_id == person.id)) == 1
    everything = _everything_about(session, erased)
    for value in PERSONAL:
        assert value not in everything, value
    for address in session.scalars(select(Address).where(Address.customer_id == person.id)):
        assert (address.line1, address.postal_code, address.is_current) == ("[erased]", "", False)
        assert (address.verification_suggestion, address.verification_reason) == (None, None)
    assert all("Birchwood" not in str(e.changes) and e.note is None
               for e in session.scalars(select(AddressEvent).where(AddressEvent.customer_id == person.id)))
    piece = session.scalars(select(MailPiece).where(MailPiece.customer_id == person.id)).one()
    assert piece.lines == ["[erased]"] and piece.status is PieceStatus.HELD and "erased" in (piece.hold_reason or "")
    assert session.scalars(select(CustomerNote)).all() == []
    for entry in session.scalars(select(AuditEntry)):
        assert not any(value in str(entry.detail) or value == entry.object_id for value in PERSONAL), entry.action
    assert report.audit_rows >= 1 and report.held_pieces == 1


def test_an_erased_customer_is_never_mailed_again(session: Session) -> None:
    person = add_customer(session, "ZQ-1", base=PERSON)
    erase_customer(session, customer=person, actor="a")

    assert all(not c.granted for c in current_consents(session, customer_id=person.id).values())
    assert set(current_consents(session, customer_id=person.id)) == set(ConsentChannel)
    with pytest.raises(ConsentError):
        set_consent(session, customer=person, channel=ConsentChannel.MAIL, granted=True,
                    source=ConsentSource.STAFF, actor="a", wording="yes")
    # No current address is left to mail.
    with pytest.raises(BatchError):
        create_batch(session, campaign_name="Spring", profile="us-10", filters=BatchFilters(), actor="t")
    with pytest.raises(ErasureError, match="already erased"):
        erase_customer(session, customer=person, actor="a")


def test_likely_duplicates_are_offered_but_not_pairs_marked_different(session: Session) -> None:
    person = add_customer(session, "ZQ-1", base=PERSON)
    add_customer(session, "C2", base=PERSON, line1="77 QUARRY LN", email="other@example.org", phone="")
    add_customer(session, "C3", base=US_ROW, email="zq@example.org")
    add_customer(session, "C4", base=US_ROW, line1="500 Elm Avenue", postal_code="60601", city="Chicago")

    offered = {d.customer_no: d.why for d in likely_duplicates(session, customer=person)}

    assert set(offered) == {"C2", "C3"}
    assert offered["C3"] == "same email" and offered["C2"].startswith("duplicate score")


def test_erasure_deletes_the_stored_duplicate_pairs_and_match_keys(session: Session) -> None:
    from mailer.dedupe.models import CandidatePair, CustomerMatchKeys
    from mailer.dedupe.stored import store_search, stored_pairs

    customer = add_customer(session, "C001", name="John Smith")
    add_customer(session, "C002", name="Jon Smith")
    add_customer(session, "C003", name="Mary Jones", line1="7 Pine Ave")
    run = store_search(session, actor="test")
    assert session.get(CustomerMatchKeys, customer.id) is not None and run.pairs_found == 1

    erase_customer(session, customer=customer, actor="test")

    # The keys spelled the name and address; the pair tied the pseudonym to the other customer.
    assert session.get(CustomerMatchKeys, customer.id) is None
    assert session.scalar(select(func.count()).select_from(CandidatePair)) == 0
    session.refresh(run)
    assert run.pairs_found == 0 and stored_pairs(session, run=run).total == 0
    assert session.scalar(select(func.count()).select_from(CustomerMatchKeys)) == 2
