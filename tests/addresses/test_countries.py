import pytest

from mailer.addresses.countries import (
    ALPHA2_CODES,
    canonical_country,
    canonical_postal_code,
    postal_code_problem,
    uses_postal_codes,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CN", "CN"),
        ("cn", "CN"),
        (" CN ", "CN"),
        ("CHN", "CN"),
        ("China", "CN"),
        ("中国", "CN"),
        ("中華人民共和國", "CN"),
        ("ＣＮ", "CN"),  # full-width letters
        ("US", "US"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("united states of america", "US"),
        ("美国", "US"),
        ("Hong Kong", "HK"),
        ("香港", "HK"),
        ("台灣", "TW"),
        ("Taiwan", "TW"),
        ("Macau", "MO"),
        ("澳门", "MO"),
        ("加拿大", "CA"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("英国", "GB"),
        ("日本", "JP"),
        ("South Korea", "KR"),
        ("韩国", "KR"),
        ("新加坡", "SG"),
        ("澳洲", "AU"),
        ("Deutschland", "DE"),
        ("法国", "FR"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Côte d'Ivoire", "CI"),
        ("DEU", "DE"),
        ("", None),
        ("XX", None),
        ("Atlantis", None),
        ("火星", None),
    ],
)
def test_canonical_country(value: str, expected: str | None) -> None:
    assert canonical_country(value) == expected


def test_every_iso_code_is_known_in_either_case() -> None:
    assert len(ALPHA2_CODES) == 249
    for code in ALPHA2_CODES:
        assert canonical_country(code) == code
        assert canonical_country(code.lower()) == code


@pytest.mark.parametrize(
    ("country", "postal_code"),
    [
        ("CN", "100080"),
        ("CN", "１０００８０"),
        ("CN", " 200000 "),
        ("US", "62701"),
        ("US", "62701-1234"),
        ("US", "627011234"),
        ("USA", "02134"),
        ("CA", "K1A 0B1"),
        ("CA", "k1a0b1"),
        ("GB", "SW1A 1AA"),
        ("GB", "m11ae"),
        ("GB", "EC1A 1BB"),
        ("JP", "100-0001"),
        ("JP", "〒1000001"),
        ("DE", "10115"),
        ("FR", "75008"),
        ("AU", "2000"),
        ("HK", ""),
        ("MO", ""),
        ("KR", "03187"),
        ("SG", "018956"),
        ("TW", "100"),
        ("TW", "10048"),
        ("BR", "01310-100"),
        ("NL", "1012 JS"),
    ],
)
def test_postal_code_fits(country: str, postal_code: str) -> None:
    assert postal_code_problem(country=country, postal_code=postal_code) is None


@pytest.mark.parametrize(
    ("country", "postal_code", "problem"),
    [
        ("CN", "10008", "CN postal codes are six digits"),
        ("CN", "1000800", "CN postal codes are six digits"),
        ("CN", "", "CN postal codes are six digits"),
        ("CN", "10008A", "CN postal codes are six digits"),
        ("US", "6270", "US ZIP codes are 12345 or 12345-6789"),
        ("US", "62701-12", "US ZIP codes are 12345 or 12345-6789"),
        ("US", "ABCDE", "US ZIP codes are 12345 or 12345-6789"),
        ("US", "", "US ZIP codes are 12345 or 12345-6789"),
        ("CA", "D1A 0B1", "CA postal codes look like K1A 0B1"),
        ("CA", "12345", "CA postal codes look like K1A 0B1"),
        ("GB", "SW1A", "GB postcodes look like SW1A 1AA"),
        ("JP", "12345", "JP postal codes are 123-4567"),
        ("DE", "1011", "DE postal codes are five digits"),
        ("FR", "750080", "FR postal codes are five digits"),
        ("AU", "20000", "AU postcodes are four digits"),
        ("HK", "1234567890123", "postal code is too long"),
        ("BR", "", "postal code is missing"),
        ("BR", "0131010001310100", "postal codes are at most 12 characters"),
        ("Atlantis", "12345", "unknown country"),
    ],
)
def test_postal_code_problem(country: str, postal_code: str, problem: str) -> None:
    assert postal_code_problem(country=country, postal_code=postal_code) == problem


@pytest.mark.parametrize(
    ("country", "postal_code", "expected"),
    [
        ("CN", " １０００８０ ", "100080"),
        ("US", "627011234", "62701-1234"),
        ("US", "62701 1234", "62701-1234"),
        ("US", "６２７０１－１２３４", "62701-1234"),
        ("US", "62701", "62701"),
        ("CA", "k1a0b1", "K1A 0B1"),
        ("GB", "sw1a1aa", "SW1A 1AA"),
        ("GB", "m1  1ae", "M1 1AE"),
        ("JP", "〒1000001", "100-0001"),
        ("NL", " 1012  js ", "1012 JS"),
        ("HK", "", ""),
        ("US", "not a zip", "NOT A ZIP"),
    ],
)
def test_canonical_postal_code(country: str, postal_code: str, expected: str) -> None:
    assert canonical_postal_code(country=country, postal_code=postal_code) == expected
    # The importer stores the canonical form and may canonicalize it again.
    assert canonical_postal_code(country=country, postal_code=expected) == expected


# Arabic-Indic, Extended Arabic-Indic, Devanagari and Bengali digits: \d matches them, no sorting machine reads them.
@pytest.mark.parametrize(
    ("country", "postal_code"),
    [
        ("CN", "٣١٠٠١٢"),
        ("CN", "۳۱۰۰۱۲"),
        ("US", "६२७०४"),
        ("US", "62704-১২৩৪"),
        ("JP", "١٠٠-٠٠٠١"),
        ("DE", "١٠١١٥"),
        ("TW", "١٠٠"),
        ("CA", "K١A 0B1"),
        ("GB", "SW١A 1AA"),
        ("BR", "٠١٣١٠-١٠٠"),
    ],
)
def test_postal_codes_fit_only_with_ascii_digits(country: str, postal_code: str) -> None:
    assert postal_code_problem(country=country, postal_code=postal_code) is not None
    # Left as typed (not laid out like a real code) for the rejection to quote.
    assert canonical_postal_code(country=country, postal_code=postal_code) == postal_code.upper()


def test_codes_of_other_countries_are_ascii_letters_digits_spaces_and_hyphens() -> None:
    assert postal_code_problem(country="BR", postal_code="٠١٣١٠-١٠٠") == (
        "postal codes are written with the letters A-Z, the digits 0-9, spaces and hyphens"
    )
    assert postal_code_problem(country="NL", postal_code="1012 JS!") is not None
    assert postal_code_problem(country="NL", postal_code="1012 ＪＳ") is None  # full-width: NFKC makes it ASCII
    assert postal_code_problem(country="LV", postal_code="LV-1010") is None
    assert postal_code_problem(country="IE", postal_code="D02 X285") is None


@pytest.mark.parametrize(
    ("country", "expected"),
    [("HK", False), ("Hong Kong", False), ("澳门", False), ("AE", False), ("QA", False),
     ("CN", True), ("US", True), ("BR", True), ("Atlantis", True)],
)
def test_uses_postal_codes(country: str, expected: bool) -> None:
    assert uses_postal_codes(country) is expected
