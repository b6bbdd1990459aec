"""Every address transition and its history row, in the single (ORM) and the bulk (rows) form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses import lifecycle
from mailer.addresses.models import Address, AddressEvent, AddressEventKind, AddressValidity, ChangeSource
from mailer.addresses.service import CleanAddress, clean_address, current_address
from mailer.db import utcnow
from mailer.messages import Message
from tests.factories import CN_ROW, US_ROW, add_customer

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
NEW_CN = {**CN_ROW, "line1": "中山路88号", "line2": "3单元"}


def _clean(values: dict[str, str]) -> CleanAddress:
    cleaned = clean_address(values)
    assert isinstance(cleaned, CleanAddress)
    return cleaned


def _history(session: Session, customer_id: int) -> list[tuple[Any, ...]]:
    """Return a customer's history rows as they are stored, without ids and times, oldest first."""
    events = session.scalars(
        select(AddressEvent).where(AddressEvent.customer_id == customer_id).order_by(AddressEvent.id)
    )
    return [(e.kind, e.changes, e.source, e.actor, e.note, e.note_phrase) for e in events]


def _current(session: Session, customer_id: int) -> Address:
    address = current_address(session, customer_id=customer_id)
    assert address is not None
    return address


# --- the rules ---


def test_a_created_address_changes_every_given_field_from_nothing() -> None:
    cleaned = _clean(CN_ROW)

    assert lifecycle.created_changes(cleaned) == {
        "line1": [None, CN_ROW["line1"]], "city": [None, "杭州市"], "region": [None, "浙江省"],
        "postal_code": [None, "310012"], "country": [None, "CN"],
    }


def test_an_edit_changes_only_the_fields_typed_differently() -> None:
    before = {**_clean(US_ROW).fields}
    after = _clean({**US_ROW, "line1": "12 OAK ST", "line2": "#4"})

    assert lifecycle.edited_changes(before, after) == {
        "line1": ["12 Oak Street", "12 OAK ST"], "line2": ["Apt 4", "#4"],
    }
    assert lifecycle.edited_changes(after.fields, after) == {}


def test_validity_changes_name_the_validity_and_the_confirmation() -> None:
    earlier = datetime(2026, 1, 2, tzinfo=UTC)

    assert lifecycle.validity_changes(AddressValidity.SUSPECT, AddressValidity.UNDELIVERABLE) == {
        "validity": ["suspect", "undeliverable"]
    }
    assert lifecycle.validity_changes(AddressValidity.DELIVERABLE, AddressValidity.DELIVERABLE) == {}
    assert lifecycle.validity_changes(
        AddressValidity.DELIVERABLE, AddressValidity.DELIVERABLE, confirmed=(earlier, NOW)
    ) == {"confirmed_at": [earlier.isoformat(), NOW.isoformat()]}
    assert lifecycle.validity_changes(AddressValidity.SUSPECT, AddressValidity.DELIVERABLE, confirmed=(None, NOW)) == {
        "validity": ["suspect", "deliverable"], "confirmed_at": [None, NOW.isoformat()],
    }


def test_superseding_and_merging_change_validity_and_currency() -> None:
    assert lifecycle.superseded_changes(AddressValidity.SUSPECT) == {
        "validity": ["suspect", "superseded"], "is_current": [True, False],
    }
    assert lifecycle.merge_retired_changes(AddressValidity.DELIVERABLE) == {
        "is_current": [True, False], "validity": ["deliverable", "superseded"],
    }
    assert lifecycle.merge_undone_changes(AddressValidity.DELIVERABLE) == {
        "is_current": [False, True], "validity": ["superseded", "deliverable"],
    }


def test_an_event_row_keeps_the_note_and_its_phrase() -> None:
    note = Message("a new address was imported")

    row = lifecycle.event_row(
        address_id=3, customer_id=2, kind=AddressEventKind.EDITED, changes={"city": ["a", "b"]},
        source=ChangeSource.IMPORT, actor="clerk", note=note, created_at=NOW,
    )

    assert row == {
        "address_id": 3, "customer_id": 2, "kind": AddressEventKind.EDITED, "changes": {"city": ["a", "b"]},
        "source": ChangeSource.IMPORT, "actor": "clerk", "note": "a new address was imported",
        "note_phrase": {"template": "a new address was imported", "values": {}}, "created_at": NOW,
    }
    assert lifecycle.event_row(
        address_id=3, customer_id=2, kind=AddressEventKind.EDITED, changes={}, source=ChangeSource.STAFF,
        actor="clerk", note="typed by staff", created_at=NOW,
    )["note_phrase"] is None


def test_a_new_address_is_confirmed_only_when_it_starts_deliverable() -> None:
    cleaned = _clean(US_ROW)

    deliverable = lifecycle.address_row(
        customer_id=1, address=cleaned, validity=AddressValidity.DELIVERABLE, source=ChangeSource.CUSTOMER, now=NOW,
    )
    unverified = lifecycle.address_row(
        customer_id=1, address=cleaned, validity=AddressValidity.UNVERIFIED, source=ChangeSource.IMPORT, now=NOW,
    )

    assert (deliverable["confirmed_at"], deliverable["confirmed_via"]) == (NOW, ChangeSource.CUSTOMER)
    assert (unverified["confirmed_at"], unverified["confirmed_via"]) == (None, None)
    assert deliverable["is_current"] and deliverable["fingerprint"] == cleaned.fingerprint


# --- the single and the bulk form write the same rows ---


def test_a_new_address_writes_the_same_rows_either_way(session: Session) -> None:
    single = add_customer(session, "C1", base=CN_ROW, validity=AddressValidity.SUSPECT)
    bulk = add_customer(session, "C2", base=CN_ROW, validity=AddressValidity.SUSPECT)
    cleaned, note = _clean(NEW_CN), Message("a new address was imported")

    lifecycle.replace_address(
        session, customer_id=single.id, address=cleaned, source=ChangeSource.IMPORT, actor="clerk", note=note,
    )
    old = _current(session, bulk.id)
    superseded, superseded_event = lifecycle.supersede(
        address_id=old.id, customer_id=bulk.id, validity_before=old.validity, source=ChangeSource.IMPORT,
        actor="clerk", now=NOW, note=note,
    )
    created_event = lifecycle.created_event(
        customer_id=bulk.id, address=cleaned, source=ChangeSource.IMPORT, actor="clerk", now=NOW, note=note,
    )
    lifecycle.update_addresses(session, [superseded])
    new_ids = lifecycle.insert_addresses(
        session,
        [lifecycle.address_row(customer_id=bulk.id, address=cleaned, validity=AddressValidity.UNVERIFIED,
                               source=ChangeSource.IMPORT, now=NOW)],
    )
    lifecycle.insert_events(session, [superseded_event, created_event], new_address_ids=new_ids)
    session.expire_all()

    assert _history(session, single.id) == _history(session, bulk.id)
    assert [kind for kind, *_ in _history(session, bulk.id)] == [AddressEventKind.SUPERSEDED, AddressEventKind.CREATED]
    assert _current(session, bulk.id).id == new_ids[bulk.id]
    for customer in (single, bulk):
        addresses = session.scalars(select(Address).where(Address.customer_id == customer.id).order_by(Address.id))
        assert [(a.validity, a.is_current, a.line1) for a in addresses] == [
            (AddressValidity.SUPERSEDED, False, CN_ROW["line1"]), (AddressValidity.UNVERIFIED, True, "中山路88号"),
        ]


def test_a_validity_change_writes_the_same_row_either_way(session: Session) -> None:
    single = add_customer(session, "C1", validity=AddressValidity.SUSPECT)
    bulk = add_customer(session, "C2", validity=AddressValidity.SUSPECT)
    note = Message("flag cleared: %(note)s", note="wrong piece")

    changed = lifecycle.set_validity(
        session, address=_current(session, single.id), validity=AddressValidity.UNVERIFIED,
        source=ChangeSource.STAFF, actor="clerk", note=note,
    )
    address = _current(session, bulk.id)
    lifecycle.update_addresses(session, [{"id": address.id, "validity": AddressValidity.UNVERIFIED, "updated_at": NOW}])
    lifecycle.insert_events(
        session,
        [lifecycle.validity_event(address_id=address.id, customer_id=bulk.id, before=AddressValidity.SUSPECT,
                                  after=AddressValidity.UNVERIFIED, source=ChangeSource.STAFF, actor="clerk",
                                  now=NOW, note=note)],
        new_address_ids={},
    )
    session.expire_all()

    assert changed
    assert _history(session, single.id) == _history(session, bulk.id) == [
        (AddressEventKind.VALIDITY, {"validity": ["suspect", "unverified"]}, ChangeSource.STAFF, "clerk",
         "flag cleared: wrong piece", note.to_json()),
    ]
    assert _current(session, bulk.id).validity is _current(session, single.id).validity is AddressValidity.UNVERIFIED


def test_setting_the_same_validity_without_confirming_writes_nothing(session: Session) -> None:
    customer = add_customer(session, "C1", validity=AddressValidity.DELIVERABLE)

    changed = lifecycle.set_validity(
        session, address=_current(session, customer.id), validity=AddressValidity.DELIVERABLE,
        source=ChangeSource.STAFF, actor="clerk",
    )

    assert not changed and _history(session, customer.id) == []


def test_a_confirmation_records_when_and_how(session: Session) -> None:
    customer = add_customer(session, "C1", validity=AddressValidity.DELIVERABLE)
    address = _current(session, customer.id)
    before = utcnow()

    lifecycle.set_validity(
        session, address=address, validity=AddressValidity.DELIVERABLE, source=ChangeSource.ORDER, actor="shop",
        confirmed=True,
    )

    assert address.confirmed_via is ChangeSource.ORDER and address.confirmed_at is not None
    assert address.confirmed_at >= before
    ((kind, changes, *_),) = _history(session, customer.id)
    assert kind is AddressEventKind.VALIDITY
    assert changes == {"confirmed_at": [None, address.confirmed_at.isoformat()]}


def test_an_edit_in_place_keeps_validity_and_writes_what_was_retyped(session: Session) -> None:
    customer = add_customer(session, "C1", validity=AddressValidity.DELIVERABLE)
    address = _current(session, customer.id)
    retyped = _clean({**US_ROW, "line1": "12 OAK ST", "line2": "#4"})
    assert retyped.fingerprint == address.fingerprint

    edit = lifecycle.edit_in_place(
        address_id=address.id, customer_id=customer.id, before=address.as_dict(), after=retyped,
        source=ChangeSource.IMPORT, actor="clerk", now=NOW,
    )
    assert edit is not None
    lifecycle.update_addresses(session, [edit[0]])
    lifecycle.insert_events(session, [edit[1]], new_address_ids={})
    session.expire_all()

    assert (address.line1, address.line2, address.validity) == ("12 OAK ST", "#4", AddressValidity.DELIVERABLE)
    assert _history(session, customer.id) == [
        (AddressEventKind.EDITED, {"line1": ["12 Oak Street", "12 OAK ST"], "line2": ["Apt 4", "#4"]},
         ChangeSource.IMPORT, "clerk", None, None),
    ]
    assert lifecycle.edit_in_place(
        address_id=address.id, customer_id=customer.id, before=address.as_dict(), after=retyped,
        source=ChangeSource.IMPORT, actor="clerk", now=NOW,
    ) is None


def test_a_merge_retires_an_address_and_its_undo_brings_it_back(session: Session) -> None:
    customer = add_customer(session, "C1", validity=AddressValidity.SUSPECT)
    address = _current(session, customer.id)
    note = Message("customer %(merged)s merged into %(survivor)s", merged="C1", survivor="C9")

    before = lifecycle.retire_for_merge(session, address=address, actor="clerk", note=note)
    assert before is AddressValidity.SUSPECT
    assert (address.validity, address.is_current) == (AddressValidity.SUPERSEDED, False)
    lifecycle.restore_after_merge(session, address=address, validity=before, actor="clerk", note=note)
    session.flush()

    assert (address.validity, address.is_current) == (AddressValidity.SUSPECT, True)
    assert _history(session, customer.id) == [
        (AddressEventKind.SUPERSEDED, {"is_current": [True, False], "validity": ["suspect", "superseded"]},
         ChangeSource.MERGE, "clerk", note, note.to_json()),
        (AddressEventKind.VALIDITY, {"is_current": [False, True], "validity": ["superseded", "suspect"]},
         ChangeSource.MERGE, "clerk", note, note.to_json()),
    ]


def test_bulk_events_keep_each_customers_order_and_get_the_new_address_ids(session: Session) -> None:
    first = add_customer(session, "C1")
    second = add_customer(session, "C2")
    cleaned = _clean({**US_ROW, "line1": "9 Elm Street"})
    rows = []
    for customer in (second, first):
        old = _current(session, customer.id)
        update_row, event = lifecycle.supersede(
            address_id=old.id, customer_id=customer.id, validity_before=old.validity, source=ChangeSource.IMPORT,
            actor="clerk", now=NOW,
        )
        lifecycle.update_addresses(session, [update_row])
        rows += [event, lifecycle.created_event(customer_id=customer.id, address=cleaned,
                                                source=ChangeSource.IMPORT, actor="clerk", now=NOW)]
    new_ids = lifecycle.insert_addresses(
        session,
        [lifecycle.address_row(customer_id=c.id, address=cleaned, validity=AddressValidity.UNVERIFIED,
                               source=ChangeSource.IMPORT, now=NOW) for c in (first, second)],
    )

    lifecycle.insert_events(session, rows, new_address_ids=new_ids)

    events = list(session.scalars(select(AddressEvent).order_by(AddressEvent.id)))
    assert [(e.customer_id, e.kind) for e in events] == [
        (first.id, AddressEventKind.SUPERSEDED), (first.id, AddressEventKind.CREATED),
        (second.id, AddressEventKind.SUPERSEDED), (second.id, AddressEventKind.CREATED),
    ]
    created = [e.address_id for e in events if e.kind is AddressEventKind.CREATED]
    assert created == [new_ids[first.id], new_ids[second.id]]
