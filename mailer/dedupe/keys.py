"""Matching keys of customers: one Latin form of each name and address, so duplicates compare.

Names and addresses are compared in one Latin form, so "王磊, 中山路88号" meets
"Wang Lei, 88 Zhongshan Rd": Chinese characters are written in pinyin (the surname, then the
given name as one word), English nicknames become the full name (Bill -> William), honorifics
and word order are dropped. An address becomes a *street* (street, estate and building names,
spaces dropped) and its *numbers* (house number, building, unit, floor and room, each tagged
with what it numbers), taken from the components ``normalize_address`` finds.

Pure: plain values in, keys out; nothing here touches the database (a large file is keyed in
worker processes).
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing.pool import AsyncResult
from typing import NamedTuple

import numpy as np

from mailer.addresses.countries import canonical_country
from mailer.addresses.normalize import normalize_address
from mailer.addresses.usps import street_word_in_full
from mailer.customers.names import chinese_name_parts, name_key
from mailer.dedupe.nicknames import FULL_GIVEN_NAME
from mailer.dedupe.workers import can_fork, forked_pool
from mailer.folding import fold_text

_CHINESE_SCRIPT_COUNTRIES = frozenset({"CN", "TW", "HK", "MO"})
_HAN = re.compile(r"[\u3400-\u9fff]")
_IDENTIFIER = re.compile(r"[0-9a-z]+")
_DIGIT = re.compile(r"\d")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
# A word glued to the number it names ("sec1", "villa74", "Apt5"): typed with or without the space.
_GLUED_NUMBER = re.compile(r"(?<=[A-Za-z]{2})(?=\d)")

# How Chinese street words are written in Latin letters, and the one form both sides get.
_HAN_ROAD_KINDS = (("大街", "st"), ("大道", "ave"), ("胡同", "hutong"), ("路", "rd"), ("街", "st"),
                   ("道", "rd"), ("巷", "ln"))
_LATIN_ROAD_KINDS = {"lu": "rd", "jie": "st", "dajie": "st", "dadao": "ave", "xiang": "ln"}
# Road sections by direction, as the English directions normalization abbreviates ("north" -> "n").
_HAN_DIRECTIONS = {"东": "e", "西": "w", "南": "s", "北": "n", "中": "m"}
_LATIN_DIRECTIONS = {"dong": "e", "xi": "w", "nan": "s", "bei": "n", "zhong": "m", "middle": "m"}
# English words around Chinese building names that carry no identity of their own.
_LATIN_CN_BUILDINGS = frozenset({"tower", "block", "blk", "building"})
_LATIN_CN_FILLER = _LATIN_CN_BUILDINGS | {"no", "room", "floor", "courtyard"}
# The kind each Chinese address number is tagged with, matching the English unit kinds.
_HAN_NUMBER_KINDS = (("building", "bldg"), ("unit", "#"), ("floor", "fl"), ("room", "#"))
# The suffixes a city name may carry in either script.
_CITY_SUFFIXES = ("shi", "city")


class CustomerFields(NamedTuple):
    """The fields of one customer that matching reads (a tuple: a million of them are made, and sent
    to worker processes, faster than any other kind of object)."""

    customer_no: str
    name: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str


class MatchKeys(NamedTuple):
    """The comparable forms of one customer's name and current address."""

    name: str
    # The name's words as written, without nicknames resolved ("jack smith" for "John Smith"'s
    # "john smith"): a typo in a nickname reads better against the nickname.
    written_name: str
    # The given name (first word) and family name (last word) as written, Chinese ones in pinyin.
    given: str
    surname: str
    street: str
    numbers: str
    locality: str
    postal: str
    country: str


@lru_cache(maxsize=1 << 17)
def _pinyin_word(text: str) -> str:
    """Write Chinese characters as one run of toneless pinyin; other characters stay."""
    # Imported here: pypinyin's dictionaries take about 56 MB, and only duplicate search needs them,
    # not every process that loads the app (imports, scans, render workers).
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(text)).casefold()


def _latin_name_tokens(name: str) -> list[str]:
    parts = chinese_name_parts(name)
    if parts is not None:
        surname, given = parts
        return [_pinyin_word(surname), *([_pinyin_word(given)] if given else [])]
    # "Xiao-Ming", "Mary-Jane": one given name, however it is hyphenated.
    return name_key(re.sub(r"(?<=\w)-(?=\w)", "", name)).split()


_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "mx"})


@lru_cache(maxsize=1 << 18)
def given_and_surname(name: str) -> tuple[str, str]:
    """Return a name's given name and family name in Latin letters ("Smith, John" -> ("john", "smith")).

    Chinese names come as (given, surname) in pinyin; a lone word is a surname; middle names are left out.
    """
    parts = chinese_name_parts(name)
    if parts is not None:
        surname, given = parts
        return (_pinyin_word(given) if given else ""), _pinyin_word(surname)
    head, comma, tail = name.partition(",")
    # "Smith, John": the family name comes first.
    ordered = f"{tail} {head}" if comma and tail.strip() else name
    words = [
        word
        for word in fold_text(re.sub(r"(?<=\w)[-'’](?=\w)", "", ordered)).split()
        if word not in _HONORIFICS
    ]
    words = [name_key(word) or word for word in words]
    if not words:
        return "", ""
    if len(words) == 1:
        return "", words[0]
    return words[0], words[-1]


@lru_cache(maxsize=1 << 18)
def name_match_keys(name: str) -> tuple[str, str]:
    """Return a name's comparable Latin forms, words sorted: nicknames resolved, and as written.

    Chinese names are written in pinyin, surname and given name as one word each.
    """
    words = _latin_name_tokens(name)
    resolved = " ".join(sorted(FULL_GIVEN_NAME.get(word, word) for word in words))
    return resolved, " ".join(sorted(words))


def _han_street(street: str) -> tuple[str, list[str]]:
    """Return a Chinese street's Latin form and its direction ("中山北路" -> "zhongshanrd", ["sn"])."""
    for han, latin in _HAN_ROAD_KINDS:
        if street.endswith(han) and len(street) > len(han):
            stem, kind = street[: -len(han)], latin
            break
    else:
        stem, kind = street, ""
    directions = []
    # "中山北路" is the north section of 中山路; "山东路" is a road named after Shandong.
    if len(stem) > 2 and stem[-1] in _HAN_DIRECTIONS:
        stem, directions = stem[:-1], [f"s{_HAN_DIRECTIONS[stem[-1]]}"]
    return _pinyin_word(stem) + kind, directions


def _locality(city: str, components: dict[str, str], country: str) -> str:
    """Return the city as one Latin word ("杭州市", "Hangzhou" and "Hangzhou City" -> "hangzhou")."""
    tokens = fold_text(city).split()
    if country in _CHINESE_SCRIPT_COUNTRIES:
        han_city = components.get("city") or ("".join(tokens) if _HAN.search(city) else "")
        if han_city:
            return _pinyin_word(han_city.removesuffix("市") or han_city)
        if len(tokens) > 1 and tokens[-1] in _CITY_SUFFIXES:
            tokens.pop()
    return "".join(tokens)


def _han_address(components: dict[str, str]) -> tuple[str, list[str]]:
    street_parts: list[str] = []
    numbers: list[str] = []
    if street := components.get("street"):
        latin, directions = _han_street(street)
        street_parts.append(latin)
        numbers.extend(directions)
    if number := components.get("number"):
        numbers.extend(f"h{ident}" for ident in _IDENTIFIER.findall(number))
    if extra := components.get("extra"):
        extra = extra.removeprefix("院")
        numbers.extend(f"x{ident}" for ident in _IDENTIFIER.findall(extra))
        words = _IDENTIFIER.sub("", extra)
        if words:
            street_parts.append(_pinyin_word(words))
    for key, kind in _HAN_NUMBER_KINDS:
        if value := components.get(key):
            numbers.extend(f"{kind}{ident}" for ident in _IDENTIFIER.findall(value))
    return "".join(street_parts), numbers


def _latin_address(components: dict[str, str], delivery_point: str, country: str) -> tuple[str, list[str]]:
    numbers: list[str] = []
    if box := components.get("po_box"):
        return "pobox", [f"h{box}"]
    if number := components.get("number"):
        numbers.extend(f"h{ident}" for ident in number.split())
    chinese = country in _CHINESE_SCRIPT_COUNTRIES
    words: list[str] = []
    previous = ""
    for token in components.get("street", "").split():
        if chinese and previous in _LATIN_CN_BUILDINGS and _IDENTIFIER.fullmatch(token):
            # "Tower A", "Block 3": the building, as 座 and 栋 are on the Chinese side.
            numbers.append(f"bldg{token}")
        elif (_DIGIT.search(token) and not _ORDINAL.fullmatch(token)) or len(token) == 1:
            # "Hwy 61", "N Main St": identifiers inside the street name ("42nd" is a name).
            numbers.append(f"s{token}")
        elif not (chinese and token in _LATIN_CN_FILLER):
            if chinese and token in _LATIN_DIRECTIONS and words:
                numbers.append(f"s{_LATIN_DIRECTIONS[token]}")
            else:
                words.append(_LATIN_ROAD_KINDS.get(token, token) if chinese else token)
        previous = token
    # The last word is the street's suffix; earlier ones are its name ("Center Ave", "Pine St").
    words[:-1] = [street_word_in_full(word) for word in words[:-1]]
    # The delivery point ends with the units as "kind ident" pairs ("# 4 fl 2").
    head = " ".join(part for part in (components.get("number", ""), components.get("street", "")) if part)
    units = delivery_point[len(head) :].split()
    numbers.extend(f"{kind}{ident}" for kind, ident in zip(units[::2], units[1::2], strict=False))
    return "".join(words), numbers


def match_keys(
    *, name: str, line1: str, line2: str, city: str, region: str, postal_code: str, country: str
) -> MatchKeys:
    """Return the comparable forms of a customer's name and address."""
    alpha2 = canonical_country(country) or fold_text(country).upper()
    # One form for "Villa74" and "Villa 74", so the two agree on street and numbers alike.
    line1, line2 = _GLUED_NUMBER.sub(" ", line1), _GLUED_NUMBER.sub(" ", line2 or "")
    normalized = normalize_address(
        line1=line1, line2=line2, city=city, region=region or "", postal_code=postal_code,
        country=alpha2,
    )
    components = normalized.components
    if alpha2 in _CHINESE_SCRIPT_COUNTRIES and _HAN.search(f"{line1}{line2}"):
        street, numbers = _han_address(components)
    else:
        street, numbers = _latin_address(components, normalized.delivery_point, alpha2)
    postal = "".join(ch for ch in postal_code if ch.isalnum()).upper()
    if alpha2 == "US":
        postal = postal[:5]
    resolved, written = name_match_keys(name)
    given, surname = given_and_surname(name)
    return MatchKeys(
        name=resolved,
        written_name=written,
        given=given,
        surname=surname,
        street=street,
        numbers=" ".join(sorted(set(numbers))),
        locality=_locality(city, components, alpha2),
        postal=postal,
        country=alpha2,
    )


@dataclass(frozen=True, slots=True)
class KeyColumns:
    """The keys scoring compares, one list per key, aligned by position."""

    names: list[str]
    written_names: list[str]
    streets: list[str]
    numbers: list[str]

    @classmethod
    def of(cls, keys: Sequence[MatchKeys]) -> KeyColumns:
        """Return the columns of a sequence of keys."""
        return cls(
            names=[k.name for k in keys],
            written_names=[k.written_name for k in keys],
            streets=[k.street for k in keys],
            numbers=[k.numbers for k in keys],
        )


@dataclass(slots=True)
class KeyTable:
    """The match keys of many customers, one list entry per customer."""

    customer_nos: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    written_names: list[str] = field(default_factory=list)
    givens: list[str] = field(default_factory=list)
    surnames: list[str] = field(default_factory=list)
    streets: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    localities: list[str] = field(default_factory=list)
    postals: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.customer_nos)

    def columns(self, rows: np.ndarray) -> KeyColumns:
        """Return the compared keys of the customers at these indices."""
        index = rows.tolist()
        return KeyColumns(
            names=[self.names[i] for i in index],
            written_names=[self.written_names[i] for i in index],
            streets=[self.streets[i] for i in index],
            numbers=[self.numbers[i] for i in index],
        )

    def append(self, customer_no: str, keys: MatchKeys) -> None:
        """Add one customer's keys."""
        # Values many customers hold (a given name, a town, a country) are kept once: at a million
        # customers that is hundreds of megabytes.
        shared = sys.intern
        self.customer_nos.append(customer_no)
        self.names.append(keys.name)
        # Most names are written as resolved: one string for both.
        self.written_names.append(keys.name if keys.written_name == keys.name else keys.written_name)
        self.givens.append(shared(keys.given))
        self.surnames.append(shared(keys.surname))
        self.streets.append(keys.street)
        self.numbers.append(keys.numbers)
        self.localities.append(shared(keys.locality))
        self.postals.append(shared(keys.postal))
        self.countries.append(shared(keys.country))

    def keys(self, index: int) -> MatchKeys:
        """Return the keys of the customer at ``index``."""
        return MatchKeys(
            self.names[index], self.written_names[index], self.givens[index], self.surnames[index],
            self.streets[index], self.numbers[index],
            self.localities[index], self.postals[index], self.countries[index],
        )

    @classmethod
    def from_customers(cls, customers: Iterable[CustomerFields], *, workers: int | None = None) -> KeyTable:
        """Build the keys of every customer, in that order.

        A file of ``KEY_CHUNK`` customers or more is keyed in forked worker processes, one a core
        (``workers``), a chunk at a time, while this process reads the next chunk.
        """
        table = cls()
        count = (os.cpu_count() or 1) if workers is None else workers
        chunks = _chunks(iter(customers), KEY_CHUNK)
        first = next(chunks, [])
        if len(first) < KEY_CHUNK or count < 2 or not can_fork():
            for chunk in itertools.chain([first], chunks):
                table.extend(chunk, _chunk_keys(chunk))
            return table
        # Forked before the rows pile up, so each worker starts small; a few chunks in flight at most.
        with forked_pool(count) as pool:
            pending: deque[tuple[list[CustomerFields], AsyncResult[list[MatchKeys]]]] = deque()
            for chunk in itertools.chain([first], chunks):
                pending.append((chunk, pool.apply_async(_chunk_keys, (chunk,))))
                while len(pending) > 2 * count:
                    done, keys = pending.popleft()
                    table.extend(done, keys.get())
            while pending:
                done, keys = pending.popleft()
                table.extend(done, keys.get())
        return table

    def extend(self, customers: Sequence[CustomerFields], keys: Sequence[MatchKeys]) -> None:
        """Add customers with their keys."""
        for customer, customer_keys in zip(customers, keys, strict=True):
            self.append(customer.customer_no, customer_keys)


# Customers keyed at a time (in one worker process, in a large file).
KEY_CHUNK = 20_000


def _chunks(customers: Iterator[CustomerFields], size: int) -> Iterator[list[CustomerFields]]:
    while chunk := list(itertools.islice(customers, size)):
        yield chunk


def _chunk_keys(customers: list[CustomerFields]) -> list[MatchKeys]:
    return [
        match_keys(
            name=customer.name, line1=customer.line1, line2=customer.line2, city=customer.city,
            region=customer.region, postal_code=customer.postal_code, country=customer.country,
        )
        for customer in customers
    ]
