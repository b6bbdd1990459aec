"""Likely duplicate customers: matching keys, blocking and scoring by name and address.

Pure: plain values and numpy arrays in, scores out; nothing here touches the database.

Keys. Names and addresses are compared in one Latin form, so "王磊, 中山路88号" meets
"Wang Lei, 88 Zhongshan Rd": Chinese characters are written in pinyin (the surname, then the
given name as one word), English nicknames become the full name (Bill -> William), honorifics
and word order are dropped. An address becomes a *street* (street, estate and building names,
spaces dropped) and its *numbers* (house number, building, unit, floor and room, each tagged
with what it numbers), taken from the components ``normalize_address`` finds.

Scores, each 0-100:
- ``name_score``: the mean of the sorted-token ratio and the token-set ratio (the better of the
  name as written and with nicknames resolved), so a typo costs little and a different given
  name a lot; a name that is part of the other or agrees with it initial for word ("Smith",
  "J. Smith", "李先生" against "John Smith", "李伟") scores at least ``NAME_COMPATIBLE``;
- ``address_score``: the street ratio times a factor for the numbers: equal 1.0, one side
  lacking some of the other's 0.9, any conflict 0.5 -- a different flat in the same building
  is a different household, however alike the rest reads;
- ``score``: the geometric mean of the two, so a pair needs both a like name and a like address.

Blocking. No pair is scored unless the two share a block: the same postal code, or the same
locality and the same phonetic code of one name word. A block larger than ``max_block`` is
sorted (by name in postal blocks, by street in name blocks) and cut into overlapping windows of
``max_block`` rows, so the work stays near-linear in the number of customers. Small blocks are
packed together up to ``PACK_ROWS`` rows, and each pack or window is scored with one
``rapidfuzz.process.cdist`` call on all cores; only pairs inside one block are kept.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from mailer.addresses.normalize import (
    canonical_country,
    chinese_name_parts,
    fold_text,
    name_key,
    normalize_address,
    street_word_in_full,
)

DEFAULT_THRESHOLD = 88.0
DEFAULT_MAX_BLOCK = 256
# Small blocks are packed into one cdist call up to this many rows: a call costs about 0.1 ms
# before it compares anything, and a pack of k blocks computes k times the cells it keeps, so
# about sqrt(call cost x cells per second) rows balances the two.
PACK_ROWS = 64
# A name that is part of the other, or agrees with it once initials are read as the word they
# start ("J. Smith", "Smith", "李先生" against "John Smith" and "李伟"), scores at least this.
NAME_COMPATIBLE = 90.0
# Factors applied to the street similarity according to how the numbers of two addresses agree.
NUMBERS_EQUAL = 1.0
NUMBERS_SUBSET = 0.9
NUMBERS_CONFLICT = 0.5

# Called with (steps just done, total steps) as the search advances.
ProgressCallback = Callable[[int, int], None]

_CHINESE_SCRIPT_COUNTRIES = frozenset({"CN", "TW", "HK", "MO"})
_HAN = re.compile(r"[\u3400-\u9fff]")
_IDENTIFIER = re.compile(r"[0-9a-z]+")
_DIGIT = re.compile(r"\d")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")

# Common English nicknames and short forms -> the full given name.
_NICKNAMES: dict[str, tuple[str, ...]] = {
    "william": ("bill", "billy", "will", "willy", "liam"),
    "robert": ("bob", "bobby", "rob", "robbie", "bert"),
    "richard": ("rick", "ricky", "dick", "rich", "richie"),
    "james": ("jim", "jimmy", "jamie"),
    "john": ("jack", "johnny", "jon"),
    "joseph": ("joe", "joey"),
    "michael": ("mike", "mikey", "mick"),
    "thomas": ("tom", "tommy"),
    "charles": ("charlie", "chuck"),
    "christopher": ("chris", "topher"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davey"),
    "edward": ("ed", "eddie", "ted", "teddy", "ned"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "betsy"),
    "jennifer": ("jen", "jenny"),
    "katherine": ("kate", "kathy", "katie"),
    "catherine": ("cathy", "cate"),
    "margaret": ("maggie", "meg", "peggy", "marge"),
    "matthew": ("matt",),
    "anthony": ("tony",),
    "andrew": ("andy", "drew"),
    "steven": ("steve", "stephen"),
    "patricia": ("pat", "patty", "trish", "tricia"),
    "susan": ("sue", "susie", "suzy"),
    "deborah": ("deb", "debbie", "debra"),
    "kenneth": ("ken", "kenny"),
    "joshua": ("josh",),
    "benjamin": ("ben", "benny"),
    "samuel": ("sam", "sammy"),
    "alexander": ("alex", "xander"),
    "nicholas": ("nick", "nicky"),
    "timothy": ("tim", "timmy"),
    "gregory": ("greg",),
    "jeffrey": ("jeff", "geoffrey"),
    "donald": ("don", "donny"),
    "ronald": ("ron", "ronnie"),
    "raymond": ("ray",),
    "lawrence": ("larry",),
    "gerald": ("jerry",),
    "barbara": ("barb", "barbie"),
    "rebecca": ("becky", "becca"),
    "victoria": ("vicky", "tori"),
    "jessica": ("jess", "jessie"),
    "dorothy": ("dot", "dottie"),
    "frances": ("fran",),
    "pamela": ("pam",),
    "cynthia": ("cindy",),
    "sandra": ("sandy",),
    "kimberly": ("kim",),
    "abigail": ("abby",),
    "nancy": ("nan",),
}
_CANONICAL_GIVEN = {nick: full for full, nicks in _NICKNAMES.items() for nick in nicks}

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


@dataclass(frozen=True, slots=True)
class CustomerFields:
    """The fields of one customer that matching reads."""

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
    street: str
    numbers: str
    locality: str
    postal: str
    country: str


@dataclass(frozen=True, slots=True)
class PairScore:
    """How alike two customers are, 0-100."""

    score: float
    name_score: float
    address_score: float


# --- keys -------------------------------------------------------------------------------------


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


@lru_cache(maxsize=1 << 18)
def name_match_keys(name: str) -> tuple[str, str]:
    """Return a name's comparable Latin forms, words sorted: nicknames resolved, and as written.

    Chinese names are written in pinyin, surname and given name as one word each.
    """
    words = _latin_name_tokens(name)
    resolved = " ".join(sorted(_CANONICAL_GIVEN.get(word, word) for word in words))
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
    normalized = normalize_address(
        line1=line1, line2=line2 or "", city=city, region=region or "", postal_code=postal_code,
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
    return MatchKeys(
        name=resolved,
        written_name=written,
        street=street,
        numbers=" ".join(sorted(set(numbers))),
        locality=_locality(city, components, alpha2),
        postal=postal,
        country=alpha2,
    )


_SOUNDEX_CODES = str.maketrans("bfpvcgjkqsxzdtlmnr", "111122222222334556")


@lru_cache(maxsize=1 << 16)
def _soundex(word: str) -> str:
    """Return the American Soundex code of a Latin word, so "Smith" and "Smyth" share a block."""
    head, tail = word[0], word[1:]
    digits = []
    previous = head.translate(_SOUNDEX_CODES)
    for ch in tail:
        code = ch.translate(_SOUNDEX_CODES)
        if code.isdigit():
            if code != previous:
                digits.append(code)
            previous = code
        elif ch not in "hw":
            # A vowel separates two letters of one code; h and w do not.
            previous = ""
    return (head + "".join(digits) + "000")[:4]


# --- the table of keys ------------------------------------------------------------------------


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
        self.customer_nos.append(customer_no)
        self.names.append(keys.name)
        self.written_names.append(keys.written_name)
        self.streets.append(keys.street)
        self.numbers.append(keys.numbers)
        self.localities.append(keys.locality)
        self.postals.append(keys.postal)
        self.countries.append(keys.country)

    def keys(self, index: int) -> MatchKeys:
        """Return the keys of the customer at ``index``."""
        return MatchKeys(
            self.names[index], self.written_names[index], self.streets[index], self.numbers[index],
            self.localities[index], self.postals[index], self.countries[index],
        )

    @classmethod
    def from_customers(cls, customers: Iterable[CustomerFields]) -> KeyTable:
        """Build the keys of every customer."""
        table = cls()
        for customer in customers:
            table.append(
                customer.customer_no,
                match_keys(
                    name=customer.name, line1=customer.line1, line2=customer.line2, city=customer.city,
                    region=customer.region, postal_code=customer.postal_code, country=customer.country,
                ),
            )
        return table


# --- scoring ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoredPairs:
    """Pairs of customers (indices into a KeyTable, ``a < b``) with their scores."""

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray
    name_score: np.ndarray
    address_score: np.ndarray

    def __len__(self) -> int:
        return int(self.a.size)

    def take(self, selector: np.ndarray) -> ScoredPairs:
        """Return the pairs chosen by a boolean mask or index array."""
        return ScoredPairs(
            self.a[selector], self.b[selector], self.score[selector], self.name_score[selector],
            self.address_score[selector],
        )


_INITIAL = re.compile(r"(?:^| )[a-z](?: |$)")


def _names_agree(first: list[str], second: list[str]) -> bool:
    """Return whether every word of the shorter name has its own word in the longer one.

    Words agree when equal, or when one is a single letter that starts the other.
    """
    shorter, longer = sorted((first, second), key=len)
    left = list(longer)
    for exact in (True, False):
        for word in [w for w in shorter if (len(w) > 1) == exact]:
            match = next(
                (i for i, other in enumerate(left)
                 if other == word or (not exact and other[0] == word)
                 or (exact and len(other) == 1 and word[0] == other)),
                None,
            )
            if match is None:
                return False
            del left[match]
    return True


def _name_ratios(names_a: Sequence[str], names_b: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    sort_ratio = process.cpdist(names_a, names_b, scorer=fuzz.ratio, workers=-1, dtype=np.float64)
    set_ratio = process.cpdist(names_a, names_b, scorer=fuzz.token_set_ratio, workers=-1, dtype=np.float64)
    return (sort_ratio + set_ratio) / 2.0, set_ratio


def score_keys(
    first: Sequence[MatchKeys] | KeyColumns, second: Sequence[MatchKeys] | KeyColumns
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score aligned pairs of keys; return (score, name_score, address_score) arrays."""
    a = first if isinstance(first, KeyColumns) else KeyColumns.of(first)
    b = second if isinstance(second, KeyColumns) else KeyColumns.of(second)
    names_a, names_b = a.names, b.names
    name_score, set_ratio = _name_ratios(names_a, names_b)
    written_score, _ = _name_ratios(a.written_names, b.written_names)
    name_score = np.maximum(name_score, written_score)
    compatible = set_ratio == 100
    for k in np.flatnonzero(~compatible).tolist():
        name_a, name_b = names_a[k], names_b[k]
        if _INITIAL.search(name_a) or _INITIAL.search(name_b):
            compatible[k] = _names_agree(name_a.split(), name_b.split())
    name_score = np.where(compatible, np.maximum(name_score, NAME_COMPATIBLE), name_score)
    # A name with nothing left (an honorific alone) says nothing about who it is.
    has_names = np.array([bool(x) and bool(y) for x, y in zip(names_a, names_b, strict=True)])
    name_score = np.where(has_names, name_score, 0.0)

    street = process.cpdist(a.streets, b.streets, scorer=fuzz.ratio, workers=-1, dtype=np.float64)
    equal = np.array([x == y for x, y in zip(a.numbers, b.numbers, strict=True)], dtype=bool)
    # The shared "n" makes an address without numbers a subset of any other.
    subset = (
        process.cpdist(
            [f"n {x}" for x in a.numbers], [f"n {y}" for y in b.numbers],
            scorer=fuzz.token_set_ratio, workers=-1,
        )
        == 100
    )
    factor = np.where(equal, NUMBERS_EQUAL, np.where(subset, NUMBERS_SUBSET, NUMBERS_CONFLICT))
    address_score = street * factor
    score = np.sqrt(name_score * address_score)
    return np.round(score, 1), np.round(name_score, 1), np.round(address_score, 1)


def score_pairs(table: KeyTable, a: np.ndarray, b: np.ndarray) -> ScoredPairs:
    """Score the pairs (a[i], b[i]) of customers in the table."""
    if a.size == 0:
        empty = np.zeros(0)
        return ScoredPairs(a, b, empty, empty, empty)
    score, name_score, address_score = score_keys(table.columns(a), table.columns(b))
    return ScoredPairs(a, b, score, name_score, address_score)


def compare(first: MatchKeys, second: MatchKeys) -> PairScore:
    """Score one pair of customers."""
    score, name_score, address_score = score_keys([first], [second])
    return PairScore(float(score[0]), float(name_score[0]), float(address_score[0]))


# --- blocking ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Group:
    """Rows ``start:end`` of the blocking plan's entries, scored with one cdist call.

    Either several whole small blocks, or one window of a large block whose first ``overlap`` rows
    were already paired with each other in the previous window.
    """

    start: int
    end: int
    overlap: int = 0


@dataclass(slots=True)
class BlockingPlan:
    """Every block entry sorted by block, and how the entries are cut into cdist groups."""

    records: np.ndarray  # the customer (KeyTable index) of each entry
    blocks: np.ndarray  # the block id of each entry
    positions: np.ndarray  # the entry's position inside its block
    block_sizes: np.ndarray  # by block id
    groups: list[Group]
    max_block: int
    block_count: int

    @property
    def pairs_to_compare(self) -> int:
        """Return how many in-block pairs the groups score."""
        total = 0
        for group in self.groups:
            size = group.end - group.start
            if group.overlap or self.block_sizes[self.blocks[group.start]] > self.max_block:
                total += size * (size - 1) // 2 - group.overlap * (group.overlap - 1) // 2
            else:
                counts = np.bincount(self.blocks[group.start : group.end] - self.blocks[group.start])
                total += int((counts * (counts - 1) // 2).sum())
        return total

    def covers(self, a: Sequence[int], b: Sequence[int]) -> np.ndarray:
        """Return, for each pair (a[i], b[i]), whether some group scores it."""
        step = self.max_block // 2
        entries: dict[int, list[tuple[int, int]]] = {}
        wanted = set(a) | set(b)
        for record, block, position in zip(
            self.records.tolist(), self.blocks.tolist(), self.positions.tolist(), strict=True
        ):
            if record in wanted:
                entries.setdefault(record, []).append((block, position))
        covered = np.zeros(len(a), dtype=bool)
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            mine = dict(entries.get(x, ()))
            for block, position in entries.get(y, ()):
                if block not in mine:
                    continue
                size = int(self.block_sizes[block])
                if size <= self.max_block:
                    covered[k] = True
                    break
                low, high = sorted((mine[block], position))
                starts = _window_starts(size, self.max_block, step)
                window = starts[np.searchsorted(starts, low, side="right") - 1]
                if high < window + self.max_block:
                    covered[k] = True
                    break
        return covered


def _window_starts(size: int, width: int, step: int) -> np.ndarray:
    starts = list(range(0, max(size - width, 0) + 1, step))
    if starts[-1] + width < size:
        starts.append(size - width)
    return np.asarray(starts)


def _ranks(values: Sequence[str]) -> np.ndarray:
    """Return each value's rank in sorted order (equal values share no guarantee of order)."""
    order = np.argsort(np.asarray(values, dtype=object), kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


def plan_blocks(table: KeyTable, *, max_block: int = DEFAULT_MAX_BLOCK) -> BlockingPlan:
    """Put every customer into its blocks and cut the blocks into cdist groups."""
    if max_block < 4:
        raise ValueError("max_block must be at least 4")
    block_of: dict[str, int] = {}
    records: list[int] = []
    blocks: list[int] = []
    by_name: list[bool] = []
    for index, (country, postal, locality, name) in enumerate(
        zip(table.countries, table.postals, table.localities, table.names, strict=True)
    ):
        area = postal or locality
        if area:
            records.append(index)
            blocks.append(block_of.setdefault(f"p|{country}|{area}", len(block_of)))
            by_name.append(False)
        if not locality:
            continue
        for code in {_soundex(token) for token in name.split() if len(token) > 1 and token[0].isalpha()}:
            records.append(index)
            blocks.append(block_of.setdefault(f"n|{country}|{locality}|{code}", len(block_of)))
            by_name.append(True)

    record_array = np.asarray(records, dtype=np.int64)
    block_array = np.asarray(blocks, dtype=np.int64)
    # Postal blocks are sorted by name, name blocks by street, so near rows look alike.
    name_rank, street_rank = _ranks(table.names), _ranks(table.streets)
    secondary = np.where(np.asarray(by_name, dtype=bool), street_rank[record_array], name_rank[record_array])
    order = np.lexsort((secondary, block_array))
    record_array, block_array = record_array[order], block_array[order]

    block_sizes = np.bincount(block_array, minlength=len(block_of)) if block_of else np.zeros(0, np.int64)
    keep = block_sizes[block_array] > 1
    record_array, block_array = record_array[keep], block_array[keep]
    is_start = np.r_[True, block_array[1:] != block_array[:-1]] if block_array.size else np.zeros(0, bool)
    entry_index = np.arange(block_array.size)
    positions = entry_index - np.maximum.accumulate(np.where(is_start, entry_index, 0))
    starts = np.flatnonzero(is_start)

    groups: list[Group] = []
    step = max_block // 2
    pack_start: int | None = None
    for start in starts.tolist():
        size = int(block_sizes[block_array[start]])
        if size > max_block:
            if pack_start is not None:
                groups.append(Group(pack_start, start))
                pack_start = None
            previous_end = None
            for window in _window_starts(size, max_block, step).tolist():
                overlap = max(0, previous_end - window) if previous_end is not None else 0
                groups.append(Group(start + window, start + window + max_block, overlap))
                previous_end = window + max_block
            continue
        if pack_start is None:
            pack_start = start
        elif start + size - pack_start > PACK_ROWS:
            groups.append(Group(pack_start, start))
            pack_start = start
    if pack_start is not None:
        groups.append(Group(pack_start, int(block_array.size)))

    return BlockingPlan(
        records=record_array,
        blocks=block_array,
        positions=positions,
        block_sizes=block_sizes,
        groups=groups,
        max_block=max_block,
        block_count=int(starts.size),
    )


# --- the search -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchStats:
    """What a search did: customers, blocks, pairs compared, candidates rescored, time taken."""

    customers: int
    blocks: int
    pairs_compared: int
    candidates: int
    pairs_found: int
    seconds: float

    @property
    def pairs_per_second(self) -> float:
        """Return the in-block pairs compared per second of blocking and scoring."""
        return self.pairs_compared / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """Return the figures as plain data."""
        return {
            "customers": self.customers,
            "blocks": self.blocks,
            "pairs_compared": self.pairs_compared,
            "candidates": self.candidates,
            "pairs_found": self.pairs_found,
            "seconds": round(self.seconds, 3),
            "pairs_per_second": round(self.pairs_per_second),
        }


@lru_cache(maxsize=8)
def _upper_triangle(size: int) -> np.ndarray:
    return np.triu(np.ones((size, size), dtype=bool), k=1)


def find_pairs(
    table: KeyTable,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_block: int = DEFAULT_MAX_BLOCK,
    progress: ProgressCallback | None = None,
    plan: BlockingPlan | None = None,
) -> tuple[ScoredPairs, SearchStats]:
    """Find the pairs of customers scoring at least ``threshold``, best first."""
    began = time.perf_counter()
    plan = plan or plan_blocks(table, max_block=max_block)
    # Scores only fall below these bounds: the set ratio is at most 100, the numbers factor at most 1.
    # cdist rounds to whole numbers, hence the +1.
    bound = threshold * threshold
    names, streets = table.names, table.streets
    found_a: list[np.ndarray] = []
    found_b: list[np.ndarray] = []
    compared = 0
    for group in plan.groups:
        rows = plan.records[group.start : group.end]
        index = rows.tolist()
        group_names = [names[i] for i in index]
        group_streets = [streets[i] for i in index]
        name_ratio = process.cdist(group_names, group_names, scorer=fuzz.ratio, dtype=np.uint8, workers=-1)
        street_ratio = process.cdist(
            group_streets, group_streets, scorer=fuzz.ratio, dtype=np.uint8, workers=-1
        )
        in_block = _upper_triangle(len(index)).copy()
        labels = plan.blocks[group.start : group.end]
        if labels[0] != labels[-1]:
            in_block &= labels[:, None] == labels[None, :]
        if group.overlap:
            in_block[: group.overlap, : group.overlap] = False
        compared += int(in_block.sum())
        name_bound = np.maximum((name_ratio.astype(np.float32) + 101.0) / 2.0, NAME_COMPATIBLE)
        promising = name_bound * (street_ratio.astype(np.float32) + 1.0) >= bound
        first, second = np.nonzero(in_block & promising)
        if first.size:
            found_a.append(rows[first])
            found_b.append(rows[second])
        if progress:
            progress(1, len(plan.groups))

    if found_a:
        a, b = np.concatenate(found_a), np.concatenate(found_b)
        low, high = np.minimum(a, b), np.maximum(a, b)
        distinct = low != high
        pair_ids = np.unique(low[distinct] * len(table) + high[distinct])
        a, b = pair_ids // len(table), pair_ids % len(table)
    else:
        a = b = np.zeros(0, dtype=np.int64)
    scored = score_pairs(table, a, b)
    scored = scored.take(scored.score >= threshold)
    scored = scored.take(np.lexsort((scored.b, scored.a, -scored.score)))
    stats = SearchStats(
        customers=len(table),
        blocks=plan.block_count,
        pairs_compared=compared,
        candidates=int(a.size),
        pairs_found=len(scored),
        seconds=time.perf_counter() - began,
    )
    return scored, stats
