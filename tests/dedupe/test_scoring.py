"""Keys and scores on hand-made pairs in English and Chinese."""

from __future__ import annotations

import pytest

from mailer.dedupe.keys import MatchKeys, match_keys, name_match_keys
from mailer.dedupe.scoring import DEFAULT_THRESHOLD, compare


def us(name: str, line1: str, line2: str = "", *, postal_code: str = "62704", city: str = "Springfield") -> MatchKeys:
    return match_keys(
        name=name, line1=line1, line2=line2, city=city, region="IL", postal_code=postal_code, country="US"
    )


def cn(
    name: str, line1: str, line2: str = "", *, city: str = "杭州市", region: str = "浙江省",
    postal_code: str = "310012",
) -> MatchKeys:
    return match_keys(
        name=name, line1=line1, line2=line2, city=city, region=region, postal_code=postal_code, country="CN"
    )


def latin_cn(name: str, line1: str, line2: str = "", *, city: str = "Hangzhou") -> MatchKeys:
    return match_keys(
        name=name, line1=line1, line2=line2, city=city, region="Zhejiang", postal_code="310012", country="CN"
    )


SAME_PERSON = [
    pytest.param(latin_cn("Wang Lei", "88 Zhongshan Rd"), cn("王磊", "中山路88号"), id="pinyin-and-hanzi"),
    pytest.param(us("Jon Smith", "12 Oak St Apt 4"), us("John Smith", "12 Oak Street #4"), id="issue-example"),
    pytest.param(latin_cn("Lei Wang", "88 Zhongshan Road"), cn("王磊", "中山路88号"), id="given-name-first"),
    pytest.param(latin_cn("Wang Lei", "88 Zhongshan North Rd"), cn("王磊", "中山北路88号"), id="road-section"),
    pytest.param(latin_cn("Wang Lei", "88 Zhongshan Bei Lu"), cn("王磊", "中山北路88号"), id="road-section-pinyin"),
    pytest.param(latin_cn("WANG Xiao-Ming", "88 Zhongshan Lu"), cn("王小明", "中山路88号"), id="hyphen-and-lu"),
    pytest.param(
        latin_cn("Wang Lei", "478 Wensan Rd, Huaxing Shidai Guangchang", "Tower A, Rm 1201"),
        cn("王磊", "文三路478号华星时代广场A座1201室"),
        id="tower-and-room-in-pinyin",
    ),
    pytest.param(
        latin_cn("Li Na", "Jinxiu Jiayuan", "Bldg 16, Unit 2, Rm 804"), cn("李娜", "锦绣嘉园16栋2单元804室"),
        id="estate-in-pinyin",
    ),
    pytest.param(cn("陈静", "西湖区文三路478号"), cn("陳静", "文三路４７８号"), id="traditional-fullwidth-district"),
    pytest.param(cn("王 磊", "阳光花园5-1-302"), cn("王磊", "阳光花园5号楼1单元302室"), id="short-building-form"),
    pytest.param(cn("李先生", "中山路88号"), cn("李伟", "浙江省杭州市中山路88号"), id="surname-and-honorific"),
    pytest.param(us("Bill Jones", "5 N Main St"), us("William Jones", "5 Main Street"), id="nickname-no-direction"),
    pytest.param(us("John A. Smith", "12 Oak St"), us("Smith, John", "12 Oak St Apt 4"), id="middle-initial-no-unit"),
    pytest.param(us("J. Smith", "12 Oak St Apt 4"), us("John Smith", "12 Oak St Apt 4"), id="initial"),
    pytest.param(us("Mary Jones", "40 Center Ave"), us("Mary Jones", "40 Cennter Ave"), id="typo-in-suffix-word"),
    pytest.param(us("Mary Jones", "40 Elm St"), us("Mary Jnoes", "40 Elm St", postal_code="62704-1234"), id="typo"),
]

DIFFERENT_PEOPLE = [
    pytest.param(us("John Smith", "12 Oak St Apt 4"), us("John Smith", "12 Oak St Apt 5"), id="other-flat"),
    pytest.param(cn("王磊", "中山路88号1单元302室"), cn("王磊", "中山路88号1单元301室"), id="other-room"),
    pytest.param(cn("王磊", "中山路88号"), cn("王芳", "解放路12号"), id="surname-elsewhere"),
    pytest.param(us("John Smith", "12 Oak St"), us("Mary Smith", "40 Elm St"), id="surname-elsewhere-us"),
    pytest.param(us("John Smith", "12 Oak St Apt 4"), us("Mary Smith", "12 Oak St Apt 4"), id="household"),
    pytest.param(cn("王磊", "中山路88号"), cn("王芳", "中山路88号"), id="household-cn"),
    pytest.param(us("John Smith", "12 Oak St"), us("John Smith", "14 Oak St"), id="namesake-next-door"),
    pytest.param(us("John Smith", "12 N Oak St"), us("John Smith", "12 S Oak St"), id="other-side-of-town"),
    pytest.param(cn("王磊", "中山南路88号"), cn("王磊", "中山北路88号"), id="other-section-cn"),
]


@pytest.mark.parametrize(("first", "second"), SAME_PERSON)
def test_same_person_scores_as_a_duplicate(first: MatchKeys, second: MatchKeys) -> None:
    assert compare(first, second).score >= DEFAULT_THRESHOLD
    assert compare(second, first) == compare(first, second)


@pytest.mark.parametrize(("first", "second"), DIFFERENT_PEOPLE)
def test_different_people_do_not(first: MatchKeys, second: MatchKeys) -> None:
    assert compare(first, second).score < DEFAULT_THRESHOLD


def test_scores_are_explained_by_name_and_address() -> None:
    other_flat = compare(us("John Smith", "12 Oak St Apt 4"), us("John Smith", "12 Oak St Apt 5"))
    assert other_flat.name_score == 100
    assert other_flat.address_score == 50  # the same street, numbers in conflict
    household = compare(us("John Smith", "12 Oak St Apt 4"), us("Mary Smith", "12 Oak St Apt 4"))
    assert household.address_score == 100
    assert household.name_score < 70


@pytest.mark.parametrize(
    ("name", "resolved", "written"),
    [
        ("王磊", "lei wang", "lei wang"),
        ("欧阳娜娜", "nana ouyang", "nana ouyang"),
        ("Wang Lei", "lei wang", "lei wang"),
        ("李先生", "li", "li"),
        ("Mr. Bill Jones", "jones william", "bill jones"),
        ("Smith, Mary-Jane", "maryjane smith", "maryjane smith"),
        ("王 小明", "wang xiaoming", "wang xiaoming"),
    ],
)
def test_name_keys(name: str, resolved: str, written: str) -> None:
    assert name_match_keys(name) == (resolved, written)
