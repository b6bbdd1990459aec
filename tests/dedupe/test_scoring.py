"""Keys and scores on hand-made pairs in English and Chinese."""

from __future__ import annotations

import numpy as np
import pytest

import mailer.dedupe.keys
import mailer.dedupe.scoring
from mailer.dedupe.keys import KeyTable, MatchKeys, given_and_surname, match_keys, name_match_keys
from mailer.dedupe.model import HOUSEHOLD_WEIGHT
from mailer.dedupe.scoring import DEFAULT_THRESHOLD, FIELDS, ComparisonColumns, compare_pairs
from mailer.dedupe.search import ScoredPairs, fit_matcher
from tests.dedupe.labelled import customer_fields, generate_labelled_set


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
    pytest.param(us("John Smith", "12 N Oak St"), us("John Smith", "12 S Oak St"), id="other-side-of-town"),
    pytest.param(cn("王磊", "中山南路88号"), cn("王磊", "中山北路88号"), id="other-section-cn"),
]


CASES = [*SAME_PERSON, *DIFFERENT_PEOPLE]


@pytest.fixture(scope="module")
def base() -> KeyTable:
    """A generated file of customers, for the model to learn from."""
    return KeyTable.from_customers(customer_fields(generate_labelled_set(600, seed=5).rows))


def scored(base: KeyTable, case_id: str, *, reverse: bool = False) -> ScoredPairs:
    """Score one case's pair with a model fitted on the base file plus the pair."""
    (first, second), = [case.values for case in CASES if case.id == case_id]
    table = KeyTable(*(list(column) for column in (getattr(base, name) for name in KeyTable.__slots__)))
    table.append("T-a", first)  # type: ignore[arg-type]
    table.append("T-b", second)  # type: ignore[arg-type]
    matcher, _, _ = fit_matcher(table)
    a, b = len(table) - 2, len(table) - 1
    if reverse:
        a, b = b, a
    return matcher.score_pairs(np.array([a]), np.array([b]))


@pytest.mark.parametrize("case_id", [case.id for case in SAME_PERSON])
def test_same_person_scores_as_a_duplicate(base: KeyTable, case_id: str) -> None:
    pair = scored(base, case_id)
    assert pair.probability[0] >= DEFAULT_THRESHOLD
    assert scored(base, case_id, reverse=True).probability[0] == pytest.approx(pair.probability[0], abs=1e-3)


@pytest.mark.parametrize("case_id", [case.id for case in DIFFERENT_PEOPLE])
def test_different_people_do_not(base: KeyTable, case_id: str) -> None:
    assert scored(base, case_id).probability[0] < DEFAULT_THRESHOLD


def test_a_household_is_kept_apart_by_its_own_rule(base: KeyTable) -> None:
    household = scored(base, "household")
    assert household.household[0]
    # Without the rule the address and surname alone would have carried it.
    assert household.weight[0] - HOUSEHOLD_WEIGHT > household.weight[0]
    assert not scored(base, "initial").household[0]
    assert not scored(base, "nickname-no-direction").household[0]


def levels_of(first: MatchKeys, second: MatchKeys) -> dict[str, str]:
    table = KeyTable()
    table.append("A", first)
    table.append("B", second)
    comparison = compare_pairs(ComparisonColumns.of(table), np.array([0]), np.array([1]))
    return {field.name: field.levels[int(level)] for field, level in zip(FIELDS, comparison.levels[0], strict=True)}


def test_comparison_levels() -> None:
    assert levels_of(us("Bill Jones", "5 Main St"), us("William Jones", "5 Main St"))["given"] == "nickname"
    assert levels_of(us("J. Smith", "5 Main St"), us("John Smith", "5 Main St"))["given"] == "initial"
    assert levels_of(us("Jhon Smith", "5 Main St"), us("John Smith", "5 Main St"))["given"] == "typo"
    assert levels_of(us("Mary Smith", "5 Main St"), us("Ryan Smith", "5 Main St"))["given"] == "different"
    pinyin = levels_of(latin_cn("Lei Wang", "88 Zhongshan Road"), cn("王磊", "中山路88号"))
    assert (pinyin["given"], pinyin["surname"], pinyin["street"], pinyin["numbers"]) == ("exact",) * 4
    swapped = levels_of(us("Thomas Lee", "5 Main St"), us("Lee Thomas", "5 Main St"))
    assert (swapped["given"], swapped["surname"]) == ("exact", "exact")
    flat = levels_of(us("John Smith", "12 Oak St Apt 4"), us("John Smith", "12 Oak St Apt 5"))
    assert flat["numbers"] == "different"
    missing = levels_of(us("Smith", "12 Oak St"), us("John Smith", "12 Oak St Apt 4"))
    assert (missing["given"], missing["numbers"]) == ("missing", "partial")
    assert levels_of(us("Ann Lee", "5 Main St"), us("Ann Li", "5 Main St"))["surname"] != "exact"


def test_typing_slips_that_look_like_other_names_compare_as_typos() -> None:
    # Two letters swapped in a short name; a stray space inside the given name.
    assert levels_of(us("Amy Dudley", "8 Elm St"), us("Aym Dudley", "8 Elm St"))["given"] == "typo"
    assert levels_of(us("Molly Garcia", "8 Elm St"), us("Mol Ly Garcia", "8 Elm St"))["given"] == "typo"
    assert levels_of(us("Connor Stitz", "8 Elm St"), us("Cnono R Stitz", "8 Elm St"))["given"] == "typo"
    # A short name one letter off is another name, and a middle name is not a split given name.
    assert levels_of(us("Ting Wu", "8 Elm St"), us("Qing Wu", "8 Elm St"))["given"] not in ("exact", "typo")
    assert levels_of(us("Ann Marie Lee", "8 Elm St"), us("Mary Lee", "8 Elm St"))["given"] == "different"


def other_flat(first: MatchKeys, second: MatchKeys) -> bool:
    table = KeyTable()
    table.append("A", first)
    table.append("B", second)
    return bool(compare_pairs(ComparisonColumns.of(table), np.array([0]), np.array([1])).other_flat[0])


def test_a_flat_number_with_a_digit_read_as_its_look_alike_letter_is_a_slip_not_another_flat() -> None:
    misread = (us("Hannah Green", "65 Jacka Cres Apt 770"), us("Hannah Green", "65 Jacka Cres Apt 77D"))
    assert levels_of(*misread)["numbers"] == "typo"
    assert not other_flat(*misread)
    # Another digit, or a letter unlike the digit, is another flat of the house.
    for first, second in (("770", "771"), ("77C", "770"), ("18", "13")):
        pair = (us("Hannah Green", f"65 Jacka Cres Apt {first}"), us("Hannah Green", f"65 Jacka Cres Apt {second}"))
        assert levels_of(*pair)["numbers"] == "different", (first, second)
        assert other_flat(*pair), (first, second)


def test_addresses_typed_in_other_forms_compare_alike() -> None:
    glued = levels_of(
        us("Chelsea Clarke", "26 Namadgi Cct", "Villa74"), us("Chelsea Clarke", "26 Namadgi Cct", "Villa 74")
    )
    assert (glued["street"], glued["numbers"]) == ("exact", "exact")
    # An estate name on one side only: the same street, not another one.
    estate = levels_of(us("Lucas Spargo", "34 Stephen Street"), us("Lucas Spargo", "34 Stephen Street", "Bidgee Park"))
    assert estate["street"] == "similar"
    assert levels_of(us("Lucas Spargo", "34 Stephen St"), us("Lucas Spargo", "34 Oak St"))["street"] == "different"


def test_given_and_surname() -> None:
    assert given_and_surname("Smith, John") == ("john", "smith")
    assert given_and_surname("王磊") == ("lei", "wang")
    assert given_and_surname("Mr. J. Smith") == ("j", "smith")
    assert given_and_surname("李先生") == ("", "li")


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


def test_a_large_file_is_keyed_in_worker_processes_in_the_file_order(monkeypatch: pytest.MonkeyPatch) -> None:
    customers = customer_fields(generate_labelled_set(400, seed=8).rows)
    alone = KeyTable.from_customers(customers, workers=1)
    monkeypatch.setattr(mailer.dedupe.keys, "KEY_CHUNK", 37)
    shared = KeyTable.from_customers(iter(customers), workers=2)
    assert shared == alone
    assert shared.customer_nos == [customer.customer_no for customer in customers]


def test_pairs_compared_in_chunks_in_worker_processes_compare_as_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    table = KeyTable.from_customers(customer_fields(generate_labelled_set(300, seed=10).rows))
    rng = np.random.default_rng(10)
    a = rng.integers(0, len(table), 5_000)
    b = rng.integers(0, len(table), 5_000)
    columns = ComparisonColumns.of(table)
    whole = compare_pairs(columns, a, b)
    monkeypatch.setattr(mailer.dedupe.scoring, "COMPARE_CHUNK", 700)
    chunked = compare_pairs(columns, a, b)
    for name in ("levels", "swapped", "other_flat"):
        assert np.array_equal(getattr(chunked, name), getattr(whole, name)), name
