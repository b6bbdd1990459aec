"""Generate realistic demo customers in China and the US, and their purchase histories.

Pure and reproducible: the same arguments give the same rows. Rows are assembled from small
pools of names, streets and cities with draws made in bulk by a numpy Generator, so a million
customers take seconds. Customers are drawn in fixed-size chunks, which makes the first k rows
of a longer run identical to a run of k rows with the same seed.

Real-world variety, at these rates (tests check them):
- households: about ``HOUSEHOLD_SHARE`` (5%) of customers share exactly the same address with
  one or two others, often with the same surname, and receive nearby customer numbers;
- honorific-only names ("李先生", "王小姐", "Mr. Smith"): ``HONORIFIC_NAME_RATE`` (1%);
- US spelling variants: street suffixes abbreviated ("St") or spelled out ("Street"), unit
  designators "Apt", "Apt.", "#", "Unit", "Suite"; the unit sometimes on line1, mostly on line2;
- CN line1 sometimes starts with the district ("西湖区文三路…"); the building and room sometimes
  go on line2; the four municipalities (北京, 上海, 天津, 重庆) have an empty region.
Missing phones and emails are common, as in real files; no field is malformed.

Orders follow BG/NBD (parameters below): every customer makes a first purchase on a uniformly
drawn day of the ``HISTORY_DAYS`` up to ``as_of``; gaps are rounded up to whole days, so nobody
orders twice on one date. About 2.6 orders a customer, roughly 60% of customers buying once.
"""

import csv
import datetime
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from mailer.demo import data

CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_no",
    "name",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "email",
)
ORDER_COLUMNS: tuple[str, ...] = ("customer_no", "order_date", "amount")

# Households: a row starts one with HOUSEHOLD_START_RATE; it gets one more member, or two with
# HOUSEHOLD_THREE_SHARE, placed within the next HOUSEHOLD_WINDOW rows. The start rate is chosen
# so that about HOUSEHOLD_SHARE of all customers live in a shared household.
HOUSEHOLD_SHARE = 0.05
HOUSEHOLD_THREE_SHARE = 0.3
HOUSEHOLD_START_RATE = HOUSEHOLD_SHARE / (
    2 + HOUSEHOLD_THREE_SHARE - HOUSEHOLD_SHARE * (1 + HOUSEHOLD_THREE_SHARE)
)
HOUSEHOLD_WINDOW = 200
# Chinese spouses keep their own surnames, so fewer CN households share one.
HOUSEHOLD_SAME_SURNAME = {"CN": 0.4, "US": 0.6}
HONORIFIC_NAME_RATE = 0.01

CN_PHONE_RATE = 0.92
CN_EMAIL_RATE = 0.35
US_PHONE_RATE = 0.75
US_EMAIL_RATE = 0.6

# BG/NBD parameters typical of catalog buyers (time unit: weeks). Purchase rate while alive
# λ ~ gamma(shape r, rate α): mean r/α = 0.0625 a week, about 3 a year, very uneven between
# customers. Dropout after each purchase p ~ beta(a, b): mean a/(a+b) ≈ 0.24.
BG_NBD_R = 0.25
BG_NBD_ALPHA = 4.0
BG_NBD_A = 0.8
BG_NBD_B = 2.5
HISTORY_DAYS = 3 * 365
# Order amounts are log-normal: each customer has a typical basket around AMOUNT_MEDIAN, and each
# order varies around the customer's own level.
AMOUNT_MEDIAN = 60.0
AMOUNT_CUSTOMER_SIGMA = 0.4
AMOUNT_ORDER_SIGMA = 0.5

_CUSTOMER_CHUNK = 10_000
_ORDER_CHUNK = 100_000


def generate_customers(
    n: int, *, seed: int = 0, cn_share: float = 0.6, start_no: int = 1
) -> Iterator[dict[str, str]]:
    """Yield ``n`` customer rows with the import columns, a ``cn_share`` of them in China."""
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    if not 0.0 <= cn_share <= 1.0:
        raise ValueError(f"cn_share must lie in [0, 1], got {cn_share}")
    return _customers(n, seed, cn_share, start_no)


def _customers(n: int, seed: int, cn_share: float, start_no: int) -> Iterator[dict[str, str]]:
    """Yield the rows of ``generate_customers`` once its arguments are checked."""
    rng = np.random.default_rng(seed)
    number = start_no
    for chunk_start in range(0, n, _CUSTOMER_CHUNK):
        count = min(_CUSTOMER_CHUNK, n - chunk_start)
        for row in _customer_chunk(rng, cn_share, count):
            yield {"customer_no": f"C{number:07d}", **row}
            number += 1


def generate_orders(
    customer_nos: Sequence[str], *, as_of: datetime.date, seed: int = 0
) -> Iterator[dict[str, str]]:
    """Yield BG/NBD purchase histories up to ``as_of``, by customer and then by date."""
    rng = np.random.default_rng(seed)
    last_day = np.datetime64(as_of, "D")
    for start in range(0, len(customer_nos), _ORDER_CHUNK):
        chunk = customer_nos[start : start + _ORDER_CHUNK]
        owner, day, amount = _purchase_histories(rng, len(chunk))
        order = np.lexsort((day, owner))
        owner, day, amount = owner[order], day[order], amount[order]
        dates = np.datetime_as_string(last_day - (HISTORY_DAYS - day), unit="D").tolist()
        amounts = [f"{value:.2f}" for value in amount.tolist()]
        for index, order_date, value in zip(owner.tolist(), dates, amounts, strict=True):
            yield {"customer_no": chunk[index], "order_date": order_date, "amount": value}


def write_csv(rows: Iterable[dict[str, str]], path: Path, *, columns: Sequence[str]) -> int:
    """Write ``rows`` to a UTF-8 CSV file with a header of ``columns``; return the row count."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        # Keys outside ``columns`` are dropped so a caller can write a subset of the fields.
        writer = csv.DictWriter(file, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


# --- purchase histories ------------------------------------------------------------------------


def _purchase_histories(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw purchases for ``n`` customers as (customer index, day in the history, amount)."""
    # A tiny floor keeps the exponential scale finite when the gamma draw underflows to zero.
    rate = np.maximum(rng.gamma(BG_NBD_R, 1.0 / BG_NBD_ALPHA, n), 1e-9)
    dropout = rng.beta(BG_NBD_A, BG_NBD_B, n)
    level = rng.normal(math.log(AMOUNT_MEDIAN), AMOUNT_CUSTOMER_SIGMA, n)
    first = rng.integers(0, HISTORY_DAYS + 1, n)

    owners = [np.arange(n)]
    days = [first]
    alive = rng.random(n) >= dropout
    index, current = np.flatnonzero(alive), first[alive]
    while index.size:
        # Gaps are whole days, at least one, so a customer never orders twice on one date.
        weeks = rng.exponential(1.0 / rate[index])
        gap = np.ceil(np.minimum(weeks * 7.0, HISTORY_DAYS + 1.0)).astype(np.int64)
        current = current + np.maximum(gap, 1)
        within = current <= HISTORY_DAYS
        index, current = index[within], current[within]
        owners.append(index)
        days.append(current)
        alive = rng.random(index.size) >= dropout[index]
        index, current = index[alive], current[alive]

    owner = np.concatenate(owners)
    day = np.concatenate(days)
    amount = np.exp(level[owner] + rng.normal(0.0, AMOUNT_ORDER_SIGMA, owner.size))
    return owner, day, np.maximum(np.round(amount, 2), 0.01)


# --- customers ---------------------------------------------------------------------------------


def _probabilities(weights: Sequence[float]) -> np.ndarray:
    """Normalise ``weights`` into probabilities."""
    array = np.asarray(weights, dtype=float)
    return array / array.sum()


def _weighted(rng: np.random.Generator, probabilities: np.ndarray, size: int) -> list[int]:
    """Draw ``size`` indices with the given probabilities."""
    return rng.choice(probabilities.size, size=size, p=probabilities).tolist()


def _uniform(rng: np.random.Generator, low: int, high: int, size: int) -> list[int]:
    """Draw ``size`` integers from ``low`` to ``high`` inclusive."""
    return rng.integers(low, high + 1, size).tolist()


def _flags(rng: np.random.Generator, rate: float, size: int) -> list[bool]:
    """Draw ``size`` booleans, each true with probability ``rate``."""
    return (rng.random(size) < rate).tolist()


def _log_uniform(rng: np.random.Generator, high: int, size: int) -> list[int]:
    """Draw ``size`` integers from 1 to ``high``, small ones more often, like house numbers."""
    return np.floor(np.exp(rng.uniform(0.0, math.log(high + 1), size))).astype(np.int64).tolist()


_CN_SURNAME_P = _probabilities([weight for _, _, weight in data.CN_SURNAMES])
_CN_CITY_P = _probabilities([city.weight for city in data.CN_CITIES])
_CN_ROAD_KIND_P = _probabilities([weight for _, weight in data.CN_ROAD_KINDS])
_CN_EMAIL_DOMAIN_P = _probabilities([weight for _, weight in data.CN_EMAIL_DOMAINS])
_CN_FORM_P = _probabilities([0.35, 0.2, 0.15, 0.3])  # street, compound, tower, estate
_US_LAST_P = _probabilities([weight for _, weight in data.US_LAST_NAMES])
_US_CITY_P = _probabilities([city.weight for city in data.US_CITIES])
_US_SUFFIX_P = _probabilities([weight for _, _, weight in data.US_STREET_SUFFIXES])
_US_UNIT_P = _probabilities([weight for _, weight in data.US_UNIT_KINDS])
_US_EMAIL_DOMAIN_P = _probabilities([weight for _, weight in data.US_EMAIL_DOMAINS])
_US_DIGITS_P = _probabilities([0.04, 0.16, 0.36, 0.4, 0.04])  # house numbers of 1 to 5 digits
_US_FIRST_SLUGS = tuple(name.lower() for name in data.US_FIRST_NAMES)
_US_LAST_SLUGS = tuple("".join(c for c in name.lower() if c.isalnum()) for name, _ in data.US_LAST_NAMES)
_LETTERS = "ABCD"


class _CnDraws:
    """Random choices for a chunk of Chinese customers, drawn in bulk."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.surname = _weighted(rng, _CN_SURNAME_P, size)
        self.single_given = _flags(rng, 0.3, size)
        self.given1 = _uniform(rng, 0, len(data.CN_GIVEN_CHARS) - 1, size)
        self.given2 = _uniform(rng, 0, len(data.CN_GIVEN_CHARS) - 1, size)
        self.honorific = _flags(rng, HONORIFIC_NAME_RATE, size)
        self.honorific_kind = _uniform(rng, 0, len(data.CN_HONORIFICS) - 1, size)
        self.city = _weighted(rng, _CN_CITY_P, size)
        self.with_district = _flags(rng, 0.5, size)
        self.district = _uniform(rng, 0, 9999, size)
        self.postcode = _uniform(rng, 0, 199, size)
        self.form = _weighted(rng, _CN_FORM_P, size)
        self.road = _uniform(rng, 0, len(data.CN_ROAD_STEMS) - 1, size)
        self.with_direction = _flags(rng, 0.15, size)
        self.direction = _uniform(rng, 0, len(data.CN_ROAD_DIRECTIONS) - 1, size)
        self.road_kind = _weighted(rng, _CN_ROAD_KIND_P, size)
        self.road_no = _log_uniform(rng, 999, size)
        self.building = _uniform(rng, 1, 30, size)
        self.unit = _uniform(rng, 1, 6, size)
        self.floor = _uniform(rng, 1, 33, size)
        self.door = _uniform(rng, 1, 4, size)
        self.letter = _uniform(rng, 0, len(_LETTERS) - 1, size)
        self.estate = _uniform(rng, 0, len(data.CN_ESTATE_STEMS) - 1, size)
        self.estate_kind = _uniform(rng, 0, len(data.CN_ESTATE_KINDS) - 1, size)
        self.estate_on_road = _flags(rng, 0.4, size)
        self.estate_style = _uniform(rng, 0, 2, size)
        self.tower = _uniform(rng, 0, len(data.CN_TOWER_STEMS) - 1, size)
        self.tower_kind = _uniform(rng, 0, len(data.CN_TOWER_KINDS) - 1, size)
        self.room_on_line2 = _flags(rng, 0.1, size)
        self.with_phone = _flags(rng, CN_PHONE_RATE, size)
        self.mobile_prefix = _uniform(rng, 0, len(data.CN_MOBILE_PREFIXES) - 1, size)
        self.mobile_rest = _uniform(rng, 0, 99_999_999, size)
        self.with_email = _flags(rng, CN_EMAIL_RATE, size)
        self.email_style = _uniform(rng, 0, 9, size)
        self.email_digits = _uniform(rng, 1, 999, size)
        self.email_domain = _weighted(rng, _CN_EMAIL_DOMAIN_P, size)
        self.qq = _log_uniform(rng, 3_999_999_999, size)

    def row(self, i: int, surname: int | None) -> dict[str, str]:
        """Build the fields of Chinese customer ``i``, with the surname index if one is given."""
        if surname is None:
            surname = self.surname[i]
        family, family_pinyin, _ = data.CN_SURNAMES[surname]
        given, given_pinyin = data.CN_GIVEN_CHARS[self.given1[i]]
        if not self.single_given[i]:
            second, second_pinyin = data.CN_GIVEN_CHARS[self.given2[i]]
            given, given_pinyin = given + second, given_pinyin + second_pinyin
        name = family + (data.CN_HONORIFICS[self.honorific_kind[i]] if self.honorific[i] else given)

        city = data.CN_CITIES[self.city[i]]
        head, tail = self._street(i)
        if city.districts and self.with_district[i]:
            head = city.districts[self.district[i] % len(city.districts)] + head
        line1, line2 = (head, tail) if self.room_on_line2[i] else (head + tail, "")

        phone = ""
        if self.with_phone[i]:
            phone = f"{data.CN_MOBILE_PREFIXES[self.mobile_prefix[i]]}{self.mobile_rest[i]:08d}"
        email = ""
        if self.with_email[i]:
            domain = data.CN_EMAIL_DOMAINS[self.email_domain[i]][0]
            style = self.email_style[i]
            if style < 4:
                email = f"{10_000 + self.qq[i]}@qq.com"
            elif style < 7:
                email = f"{family_pinyin}{given_pinyin}{self.email_digits[i]}@{domain}"
            elif style < 9:
                email = f"{family_pinyin}.{given_pinyin}@{domain}"
            else:
                email = f"{family_pinyin}{given_pinyin[0]}{self.email_digits[i]:03d}@{domain}"
        return {
            "name": name,
            "line1": line1,
            "line2": line2,
            "city": city.name,
            "region": city.province,
            "postal_code": f"{city.postcode_prefix}{self.postcode[i]:03d}",
            "country": "CN",
            "phone": phone,
            "email": email,
        }

    def _street(self, i: int) -> tuple[str, str]:
        """Build line1 of address ``i`` as (street part, building and room part)."""
        road = data.CN_ROAD_STEMS[self.road[i]]
        if self.with_direction[i]:
            road += data.CN_ROAD_DIRECTIONS[self.direction[i]]
        road += data.CN_ROAD_KINDS[self.road_kind[i]][0]
        number = self.road_no[i]
        room = f"{self.floor[i]}{self.door[i]:02d}室"
        form = self.form[i]
        if form == 0:  # 中山路88号
            return f"{road}{number}号", ""
        if form == 1:  # 建国门外大街1号院3号楼2单元501室
            return f"{road}{number}号院", f"{self.building[i]}号楼{self.unit[i]}单元{room}"
        if form == 2:  # 文三路478号华星时代广场A座1201室
            tower = data.CN_TOWER_STEMS[self.tower[i]] + data.CN_TOWER_KINDS[self.tower_kind[i]]
            return f"{road}{number}号{tower}", f"{_LETTERS[self.letter[i]]}座{room}"
        estate = data.CN_ESTATE_STEMS[self.estate[i]] + data.CN_ESTATE_KINDS[self.estate_kind[i]]
        if self.estate_on_road[i]:  # 人民路12号阳光花园5幢2单元302室
            estate = f"{road}{number}号{estate}"
        style = self.estate_style[i]
        if style == 0:
            return estate, f"{self.building[i]}幢{self.unit[i]}单元{room}"
        if style == 1:
            return estate, f"{self.building[i]}栋{room}"
        return estate, f"{self.building[i]}号楼{room}"


class _UsDraws:
    """Random choices for a chunk of US customers, drawn in bulk."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.first = _uniform(rng, 0, len(data.US_FIRST_NAMES) - 1, size)
        self.last = _weighted(rng, _US_LAST_P, size)
        self.with_middle = _flags(rng, 0.08, size)
        self.middle = _uniform(rng, 0, 25, size)
        self.honorific = _flags(rng, HONORIFIC_NAME_RATE, size)
        self.honorific_kind = _uniform(rng, 0, len(data.US_HONORIFICS) - 1, size)
        self.city = _weighted(rng, _US_CITY_P, size)
        self.zip_prefix = _uniform(rng, 0, 9999, size)
        self.zip_rest = _uniform(rng, 1, 99, size)
        self.with_zip4 = _flags(rng, 0.25, size)
        self.zip4 = _uniform(rng, 1, 9999, size)
        self.digits = _weighted(rng, _US_DIGITS_P, size)
        self.house = _uniform(rng, 0, 99_999, size)
        self.with_direction = _flags(rng, 0.12, size)
        self.direction = _uniform(rng, 0, len(data.US_DIRECTIONS) - 1, size)
        self.direction_spelled = _flags(rng, 0.2, size)
        self.street = _uniform(rng, 0, len(data.US_STREET_NAMES) - 1, size)
        self.suffix = _weighted(rng, _US_SUFFIX_P, size)
        self.suffix_style = _weighted(rng, _probabilities([0.62, 0.3, 0.08]), size)  # St, Street, St.
        self.with_unit = _flags(rng, 0.22, size)
        self.unit_on_line1 = _flags(rng, 0.3, size)
        self.unit_kind = _weighted(rng, _US_UNIT_P, size)
        self.unit_no = _uniform(rng, 1, 40, size)
        self.unit_letter = _flags(rng, 0.3, size)
        self.letter = _uniform(rng, 0, len(_LETTERS) - 1, size)
        self.with_phone = _flags(rng, US_PHONE_RATE, size)
        self.area = _uniform(rng, 0, 9999, size)
        self.exchange = _uniform(rng, 201, 999, size)
        self.line = _uniform(rng, 0, 9999, size)
        self.with_email = _flags(rng, US_EMAIL_RATE, size)
        self.email_style = _uniform(rng, 0, 3, size)
        self.email_digits = _uniform(rng, 1, 99, size)
        self.email_domain = _weighted(rng, _US_EMAIL_DOMAIN_P, size)

    def row(self, i: int, surname: int | None) -> dict[str, str]:
        """Build the fields of US customer ``i``, with the surname index if one is given."""
        if surname is None:
            surname = self.last[i]
        last = data.US_LAST_NAMES[surname][0]
        first = data.US_FIRST_NAMES[self.first[i]]
        if self.honorific[i]:
            name = f"{data.US_HONORIFICS[self.honorific_kind[i]]} {last}"
        elif self.with_middle[i]:
            name = f"{first} {chr(65 + self.middle[i])}. {last}"
        else:
            name = f"{first} {last}"

        city = data.US_CITIES[self.city[i]]
        zip_code = f"{city.zip_prefixes[self.zip_prefix[i] % len(city.zip_prefixes)]}{self.zip_rest[i]:02d}"
        if self.with_zip4[i]:
            zip_code += f"-{self.zip4[i]:04d}"

        line1 = f"{self.house[i] % 10 ** (self.digits[i] + 1) or 1} "
        if self.with_direction[i]:
            line1 += data.US_DIRECTIONS[self.direction[i]][self.direction_spelled[i]] + " "
        abbreviation, full, _ = data.US_STREET_SUFFIXES[self.suffix[i]]
        suffix = (abbreviation, full, abbreviation + ".")[self.suffix_style[i]]
        if abbreviation == full:  # "Way" has no abbreviation to dot
            suffix = full
        line1 += f"{data.US_STREET_NAMES[self.street[i]]} {suffix}"
        line2 = ""
        if self.with_unit[i]:
            unit = self._unit(i)
            if self.unit_on_line1[i]:
                line1 += " " + unit
            else:
                line2 = unit

        phone = ""
        if self.with_phone[i]:
            area = city.area_codes[self.area[i] % len(city.area_codes)]
            phone = f"({area}) {self.exchange[i]}-{self.line[i]:04d}"
        email = ""
        if self.with_email[i]:
            first_slug, last_slug = _US_FIRST_SLUGS[self.first[i]], _US_LAST_SLUGS[surname]
            domain = data.US_EMAIL_DOMAINS[self.email_domain[i]][0]
            style = self.email_style[i]
            if style == 0:
                email = f"{first_slug}.{last_slug}@{domain}"
            elif style == 1:
                email = f"{first_slug[0]}{last_slug}{self.email_digits[i]}@{domain}"
            elif style == 2:
                email = f"{first_slug}{last_slug}{self.email_digits[i]:02d}@{domain}"
            else:
                email = f"{first_slug}_{last_slug}@{domain}"
        return {
            "name": name,
            "line1": line1,
            "line2": line2,
            "city": city.name,
            "region": city.state,
            "postal_code": zip_code,
            "country": "US",
            "phone": phone,
            "email": email,
        }

    def _unit(self, i: int) -> str:
        """Build the apartment or suite designator of address ``i``."""
        kind = data.US_UNIT_KINDS[self.unit_kind[i]][0]
        if kind in ("Suite", "Ste"):
            return f"{kind} {self.unit_no[i] * 25 + 75}"
        number = f"{self.unit_no[i]}{_LETTERS[self.letter[i]] if self.unit_letter[i] else ''}"
        return f"#{number}" if kind == "#" else f"{kind} {number}"


_ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")


def _household_roots(rng: np.random.Generator, size: int) -> dict[int, int]:
    """Map each row of a chunk that joins a household to the row whose address it shares."""
    starts = np.flatnonzero(rng.random(size) < HOUSEHOLD_START_RATE).tolist()
    third = _flags(rng, HOUSEHOLD_THREE_SHARE, len(starts))
    offsets = rng.integers(1, HOUSEHOLD_WINDOW + 1, (len(starts), 2)).tolist()
    root_of: dict[int, int] = {}
    for root, with_third, (first, second) in zip(starts, third, offsets, strict=True):
        if root in root_of:
            continue
        for offset in (first, second) if with_third else (first,):
            member = root + offset
            if member < size and member not in root_of:
                root_of[member] = root
    return root_of


def _customer_chunk(rng: np.random.Generator, cn_share: float, count: int) -> Iterator[dict[str, str]]:
    """Yield the first ``count`` rows of a chunk drawn at full size, without customer numbers."""
    size = _CUSTOMER_CHUNK
    is_cn = _flags(rng, cn_share, size)
    root_of = _household_roots(rng, size)
    for member, root in root_of.items():
        is_cn[member] = is_cn[root]
    surname_draw = rng.random(size).tolist()
    cn_count = sum(is_cn)
    cn, us = _CnDraws(rng, cn_count), _UsDraws(rng, size - cn_count)
    surname_cn = cn.surname
    surname_us = us.last

    rows: list[dict[str, str]] = []
    surname_of: list[int] = []
    cn_next = us_next = 0
    for i in range(count):
        root = root_of.get(i)
        surname = None
        if root is not None and surname_draw[i] < HOUSEHOLD_SAME_SURNAME["CN" if is_cn[i] else "US"]:
            surname = surname_of[root]
        if is_cn[i]:
            row = cn.row(cn_next, surname)
            surname_of.append(surname if surname is not None else surname_cn[cn_next])
            cn_next += 1
        else:
            row = us.row(us_next, surname)
            surname_of.append(surname if surname is not None else surname_us[us_next])
            us_next += 1
        if root is not None:
            shared = rows[root]
            for field in _ADDRESS_FIELDS:
                row[field] = shared[field]
        rows.append(row)
        yield row
