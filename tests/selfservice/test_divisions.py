"""The province, city and district a Chinese letter's page offers, checked against the reference data."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mailer.addresses.models import AddressVerification
from mailer.reference.model import Reference
from mailer.reference.store import reference_in_use
from mailer.selfservice.divisions import (
    DivisionNotFound,
    cities,
    districts,
    find_place,
    place_options,
    province_by_code,
    provinces,
    street_with_district,
)
from mailer.selfservice.service import AddressProblem, AddressRejected, update_address
from tests.selfservice.letters import CN_ROW, mail_letter
from tests.selfservice.test_service import TODAY, _find


@pytest.fixture(scope="module")
def reference() -> Reference:
    return reference_in_use()


def _names(divisions: list) -> list[str]:  # type: ignore[type-arg]
    return [division.name for division in divisions]


def test_provinces_cities_and_districts_each_lie_under_the_one_above(reference: Reference) -> None:
    assert len(provinces(reference)) == 34
    jiangsu = province_by_code(reference, "320000")
    assert jiangsu is not None and jiangsu.name == "江苏省"
    assert _names(cities(reference, jiangsu))[:2] == ["南京市", "无锡市"]
    nanjing = cities(reference, jiangsu)[0]
    assert {"鼓楼区", "玄武区", "江宁区"} <= set(_names(districts(reference, nanjing)))
    # 鼓楼区 is also a district of Fuzhou, Xuzhou and Kaifeng: each is found only under its own city.
    assert find_place(reference, province="福建省", city="福州市", district="鼓楼区").district.code == "350102"  # type: ignore[union-attr]


def test_a_municipality_is_its_own_city_and_a_county_level_city_needs_no_district(reference: Reference) -> None:
    beijing = province_by_code(reference, "110000")
    assert beijing is not None and _names(cities(reference, beijing)) == ["北京市"]
    assert "朝阳区" in _names(districts(reference, cities(reference, beijing)[0]))
    hubei = province_by_code(reference, "420000")
    assert hubei is not None and "仙桃市" in _names(cities(reference, hubei))
    assert "湖北省-自治区直辖县级行政区划" not in _names(cities(reference, hubei))
    place = find_place(reference, province="湖北省", city="仙桃市", district="")
    assert place.missing == () and place.district is None
    assert province_by_code(reference, "320100") is None  # a city is no province


@pytest.mark.parametrize(
    ("province", "city", "district", "field", "parent"),
    [
        ("江南省", "南京市", "鼓楼区", "region", ""),
        ("浙江省", "南京市", "鼓楼区", "city", "浙江省"),
        ("江苏省", "南京市", "西湖区", "district", "南京市"),
    ],
)
def test_a_division_not_under_the_one_above_is_named(
    reference: Reference, province: str, city: str, district: str, field: str, parent: str
) -> None:
    with pytest.raises(DivisionNotFound) as caught:
        find_place(reference, province=province, city=city, district=district)
    assert (caught.value.choice.field, caught.value.choice.parent) == (field, parent)


def test_what_is_not_chosen_yet_is_missing_and_offers_nothing_below(reference: Reference) -> None:
    assert find_place(reference, province="", city="", district="").missing == ("region", "city", "district")
    assert find_place(reference, province="江苏省", city="南京市", district="").missing == ("district",)
    options = place_options(reference, province="江苏省", city="杭州市")
    assert options.cities and options.districts == []


def test_the_district_heads_the_street_line_once() -> None:
    gulou = reference_in_use().divisions["320106"]
    assert street_with_district("中山路1号", gulou) == "鼓楼区中山路1号"
    assert street_with_district("鼓楼区中山路1号", gulou) == "鼓楼区中山路1号"
    assert street_with_district("中山路1号", None) == "中山路1号"


def test_the_service_stores_the_chosen_divisions_verified_and_refuses_a_city_elsewhere(session: Session) -> None:
    letter = mail_letter(session, "C030", base=CN_ROW, today=TODAY)
    piece = _find(session, letter.token)
    gulou = {"region": "江苏省", "city": "南京市", "district": "鼓楼区", "line1": "中山路1号", "postal_code": "210008"}
    with pytest.raises(AddressRejected) as caught:
        update_address(session, piece=piece, values={**gulou, "region": "浙江省"})
    assert caught.value.problem is AddressProblem.DIVISION and caught.value.fields == ("city",)
    assert caught.value.division == ("南京市", "浙江省")

    new = update_address(session, piece=piece, values=gulou)
    assert (new.region, new.city, new.line1) == ("江苏省", "南京市", "鼓楼区中山路1号")
    assert new.verification is AddressVerification.VERIFIED
