"""Checking addresses against the postal reference data: what agrees, what is completed, what is flagged."""

from __future__ import annotations

import pytest

from mailer.addresses.models import AddressVerification
from mailer.addresses.verification import verify_address
from mailer.reference.store import reference_in_use
from tests.addresses.labelled import ERROR_KINDS, generate_labelled_addresses

VERIFIED = AddressVerification.VERIFIED
CORRECTED = AddressVerification.CORRECTED
MISMATCH = AddressVerification.MISMATCH
UNVERIFIABLE = AddressVerification.UNVERIFIABLE


def cn(line1: str, city: str, region: str, postal_code: str) -> dict[str, str]:
    return {"line1": line1, "line2": "", "city": city, "region": region, "postal_code": postal_code, "country": "CN"}


def us(city: str, region: str, postal_code: str, line1: str = "1 Main St") -> dict[str, str]:
    return {"line1": line1, "line2": "", "city": city, "region": region, "postal_code": postal_code, "country": "US"}


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        (cn("鼓楼区中山路1号", "南京市", "江苏省", "210009"), VERIFIED, "postcode 210009 is 江苏省南京市鼓楼区"),
        (cn("朝阳区建国路1号", "北京市", "", "100020"), VERIFIED, "postcode 100020 is 北京市朝阳区"),
        # A city with no districts (towns directly under it) needs none.
        (cn("南城街道宏远路1号", "东莞市", "广东省", "523000"), VERIFIED, "postcode 523000 is 广东省东莞市"),
        (cn("鼓楼区中山路1号", "南京市", "江苏省", "100805"), MISMATCH,
         "postcode 100805 is 北京市; the city says 南京市"),
        (cn("兴宁区朝阳路1号", "南宁市", "江苏省", "530000"), MISMATCH,
         "南宁市 is in 广西壮族自治区; the region says 江苏省"),
        (cn("中山路1号", "南京市", "江苏省", "210009"), UNVERIFIABLE, "no district: 南京市 has 11 districts"),
        (cn("中山路1号", "江苏省", "南京市", "210009"), MISMATCH, "the region says 南京市, which is a city"),
        (cn("新民路1号", "南京市", "江苏省", "211100"), UNVERIFIABLE, "no district"),
        # 昆山市, a county-level city, has its own post office, 2153xx; 溧水区, a district, shares 南京市's.
        (cn("昆山市前进路1号", "苏州市", "江苏省", "215000"), MISMATCH,
         "postcode 215000 is not 昆山市's; 昆山市 has 2153xx"),
        (cn("溧水区通济街1号", "南京市", "江苏省", "210009"), VERIFIED, "postcode 210009 is 江苏省南京市溧水区"),
        (us("New York", "NY", "10001"), VERIFIED, "ZIP 10001 is New York, NY"),
        (us("Brooklyn", "NY", "11201-1234"), VERIFIED, "ZIP 11201 is Brooklyn, NY"),
        (us("Saint Louis", "MO", "63101"), VERIFIED, "ZIP 63101 is"),
        (us("Boston", "NY", "10001"), MISMATCH, "ZIP 10001 is New York, NY; the city says Boston"),
        (us("New York", "CA", "10001"), MISMATCH, "ZIP 10001 is New York, NY; the state says CA"),
        (us("TX", "Houston", "77002"), MISMATCH,
         "ZIP 77002 is Houston, TX; the state says Houston, which is no US state"),
        (us("New York", "NY", "00000"), MISMATCH, "ZIP 00000 is not a ZIP code in use"),
        (
            {"line1": "Unter den Linden 1", "line2": "", "city": "Berlin", "region": "", "postal_code": "10117",
             "country": "DE"},
            UNVERIFIABLE, "no reference data for addresses in DE",
        ),
    ],
)
def test_outcome_and_reason(fields: dict[str, str], status: AddressVerification, reason: str) -> None:
    found = verify_address(fields, reference_in_use())

    assert found.status is status
    assert found.reason.startswith(reason)
    assert found.flagged is (status in (MISMATCH, UNVERIFIABLE))


def test_a_chinese_address_gains_its_province_and_full_city_name() -> None:
    found = verify_address(cn("鼓楼区中山路1号", "南京", "", "210009"), reference_in_use())

    assert found.status is CORRECTED
    assert found.suggestion == {"region": "江苏省", "city": "南京市"}
    assert "region 江苏省" in found.reason


def test_a_us_state_written_out_is_suggested_as_its_code() -> None:
    found = verify_address(us("New York", "new york", "10001"), reference_in_use())

    assert found.status is CORRECTED and found.suggestion == {"region": "NY"}


def test_a_municipality_keeps_its_empty_region() -> None:
    assert verify_address(cn("黄浦区南京东路1号", "上海市", "", "200001"), reference_in_use()).suggestion == {}


def test_on_a_labelled_set_errors_are_flagged_and_correct_addresses_are_not() -> None:
    reference = reference_in_use()
    labelled = generate_labelled_addresses(reference, n=4000, error_share=0.5, seed=11)

    flagged = [(address, verify_address(address.fields, reference).flagged) for address in labelled]
    correct = [hit for address, hit in flagged if not address.error]
    visible = [hit for address, hit in flagged if address.error and not address.same_place]

    assert sum(correct) / len(correct) <= 0.01
    assert sum(visible) / len(visible) >= 0.95
    assert {address.error for address in labelled} == {"", *ERROR_KINDS}
