"""Tests of the demo data generator: shape, realism and reproducibility of customers and orders."""

import csv
import datetime
import re
from collections import Counter, defaultdict
from itertools import islice
from pathlib import Path

import pytest

from mailer.addresses.verification import verify_address
from mailer.demo import data
from mailer.demo.generate import (
    CUSTOMER_COLUMNS,
    HOUSEHOLD_SHARE,
    ORDER_COLUMNS,
    generate_customers,
    generate_orders,
    write_csv,
)
from mailer.demo.people import HONORIFIC_NAME_RATE
from mailer.files import PRIVATE_FILE_MODE
from mailer.reference.store import reference_in_use
from tests.conftest import file_mode

AS_OF = datetime.date(2026, 11, 1)
CN_POSTCODE = re.compile(r"\d{6}")
US_ZIP = re.compile(r"\d{5}(-\d{4})?")
CN_MOBILE = re.compile(r"1[3-9]\d{9}")
US_PHONE = re.compile(r"\(\d{3}\) \d{3}-\d{4}")
REQUIRED = ("customer_no", "name", "line1", "city", "postal_code", "country")


@pytest.fixture(scope="module")
def customers() -> list[dict[str, str]]:
    """Generate the 10,000 customers most tests look at."""
    return list(generate_customers(10_000, seed=7))


@pytest.fixture(scope="module")
def orders(customers: list[dict[str, str]]) -> list[dict[str, str]]:
    """Generate purchase histories for the first 5,000 customers."""
    return list(generate_orders([row["customer_no"] for row in customers[:5_000]], as_of=AS_OF, seed=7))


def _address(row: dict[str, str]) -> tuple[str, ...]:
    return (row["line1"], row["line2"], row["city"], row["region"], row["postal_code"], row["country"])


def _is_honorific_only(name: str) -> bool:
    return name.endswith(data.CN_HONORIFICS) or name.split(" ")[0] in data.US_HONORIFICS


# --- customers ---------------------------------------------------------------------------------


def test_same_seed_gives_same_customers(customers: list[dict[str, str]]) -> None:
    assert list(generate_customers(10_000, seed=7)) == customers


def test_other_seed_gives_other_customers(customers: list[dict[str, str]]) -> None:
    other = list(generate_customers(100, seed=8))
    assert [row["name"] for row in other] != [row["name"] for row in customers[:100]]


def test_shorter_run_is_a_prefix_of_a_longer_one() -> None:
    longer = list(generate_customers(12_345, seed=3))
    assert list(generate_customers(11_000, seed=3)) == longer[:11_000]
    assert list(generate_customers(10, seed=3)) == longer[:10]


def test_rows_have_exactly_the_import_columns(customers: list[dict[str, str]]) -> None:
    for row in customers:
        assert tuple(row) == CUSTOMER_COLUMNS
        assert all(isinstance(value, str) for value in row.values())


def test_customer_numbers_run_from_start_no() -> None:
    rows = list(generate_customers(3, start_no=41))
    assert [row["customer_no"] for row in rows] == ["C0000041", "C0000042", "C0000043"]


def test_customer_numbers_are_unique(customers: list[dict[str, str]]) -> None:
    assert len({row["customer_no"] for row in customers}) == len(customers)


def test_required_fields_are_filled(customers: list[dict[str, str]]) -> None:
    for row in customers:
        assert all(row[column].strip() for column in REQUIRED), row
        assert row["country"] in ("CN", "US")


def test_us_rows_have_a_state_and_cn_rows_a_province_outside_municipalities(
    customers: list[dict[str, str]],
) -> None:
    municipalities = {city.name for city in data.CN_CITIES if not city.province}
    for row in customers:
        if row["country"] == "US":
            assert re.fullmatch(r"[A-Z]{2}", row["region"]), row
        elif row["city"] in municipalities:
            assert row["region"] == ""
        else:
            assert row["region"].endswith(("省", "自治区")), row


def test_postal_codes_are_valid_for_their_country(customers: list[dict[str, str]]) -> None:
    for row in customers:
        pattern = CN_POSTCODE if row["country"] == "CN" else US_ZIP
        assert pattern.fullmatch(row["postal_code"]), row


def test_postal_codes_belong_to_their_city(customers: list[dict[str, str]]) -> None:
    cn_prefix = {city.name: city.postcode_prefix for city in data.CN_CITIES}
    us_prefixes = {(city.name, city.state): city.zip_prefixes for city in data.US_CITIES}
    for row in customers:
        if row["country"] == "CN":
            assert row["postal_code"][:3] == cn_prefix[row["city"]], row
        else:
            assert row["postal_code"][:3] in us_prefixes[row["city"], row["region"]], row


def test_phones_and_emails_are_well_formed_when_present(customers: list[dict[str, str]]) -> None:
    for row in customers:
        if row["phone"]:
            pattern = CN_MOBILE if row["country"] == "CN" else US_PHONE
            assert pattern.fullmatch(row["phone"]), row
        if row["email"]:
            assert re.fullmatch(r"[a-z0-9._]+@[a-z0-9.]+\.[a-z]+", row["email"]), row
    assert any(not row["phone"] for row in customers)
    assert any(not row["email"] for row in customers)


def test_chinese_rows_are_written_in_chinese(customers: list[dict[str, str]]) -> None:
    for row in customers:
        if row["country"] == "CN":
            assert re.fullmatch(r"[\u4e00-\u9fff]{2,5}", row["name"]), row
            assert re.match(r"[\u4e00-\u9fff]{2}", row["line1"]), row
            assert re.search(r"\d+(号|室)", row["line1"] + row["line2"]), row


def test_share_of_chinese_customers_is_near_cn_share(customers: list[dict[str, str]]) -> None:
    share = sum(row["country"] == "CN" for row in customers) / len(customers)
    assert share == pytest.approx(0.6, abs=0.025)


@pytest.mark.parametrize(("cn_share", "country"), [(0.0, "US"), (1.0, "CN")])
def test_extreme_cn_share_gives_one_country(cn_share: float, country: str) -> None:
    assert {row["country"] for row in generate_customers(2_000, cn_share=cn_share)} == {country}


def test_households_share_an_address_at_about_the_stated_rate(customers: list[dict[str, str]]) -> None:
    sizes = Counter(_address(row) for row in customers)
    shared = [size for size in sizes.values() if size > 1]
    assert sum(shared) / len(customers) == pytest.approx(HOUSEHOLD_SHARE, abs=0.015)
    assert set(shared) == {2, 3}


def test_some_households_share_a_surname(customers: list[dict[str, str]]) -> None:
    by_address = defaultdict(list)
    for row in customers:
        if row["country"] == "US":
            by_address[_address(row)].append(row["name"].split(" ")[-1])
    households = [names for names in by_address.values() if len(names) > 1]
    assert any(len(set(names)) == 1 for names in households)
    assert any(len(set(names)) > 1 for names in households)


def test_honorific_only_names_appear_at_about_the_stated_rate(customers: list[dict[str, str]]) -> None:
    honorific = [row["name"] for row in customers if _is_honorific_only(row["name"])]
    assert len(honorific) / len(customers) == pytest.approx(HONORIFIC_NAME_RATE, abs=0.006)
    assert any(name.endswith("先生") for name in honorific)
    assert any(name.startswith("Mr. ") for name in honorific)


def test_us_addresses_mix_abbreviated_and_spelled_out_forms(customers: list[dict[str, str]]) -> None:
    us_lines = [f"{row['line1']} {row['line2']}" for row in customers if row["country"] == "US"]
    assert any(re.search(r" St\b", line) for line in us_lines)
    assert any(" Street" in line for line in us_lines)
    assert any(re.search(r"\bApt\b", line) for line in us_lines)
    assert any("#" in line for line in us_lines)
    assert any(re.search(r" (Apt|#|Unit)", row["line1"]) for row in customers if row["country"] == "US")
    assert any(row["line2"] for row in customers if row["country"] == "US")


def test_some_chinese_addresses_start_with_a_district(customers: list[dict[str, str]]) -> None:
    districts = {district for city in data.CN_CITIES for district in city.districts}
    cn_rows = [row for row in customers if row["country"] == "CN"]
    with_district = [row for row in cn_rows if any(row["line1"].startswith(d) for d in districts)]
    assert 0.2 < len(with_district) / len(cn_rows) < 0.8


@pytest.mark.parametrize(("n", "cn_share"), [(-1, 0.6), (10, -0.1), (10, 1.5)])
def test_rejects_invalid_arguments(n: int, cn_share: float) -> None:
    with pytest.raises(ValueError):
        generate_customers(n, cn_share=cn_share)


def test_zero_customers_gives_no_rows() -> None:
    assert list(generate_customers(0)) == []


# --- orders ------------------------------------------------------------------------------------


def test_same_seed_gives_same_orders(customers: list[dict[str, str]], orders: list[dict[str, str]]) -> None:
    again = generate_orders([row["customer_no"] for row in customers[:5_000]], as_of=AS_OF, seed=7)
    assert list(again) == orders


def test_order_rows_have_the_import_columns(orders: list[dict[str, str]]) -> None:
    for row in islice(orders, 1_000):
        assert tuple(row) == ORDER_COLUMNS


def test_every_customer_has_an_order_and_only_known_customers_appear(
    customers: list[dict[str, str]], orders: list[dict[str, str]]
) -> None:
    assert {row["customer_no"] for row in orders} == {row["customer_no"] for row in customers[:5_000]}


def test_order_dates_parse_and_lie_in_the_last_three_years(orders: list[dict[str, str]]) -> None:
    earliest = AS_OF - datetime.timedelta(days=3 * 365)
    for row in orders:
        assert earliest <= datetime.date.fromisoformat(row["order_date"]) <= AS_OF, row


def test_amounts_are_positive_with_two_decimals(orders: list[dict[str, str]]) -> None:
    for row in orders:
        assert re.fullmatch(r"\d+\.\d{2}", row["amount"]), row
        assert float(row["amount"]) > 0
    median = sorted(float(row["amount"]) for row in orders)[len(orders) // 2]
    assert 40 < median < 90


def test_histories_are_sorted_with_distinct_dates(orders: list[dict[str, str]]) -> None:
    by_customer = defaultdict(list)
    for row in orders:
        by_customer[row["customer_no"]].append(row["order_date"])
    repeaters = [dates for dates in by_customer.values() if len(dates) > 1]
    assert len(repeaters) > len(by_customer) / 5
    for dates in repeaters:
        assert dates == sorted(dates)
        assert len(set(dates)) == len(dates)


def test_orders_of_no_customers_are_empty() -> None:
    assert list(generate_orders([], as_of=AS_OF)) == []


# --- csv ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("open_umask")
def test_write_csv_round_trips_utf8_rows(customers: list[dict[str, str]], tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    assert write_csv(customers, path, columns=CUSTOMER_COLUMNS) == len(customers)
    assert file_mode(path) == PRIVATE_FILE_MODE
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == CUSTOMER_COLUMNS
        assert list(reader) == customers


def test_write_csv_keeps_only_the_given_columns(orders: list[dict[str, str]], tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    assert write_csv(orders[:3], path, columns=("customer_no", "amount")) == 3
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "customer_no,amount"
    assert lines[1] == f"{orders[0]['customer_no']},{orders[0]['amount']}"


def test_every_address_agrees_with_the_postal_reference_data(customers: list[dict[str, str]]) -> None:
    reference = reference_in_use()
    flagged = [(row, found.reason) for row in customers if (found := verify_address(row, reference)).flagged]
    assert not flagged, flagged[:3]
