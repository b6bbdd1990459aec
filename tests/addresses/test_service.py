"""Validating and changing addresses, with history."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.lifecycle import replace_address, set_validity
from mailer.addresses.models import Address, AddressEvent, AddressEventKind, AddressValidity, ChangeSource
from mailer.addresses.service import CleanAddress, clean_address, current_address, required_address_fields
from mailer.web.i18n import say
from tests.factories import CN_ROW, US_ROW, add_customer


def test_clean_address_canonicalizes_and_normalizes() -> None:
    cleaned = clean_address({**US_ROW, "country": "United States", "postal_code": "627041234"})

    assert isinstance(cleaned, CleanAddress)
    assert cleaned.fields["country"] == "US" and cleaned.fields["postal_code"] == "62704-1234"
    assert cleaned.household_key and cleaned.fingerprint and cleaned.normalized


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"new_city": ""}, "missing new_city"),
        ({"new_country": "Atlantis"}, "unknown country 'Atlantis'"),
        ({"new_postal_code": "1234"}, "does not fit CN"),
        ({"new_line1": "路" * 201}, "new_line1 is longer than 200 characters"),
        ({"new_postal_code": ""}, "missing new_postal_code"),
        ({"new_postal_code": "٣١٠٠١٢"}, "postal code '٣١٠٠١٢' does not fit CN"),
        ({"new_line1": "文三路\n478号"}, "new_line1 contains a control character (U+000A), which cannot be printed"),
        ({"new_line2": "A座\x00"}, "new_line2 contains a control character (U+0000)"),
        ({"new_city": "杭州\x1b市"}, "new_city contains a control character (U+001B)"),
        ({"new_region": "浙江\x07省"}, "new_region contains a control character (U+0007)"),
        ({"new_postal_code": "3100\r12"}, "new_postal_code contains a control character (U+000D)"),
        ({"new_country": "C\tN"}, "new_country contains a control character (U+0009)"),
        ({"new_country": "Atlantis" * 100}, f"unknown country '{('Atlantis' * 5)[:39]}…'"),
        ({"new_postal_code": "1" * 5000}, f"postal code '{'1' * 39}…' does not fit CN"),
    ],
)
def test_clean_address_names_the_field_at_fault(changes: dict[str, str], problem: str) -> None:
    values = {f"new_{k}": v for k, v in CN_ROW.items()} | changes
    result = clean_address(values, prefix="new_")
    assert isinstance(result, str) and problem in result


@pytest.mark.parametrize("country", ["HK", "MO", "AE", "QA", "香港"])
def test_places_without_postal_codes_need_none(country: str) -> None:
    cleaned = clean_address({**CN_ROW, "line1": "皇后大道中99號", "city": "香港", "region": "", "postal_code": "",
                             "country": country})

    assert isinstance(cleaned, CleanAddress) and cleaned.fields["postal_code"] == ""
    assert cleaned.household_key and cleaned.fingerprint
    assert "postal_code" not in required_address_fields(country)


def test_a_postal_code_is_required_where_the_country_has_them_or_is_not_known() -> None:
    assert required_address_fields("US") == ("line1", "city", "postal_code", "country")
    assert required_address_fields("Atlantis") == ("line1", "city", "postal_code", "country")
    assert required_address_fields("") == ("line1", "city", "postal_code", "country")
    assert clean_address({**US_ROW, "postal_code": ""}) == "missing postal_code"


def test_replace_address_supersedes_the_old_one_with_history(session: Session) -> None:
    customer = add_customer(session, "C1", base=CN_ROW)
    old = current_address(session, customer_id=customer.id)
    cleaned = clean_address({**CN_ROW, "line1": "中山路88号"})
    assert isinstance(cleaned, CleanAddress) and old is not None

    new = replace_address(session, customer_id=customer.id, address=cleaned, source=ChangeSource.CUSTOMER,
                          actor="customer", validity=AddressValidity.DELIVERABLE)

    assert (old.is_current, old.validity) == (False, AddressValidity.SUPERSEDED)
    assert (new.is_current, new.validity) == (True, AddressValidity.DELIVERABLE)
    assert new.confirmed_via is ChangeSource.CUSTOMER
    assert current_address(session, customer_id=customer.id) == new
    kinds = session.scalars(select(AddressEvent.kind).where(AddressEvent.customer_id == customer.id)).all()
    assert kinds == [AddressEventKind.SUPERSEDED, AddressEventKind.CREATED]
    assert len(session.scalars(select(Address).where(Address.customer_id == customer.id)).all()) == 2


def test_set_validity_records_only_real_changes(session: Session) -> None:
    customer = add_customer(session, "C1")
    address = current_address(session, customer_id=customer.id)
    assert address is not None

    changed = set_validity(session, address=address, validity=AddressValidity.SUSPECT,
                           source=ChangeSource.RETURN_SCAN, actor="clerk", note="UNC")
    unchanged = set_validity(session, address=address, validity=AddressValidity.SUSPECT,
                             source=ChangeSource.RETURN_SCAN, actor="clerk")
    confirmed = set_validity(session, address=address, validity=AddressValidity.DELIVERABLE,
                             source=ChangeSource.ORDER, actor="orders", confirmed=True)

    assert (changed, unchanged, confirmed) == (True, False, True)
    events = session.scalars(
        select(AddressEvent).where(AddressEvent.address_id == address.id).order_by(AddressEvent.id)
    ).all()
    assert [e.changes["validity"] for e in events] == [["unverified", "suspect"], ["suspect", "deliverable"]]
    assert events[0].note == "UNC" and address.confirmed_via is ChangeSource.ORDER


def test_a_verification_reason_is_stored_in_english_with_its_phrase_for_the_pages(app: Flask, session: Session) -> None:
    customer = add_customer(session, "C1")
    cleaned = clean_address({**US_ROW, "line1": "350 Fifth Avenue", "city": "New York", "region": "NY",
                             "postal_code": "10008"})
    assert isinstance(cleaned, CleanAddress)

    new = replace_address(session, customer_id=customer.id, address=cleaned, source=ChangeSource.CUSTOMER,
                          actor="customer", validity=AddressValidity.UNVERIFIED)
    session.expire_all()
    stored_address = session.get_one(Address, new.id)

    english = "ZIP 10008 (New York, NY) is for PO boxes only; the address is a street address"
    assert stored_address.verification_reason == english == stored_address.as_dict()["verification_reason"]
    with app.test_request_context(headers={"Accept-Language": "zh-CN,zh;q=0.9"}):
        assert say(stored_address.verification_message) == "ZIP 10008（New York, NY）只投递邮政信箱；该地址是街道地址"


def test_a_reason_stored_before_its_phrase_was_kept_is_shown_as_stored() -> None:
    address = Address(verification_reason="ZIP 10001 is New York, NY", verification_phrase=None)

    assert address.verification_message == "ZIP 10001 is New York, NY"
