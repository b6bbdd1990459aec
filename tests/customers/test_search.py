"""Finding customers by any word of the name, pinyin, number, email, phone and postcode, kept in step."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.customers import search
from mailer.customers.importing import import_customers
from mailer.customers.models import Customer, CustomerSearchTerm
from mailer.customers.search import fold_word, phone_terms, query_words, search_terms
from mailer.customers.service import CustomerFilters, list_customers
from mailer.dedupe.service import merge_customers, undo_merge
from tests.factories import CN_ROW, US_ROW, add_customer, customer_row, write_csv


def _found(session: Session, text: str) -> list[str]:
    page = list_customers(session, filters=CustomerFilters(search=text), size=100)
    return sorted(row.customer_no for row in page.items)


def test_words_fold_case_accents_width_and_punctuation() -> None:
    assert fold_word("NATHAN") == fold_word("nathan") == "nathan"
    assert fold_word("García") == "garcia"
    assert fold_word("O'Brien") == "obrien"
    assert fold_word("Ｃ－０００１") == "c0001"  # full-width, as a Chinese keyboard types it
    assert fold_word("王小明") == "王小明"


def _begins_a_term(word: str, terms: set[str]) -> bool:
    return any(term.startswith(word) for term in terms)


def test_a_chinese_name_is_found_in_characters_and_in_pinyin() -> None:
    terms = search_terms(customer_no="C-0042", name="王小明", phone=None, email=None)
    for word in ("王小明", "王", "小明", "wang", "xiaoming", "wangxiaoming", "xiao", "ming", "c0042", "c", "0042"):
        assert _begins_a_term(word, terms), word
    # No term begins another: "wang" is found through "wangxiaoming".
    assert "wang" not in terms and "wangxiaoming" in terms
    compound = search_terms(customer_no="K1", name="欧阳娜娜", phone=None, email=None)
    for word in ("欧阳", "娜娜", "ouyang", "nana", "ouyangnana"):
        assert _begins_a_term(word, compound), word


def test_a_phone_is_its_digits_with_and_without_the_country_code() -> None:
    assert phone_terms("+1 (217) 555-0100") == {"12175550100", "2175550100"}
    assert phone_terms("+86 138 1234 5678") == {"8613812345678", "13812345678"}
    assert phone_terms("0086 13812345678") == {"8613812345678", "13812345678"}
    assert query_words("(217) 555-0100") == [("2175550100", "(217) 555-0100")]
    assert [folded for folded, _ in query_words("Nathan  GARCIA, nathan")] == ["nathan", "garcia"]


@pytest.fixture
def customers(session: Session) -> None:
    add_customer(session, "C-0001", name="Nathan Garcia", email="N.Garcia@Example.com", phone="+1 (415) 555-0123",
                 postal_code="94110")
    add_customer(session, "C-0002", name="Nathalie Brown", email="nb@example.org", postal_code="62704")
    add_customer(session, "C-0003", name="Maria García-Lopez", email=None, phone=None, postal_code="94117")
    add_customer(session, "C-0004", base=CN_ROW, name="王小明", phone="13812345678", email="wxm@example.cn")
    add_customer(session, "c-0005", base=CN_ROW, name="李娜", phone="+86 139 0000 1111", email=None,
                 postal_code="100000")
    add_customer(session, "UK-7", base={**US_ROW, "country": "GB"}, name="Olivia Smith", postal_code="SW1A 1AA")


@pytest.mark.usefixtures("customers")
@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("nathan", ["C-0001"]),
        ("Nathan", ["C-0001"]),
        ("nath", ["C-0001", "C-0002"]),
        ("garcia", ["C-0001", "C-0003"]),
        ("GARCÍA", ["C-0001", "C-0003"]),
        ("lopez", ["C-0003"]),
        ("garcia nathan", ["C-0001"]),
        ("nathan brown", []),
        ("wang", ["C-0004"]),
        ("Wang Xiaoming", ["C-0004"]),
        ("xiaoming", ["C-0004"]),
        ("小明", ["C-0004"]),
        ("王", ["C-0004"]),
        ("li na", ["c-0005"]),
        ("c-0004", ["C-0004"]),
        ("C0005", ["c-0005"]),
        ("uk-7", ["UK-7"]),
        ("n.garcia@example.com", ["C-0001"]),
        ("NB@EXAMPLE.ORG", ["C-0002"]),
        ("415-555-0123", ["C-0001"]),
        ("(415) 555 0123", ["C-0001"]),
        ("14155550123", ["C-0001"]),
        ("13900001111", ["c-0005"]),
        ("138 1234 5678", ["C-0004"]),
        ("94110", ["C-0001"]),
        ("9411", ["C-0001", "C-0003"]),
        ("sw1a 1aa", ["UK-7"]),
        ("SW1A", ["UK-7"]),
        ("100000", ["c-0005"]),
        ("zbigniew", []),
    ],
)
@pytest.mark.parametrize(
    ("rare_word", "driving_word", "intersected_word"),
    [(5000, 20_000, 60_000), (0, 0, 0), (0, 100, 0), (0, 100, 100)],
    ids=["rare words read from the index", "common words checked while walking", "common words joined",
         "common words intersected"],
)
def test_search_finds_customers_as_people_type_them(
    session: Session, monkeypatch: pytest.MonkeyPatch, typed: str, found: list[str], rare_word: int,
    driving_word: int, intersected_word: int,
) -> None:
    # Each way of finding the customers gives the same answer; small thresholds make every word common.
    monkeypatch.setattr(search, "RARE_WORD", rare_word)
    monkeypatch.setattr(search, "DRIVING_WORD", driving_word)
    monkeypatch.setattr(search, "INTERSECTED_WORD", intersected_word)
    assert _found(session, typed) == found


@pytest.mark.usefixtures("customers")
@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("garcia nathan", ["C-0001"]),
        ("nathan brown", []),
        ("li na", ["c-0005"]),
        ("Wang Xiaoming", ["C-0004"]),
        ("nath 94110", ["C-0001"]),
        ("garcia 941", ["C-0001", "C-0003"]),
        ("example nat", ["C-0001", "C-0002"]),
        ("wang garcia", []),
        ("nathalie garcia", []),
    ],
)
@pytest.mark.parametrize(
    ("intersected_word", "listed_ids", "together_often"),
    [(100, 5000, 100), (1, 5000, 100), (100, 1, 100), (100, 5000, 1)],
    ids=["every word read and intersected", "the words too common to read checked on the listed ids",
         "too many shared ids to list", "words often together: the list walked"],
)
def test_common_words_read_and_intersected_find_the_same_customers(
    session: Session, monkeypatch: pytest.MonkeyPatch, typed: str, found: list[str], intersected_word: int,
    listed_ids: int, together_often: int,
) -> None:
    monkeypatch.setattr(search, "RARE_WORD", 0)
    monkeypatch.setattr(search, "DRIVING_WORD", 0)
    monkeypatch.setattr(search, "INTERSECTED_WORD", intersected_word)
    monkeypatch.setattr(search, "LISTED_IDS", listed_ids)
    monkeypatch.setattr(search, "TOGETHER_OFTEN", together_often)
    assert _found(session, typed) == found


@pytest.mark.usefixtures("customers")
def test_a_search_without_letters_or_digits_filters_nothing(session: Session) -> None:
    assert query_words("% _ -") == []
    assert len(_found(session, "% _ -")) == 6


def test_terms_follow_a_changed_name_email_and_phone(session: Session) -> None:
    customer = add_customer(session, "C-0100", name="Nathan Garcia", email="old@example.com", phone="111")
    customer.name, customer.email, customer.phone = "Nathan Okafor", "new@example.com", "+1 212 555 0199"
    session.flush()
    assert _found(session, "okafor") == ["C-0100"]
    assert _found(session, "garcia") == []
    assert _found(session, "old@example.com") == []
    assert _found(session, "new@example.com") == ["C-0100"]
    assert _found(session, "2125550199") == ["C-0100"]


def test_a_merged_duplicate_s_words_find_the_survivor_until_the_merge_is_undone(session: Session) -> None:
    add_customer(session, "C-0200", name="Nathan Garcia", email="n@example.com")
    add_customer(session, "C-0201", name="Nate Garcia", email="nate.g@example.com")
    merge = merge_customers(session, survivor_no="C-0200", merged_no="C-0201", actor="test")
    assert _found(session, "nate.g@example.com") == ["C-0200", "C-0201"]
    undo_merge(session, merge_id=merge.id, actor="test")
    assert _found(session, "nate.g@example.com") == ["C-0201"]
    assert _found(session, "nate") == ["C-0201"]


def test_the_customer_import_writes_and_rewrites_the_terms(session: Session, tmp_path: Path) -> None:
    rows = [
        customer_row(customer_no="K-1", name="Nathan Garcia", email="ng@example.com"),
        customer_row(CN_ROW, customer_no="K-2", name="张伟", email=""),
    ]
    import_customers(session, path=write_csv(tmp_path / "first.csv", rows), actor="test")
    assert _found(session, "zhang wei") == ["K-2"]
    assert _found(session, "k-1") == ["K-1"]
    rows[0]["name"], rows[0]["email"] = "Nathan Okafor", "no@example.com"
    report = import_customers(session, path=write_csv(tmp_path / "second.csv", rows), actor="test")
    assert report.updated == 1
    assert _found(session, "garcia") == []
    assert _found(session, "okafor") == ["K-1"]
    assert _found(session, "no@example.com") == ["K-1"]
    stored = set(
        session.scalars(
            select(CustomerSearchTerm.term)
            .join(Customer, Customer.id == CustomerSearchTerm.customer_id)
            .where(Customer.customer_no == "K-1")
        )
    )
    assert stored == search_terms(customer_no="K-1", name="Nathan Okafor", phone=rows[0]["phone"],
                                  email="no@example.com")
