"""Checking addresses against the postal reference data: what agrees, what is completed, what is flagged."""

from __future__ import annotations

import pytest

from mailer.addresses.english import names_box_delivery
from mailer.addresses.models import AddressVerification
from mailer.addresses.verification import verify_address
from mailer.reference.model import ZipType
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
        # 10008 (New York) delivers to PO boxes only; 00501 (Holtsville) is the IRS's own ZIP.
        (us("New York", "NY", "10008"), MISMATCH,
         "ZIP 10008 (New York, NY) is for PO boxes only; the address is a street address"),
        (us("New York", "NY", "10008", line1="PO Box 1234"), VERIFIED, "ZIP 10008 is New York, NY"),
        (us("New York", "NY", "10008-1234", line1="P.O. Box 1234"), VERIFIED, "ZIP 10008 is New York, NY"),
        (us("Boston", "NY", "10008", line1="PO Box 1234"), MISMATCH, "ZIP 10008 is New York, NY; the city says Boston"),
        (us("New York", "NY", "10001", line1="PO Box 12"), VERIFIED, "ZIP 10001 is New York, NY"),
        (us("Holtsville", "NY", "00501"), UNVERIFIABLE,
         "ZIP 00501 (Holtsville, NY) belongs to one organisation; the data cannot tell whether the address is theirs"),
        (us("APO", "AE", "09001", line1="Unit 2050 Box 4190"), VERIFIED, "ZIP 09001 is Apo, AE"),
        # 2113xx is 高淳区's own office, and 2111xx 江宁区's: 鼓楼区 and 江宁区 use neither.
        (cn("鼓楼区中山路1号", "南京市", "江苏省", "211300"), MISMATCH,
         "postcode 211300 is 高淳区's (2113xx); the address says 鼓楼区"),
        (cn("江宁区天元路1号", "南京市", "江苏省", "211305"), MISMATCH,
         "postcode 211305 is 高淳区's (2113xx); the address says 江宁区"),
        (cn("朝阳区建国路1号", "北京市", "", "101300"), MISMATCH,
         "postcode 101300 is 顺义区's (1013xx); the address says 朝阳区"),
        (cn("高淳区淳溪街道1号", "南京市", "江苏省", "211300"), VERIFIED, "postcode 211300 is 江苏省南京市高淳区"),
        # The city's central office serves the urban edge of its suburban districts (大兴区旧宫 is 100076,
        # 浦口区泰山街道 210031), and the city's delivery zones cross district lines (200335 is 长宁区's
        # 新泾 as well as 普陀区's): neither says which district an address is in.
        (cn("大兴区旧宫镇1号", "北京市", "", "100076"), VERIFIED, "postcode 100076 is 北京市大兴区"),
        (cn("浦口区泰山街道1号", "南京市", "江苏省", "210031"), VERIFIED, "postcode 210031 is 江苏省南京市浦口区"),
        (cn("长宁区新泾镇1号", "上海市", "", "200335"), VERIFIED, "postcode 200335 is 上海市长宁区"),
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


def test_the_labelled_set_writes_a_box_where_the_zip_has_boxes_only_and_draws_no_unique_zip() -> None:
    reference = reference_in_use()
    labelled = generate_labelled_addresses(reference, n=2000, error_share=0.0, seed=5)

    us_entries = [
        (address.fields, reference.us_zips[address.fields["postal_code"][:5]])
        for address in labelled if address.fields["country"] == "US"
    ]
    box_only = [fields for fields, entry in us_entries if entry.zip_type is ZipType.PO_BOX]

    assert box_only and all(names_box_delivery(fields["line1"]) for fields in box_only)
    assert not any(entry.zip_type is ZipType.UNIQUE for _, entry in us_entries)


def test_same_place_digit_errors_are_caught_where_the_zip_type_or_a_county_office_tells() -> None:
    reference = reference_in_use()
    labelled = generate_labelled_addresses(reference, n=20_000, error_share=0.5, seed=7)

    caught = [
        verify_address(address.fields, reference) for address in labelled if address.same_place
    ]
    reasons = [found.reason for found in caught if found.flagged]

    assert any("is for PO boxes only" in reason for reason in reasons)
    assert any("belongs to one organisation" in reason for reason in reasons)
    assert any("; the address says " in reason for reason in reasons)


@pytest.mark.parametrize(
    ("lines", "box"),
    [
        (("PO Box 123", ""), True),
        (("P.O. Box 5", ""), True),
        (("Post Office Box 9", ""), True),
        (("Jane Doe", "POB 3"), True),
        (("PSC 1234, Box 5678", ""), True),
        (("General Delivery", ""), True),
        (("1 Main St", ""), False),
        (("123 Box Canyon Rd", ""), False),
        (("12 Boxwood Ln", "Apt 4"), False),
    ],
)
def test_box_delivery_is_told_from_a_street_address(lines: tuple[str, str], box: bool) -> None:
    assert names_box_delivery(*lines) is box
