import dataclasses
from typing import Any

import pytest

from mailer.addresses.normalize import NormalizedAddress, normalize_address


def us(line1: str, line2: str = "", *, postal_code: str = "62701", **extra: str) -> NormalizedAddress:
    fields: dict[str, Any] = {"city": "Springfield", "region": "IL", **extra}
    return normalize_address(line1=line1, line2=line2, postal_code=postal_code, country="US", **fields)


def cn(line1: str, line2: str = "", *, city: str = "南京", **extra: str) -> NormalizedAddress:
    fields: dict[str, Any] = {"region": "", "postal_code": "210000", "country": "CN", **extra}
    return normalize_address(line1=line1, line2=line2, city=city, **fields)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (us("12 Oak St Apt 4"), us("12 OAK STREET #4")),
        (us("12 Oak St Apt 4"), us("12 Oak Street", "Apartment 4")),
        (us("12 Oak St Apt 4"), us("12 Oak St. Unit #4")),
        (us("12 Oak St Apt 4"), us("12 Oak St Apt. 4", region="Illinois")),
        (us("12 Oak St Apt 4"), us("12 Oak St, Apt4")),
        (us("12 Oak St Apt 4"), us("12 Oak St 4")),
        (us("12 Oak St Apt 4"), us("12 Oak St Apt 4", postal_code="62701-1234")),
        (us("12 Oak St Apt 4"), us("１２ Ｏａｋ Ｓｔ Ａｐｔ ４")),
        (us("500 North Lakeshore Boulevard Suite 200"), us("500 N Lakeshore Blvd Ste 200")),
        (us("7 Elm Avenue"), us("7 elm ave.")),
        (us("7 Elm Parkway"), us("7 Elm Pkwy")),
        (us("7 Elm Terrace"), us("7 Elm Ter")),
        (us("7 Elm Court, Room 3"), us("7 Elm Ct Rm 3")),
        (us("7 Elm Rd, 2nd Floor"), us("7 Elm Road Fl 2")),
        (us("P.O. Box 123"), us("PO BOX 123")),
        (
            cn("中山路88号1单元302室"),
            cn("中山路 ８８号 １单元 ３０２室"),
        ),
        (cn("中山路88号1单元302室"), cn("中山路88号1单元302", city="南京市")),
        (cn("中山路88号1单元302室"), cn("江苏省南京市中山路88号1单元302室")),
        (cn("中山路88号1单元302室"), cn("中山路88号1单元302室", region="江苏省", postal_code="210005")),
        (cn("中山路88号5号楼1单元302室"), cn("中山路88号5栋1单元302室")),
        (cn("中山路88号5号楼1单元302室"), cn("中山路88号5-1-302")),
        (cn("长乐路123弄4号201室", city="上海"), cn("上海市长乐路123弄4号201室", city="")),
    ],
)
def test_same_household(first: NormalizedAddress, second: NormalizedAddress) -> None:
    assert first.delivery_point == second.delivery_point
    assert first.household_key == second.household_key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (us("12 Oak St Apt 4"), us("12 Oak St Apt 5")),
        (us("12 Oak St Apt 4"), us("12 Oak St")),
        (us("12 Oak St Apt 4"), us("14 Oak St Apt 4")),
        (us("12 Oak St Apt 4"), us("12 Oak Ave Apt 4")),
        (us("12 Oak St Apt 4"), us("12 Oak St Apt 4", postal_code="62702")),
        (us("12 Oak St Apt 4"), us("12 Oak St Fl 4")),
        (us("12 N Oak St"), us("12 S Oak St")),
        (us("1 Highway 61"), us("1 Highway 62")),
        (cn("中山路88号1单元302室"), cn("中山路88号1单元301室")),
        (cn("中山路88号1单元302室"), cn("中山路88号2单元302室")),
        (cn("中山路88号1单元302室"), cn("中山路86号1单元302室")),
        (cn("中山路88号1单元302室"), cn("中山北路88号1单元302室")),
        (cn("中山路88号1单元302室"), cn("中山路88号1单元302室", city="广州")),
        (cn("中山路88号5栋1单元302室"), cn("中山路88号6栋1单元302室")),
    ],
)
def test_different_households(first: NormalizedAddress, second: NormalizedAddress) -> None:
    assert first.household_key != second.household_key


@pytest.mark.parametrize(
    ("address", "components", "delivery_point"),
    [
        (
            us("12 Oak St Apt 4"),
            {"number": "12", "street": "oak st", "unit": "apt 4"},
            "12 oak st # 4",
        ),
        (
            us("100 N Main St Suite 200, 3rd Floor"),
            {"number": "100", "street": "n main st", "unit": "ste 200 fl 3"},
            "100 n main st # 200 fl 3",
        ),
        (
            us("123-45 Queens Blvd Apt 4-B", postal_code="11375"),
            {"number": "123-45", "street": "queens blvd", "unit": "apt 4-b"},
            "123-45 queens blvd # 4-b",
        ),
        (us("P.O. Box 123"), {"po_box": "123"}, "po box 123"),
        (
            cn("江苏省南京市鼓楼区中山路88号1单元302室"),
            {
                "province": "江苏省",
                "city": "南京市",
                "district": "鼓楼区",
                "street": "中山路",
                "number": "88号",
                "unit": "1单元",
                "room": "302室",
            },
            "鼓楼区 中山路 88号 1单元 302室",
        ),
        (
            cn("北京市海淀区中关村大街27号", city="北京"),
            {
                "province": "北京市",
                "city": "北京市",
                "district": "海淀区",
                "street": "中关村大街",
                "number": "27号",
            },
            "海淀区 中关村大街 27号",
        ),
        (
            cn("天河区体育西路191号中石化大厦B座1503", city="广州", region="广东"),
            {
                "province": "广东省",
                "city": "广州市",
                "district": "天河区",
                "street": "体育西路",
                "number": "191号",
                "building": "b栋",
                "room": "1503室",
                "extra": "中石化大厦",
            },
            "天河区 体育西路 191号 中石化大厦 b栋 1503室",
        ),
        (
            cn("朝阳区望京阳光小区5-1-302", city="北京"),
            {
                "province": "北京市",
                "city": "北京市",
                "district": "朝阳区",
                "building": "5栋",
                "unit": "1单元",
                "room": "302室",
                "extra": "望京阳光小区",
            },
            "朝阳区 望京阳光小区 5栋 1单元 302室",
        ),
        (
            # 河南路 and 北京西路 are streets named after provinces, not provinces.
            cn("河南路100号", city="上海"),
            {"province": "上海市", "city": "上海市", "street": "河南路", "number": "100号"},
            "河南路 100号",
        ),
        (
            cn("北京西路1号3楼"),
            {"city": "南京市", "street": "北京西路", "number": "1号", "floor": "3层"},
            "北京西路 1号 3层",
        ),
    ],
)
def test_components(address: NormalizedAddress, components: dict[str, str], delivery_point: str) -> None:
    assert address.components == components
    assert address.delivery_point == delivery_point


def test_text_holds_the_whole_address_folded() -> None:
    assert us("12 Oak Street #4", region="Illinois").text == "12 oak st # 4 springfield il 62701 us"
    assert cn("中山路８８号", region="江苏").text == "江苏省 南京市 中山路 88号 210000 cn"
    assert cn("长安街1号", city="北京").text == "北京市 长安街 1号 210000 cn"


def test_fingerprint_follows_the_text() -> None:
    assert us("12 Oak St Apt 4").fingerprint == us("12 OAK STREET #4").fingerprint
    assert us("12 Oak St Apt 4").fingerprint != us("12 Oak St Apt 4", city="Chatham").fingerprint
    assert len(us("12 Oak St Apt 4").fingerprint) == 32


def test_household_key_is_short_and_stable() -> None:
    # Stored keys must not change between releases, or stored households split.
    assert us("12 Oak St Apt 4").household_key == "9cee764fd52e94fa"


def test_pinyin_chinese_address_normalizes_like_english() -> None:
    address = normalize_address(
        line1="88 Zhongshan Road", city="Nanjing", postal_code="210000", country="China"
    )
    assert address.components == {"number": "88", "street": "zhongshan rd"}
    assert address.text == "88 zhongshan rd nanjing 210000 cn"


def test_normalized_address_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        us("12 Oak St").text = "changed"  # type: ignore[misc]
