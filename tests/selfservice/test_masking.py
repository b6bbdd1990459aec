"""Names and addresses partly hidden for the customers' page."""

from __future__ import annotations

import pytest

from mailer.selfservice.masking import mask_name, mask_postal_code, mask_street, mask_word, strip_leading


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王磊", "王*"),
        ("欧阳娜娜", "欧阳**"),
        ("李先生", "李*"),
        ("John Smith", "J*** S****"),
        ("JOHN SMITH", "J*** S****"),
        ("Mary-Jane O'Neil", "M***-**** O'****"),
        ("J. R. Hartley", "J. R. H******"),
    ],
)
def test_a_name_keeps_only_the_surname_or_the_initials(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("12 Oak Street", "** O** S*****"),
        ("Apt 4B", "A** **"),
        ("#12", "#**"),
        ("文三路478号华星时代广场A座1201室", "文******"),
        ("中山路8号", "中****"),
        ("8号楼", "***"),
        ("", ""),
    ],
)
def test_a_street_line_hides_numbers_and_most_of_the_street(line: str, masked: str) -> None:
    assert mask_street(line) == masked


def test_words_with_digits_are_hidden_whole() -> None:
    assert mask_word("221B") == "****"
    assert mask_word("Baker") == "B****"
    assert mask_word("—") == "—"


@pytest.mark.parametrize(
    ("code", "masked"),
    [("62704", "627**"), ("62704-1234", "627**-****"), ("310012", "310***"), ("2000", "20**"), ("12", "**")],
)
def test_a_postal_code_keeps_its_first_digits(code: str, masked: str) -> None:
    assert mask_postal_code(code) == masked


def test_strip_leading_drops_a_province_and_city_typed_into_the_street() -> None:
    assert strip_leading("浙江省杭州市文三路", "浙江省", "杭州市") == "文三路"
    assert strip_leading("文三路", "浙江省", "杭州市") == "文三路"
    assert strip_leading("杭州市文三路", "", "杭州市") == "文三路"
