"""The recipient block as printed."""

from __future__ import annotations

import pytest

from mailer.batches.address_block import format_address_block


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (
            {"country": "CN", "region": "浙江省", "city": "杭州市", "line1": "文三路478号", "line2": "A座1201室"},
            ("浙江省杭州市文三路478号", "A座1201室", "王磊 收"),
        ),
        (
            {"country": "CN", "region": "浙江省", "city": "杭州市", "line1": "杭州市西湖区文三路478号"},
            ("浙江省杭州市西湖区文三路478号", "王磊 收"),
        ),
        (
            {"country": "CN", "region": "", "city": "北京市", "line1": "北京市朝阳区建国路1号"},
            ("北京市朝阳区建国路1号", "王磊 收"),
        ),
    ],
)
def test_chinese_blocks_run_from_province_to_door_with_the_name_last(
    address: dict[str, str], expected: tuple[str, ...]
) -> None:
    assert format_address_block(name="王磊", address={"postal_code": "310012", **address}) == expected


def test_us_blocks_are_capitals_with_city_state_zip_last() -> None:
    address = {"country": "US", "region": "IL", "city": "Springfield", "line1": "12 Oak St", "line2": "Apt 4",
               "postal_code": "62704-1234"}
    assert format_address_block(name="John Smith", address=address) == (
        "JOHN SMITH", "12 OAK ST", "APT 4", "SPRINGFIELD IL 62704-1234",
    )


def test_us_delivery_lines_are_printed_in_publication_28_form() -> None:
    address = {"country": "US", "region": "Illinois", "city": "Springfield", "line1": "12 North Oak Street",
               "line2": "Apartment 4", "postal_code": "62704"}
    assert format_address_block(name="John Smith", address=address) == (
        "JOHN SMITH", "12 N OAK ST", "APT 4", "SPRINGFIELD IL 62704",
    )
