"""Generate realistic demo customers in China and the US, and their purchase histories.

Pure and reproducible: the same arguments give the same rows. Rows are assembled from small
pools of names, streets and cities with draws made in bulk by a numpy Generator, so a million
customers take seconds. Customers are drawn in fixed-size chunks, which makes the first k rows
of a longer run identical to a run of k rows with the same seed.

Real-world variety, at these rates (tests check them):
- households: about ``HOUSEHOLD_SHARE`` (5%) of customers share exactly the same address with
  one or two others, often with the same surname, and receive nearby customer numbers;
- honorific-only names ("李先生", "王小姐", "Mr. Smith"): ``HONORIFIC_NAME_RATE`` (1%, in ``mailer.demo.people``);
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

from mailer.demo.drawing import flags
from mailer.demo.people import CnDraws, UsDraws
from mailer.files import open_private

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
    with open_private(path) as file:
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


_ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")


def _household_roots(rng: np.random.Generator, size: int) -> dict[int, int]:
    """Map each row of a chunk that joins a household to the row whose address it shares."""
    starts = np.flatnonzero(rng.random(size) < HOUSEHOLD_START_RATE).tolist()
    third = flags(rng, HOUSEHOLD_THREE_SHARE, len(starts))
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
    is_cn = flags(rng, cn_share, size)
    root_of = _household_roots(rng, size)
    for member, household_root in root_of.items():
        is_cn[member] = is_cn[household_root]
    surname_draw = rng.random(size).tolist()
    cn_count = sum(is_cn)
    cn, us = CnDraws(rng, cn_count), UsDraws(rng, size - cn_count)
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
