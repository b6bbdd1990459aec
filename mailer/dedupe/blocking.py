"""Blocking: which pairs of customers are compared at all.

Several rules each give every customer a key; customers sharing a key are compared. The rules are
unioned, so one corrupted field (a mistyped postcode, a swapped name) does not hide a pair:

- ``postal``: the postcode;
- ``surname_initial``: the surname and the given name's initial;
- ``phonetic``: the Soundex codes of the given and family names, in either order;
- ``street``: the house number and the street;
- ``street_name``: the street alone (a mistyped house number, town and postcode);
- ``locality_given``: the locality and the given name;
- ``locality_surname``: the locality and the surname (for Chinese addresses: surname and district);
- ``locality_phonetic``: the locality and the surname's Soundex code;
- ``postal_number``: the postcode and the house number;
- ``number_street_start``: the house number and the street's first four letters.

Inside a rule, customers are sorted by key and then by a second field (names in a postcode,
streets in a name key), and each is paired with the next ``window - 1`` customers of the same key:
a block of up to ``window`` customers is compared whole, a larger one as a sliding window, so
the work stays linear in the number of customers however common a key is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mailer.dedupe.keys import KeyTable

DEFAULT_WINDOW = 16


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


def _house_number(numbers: str) -> str:
    """Return the house number among an address's numbers ("h12 #4" -> "h12"), or ""."""
    return next((token for token in numbers.split() if token.startswith("h")), "")


def _phonetic(word: str) -> str:
    return _soundex(word) if word and word[0].isalpha() else word


@dataclass(frozen=True, slots=True)
class BlockingRule:
    """One way of putting customers together: a key per customer ("" = no key) and a sort order."""

    name: str
    # The compared fields the key is made of (left out of this rule's EM estimate of m).
    fields: tuple[str, ...]
    key: Callable[[KeyTable, int], str]
    order: Callable[[KeyTable, int], str]


RULES: tuple[BlockingRule, ...] = (
    BlockingRule(
        "postal", ("postal",),
        lambda t, i: f"{t.countries[i]}|{t.postals[i]}" if t.postals[i] else "",
        lambda t, i: t.names[i],
    ),
    BlockingRule(
        "surname_initial", ("surname", "given"),
        lambda t, i: f"{t.countries[i]}|{t.surnames[i]}|{t.givens[i][:1]}" if t.surnames[i] else "",
        lambda t, i: t.streets[i],
    ),
    BlockingRule(
        "phonetic", ("given", "surname"),
        lambda t, i: (
            f"{t.countries[i]}|" + "|".join(sorted((_phonetic(t.givens[i]), _phonetic(t.surnames[i]))))
            if t.givens[i] and t.surnames[i] else ""
        ),
        lambda t, i: f"{t.localities[i]}|{t.streets[i]}",
    ),
    BlockingRule(
        "street", ("street", "numbers"),
        lambda t, i: f"{t.countries[i]}|{t.numbers[i]}|{t.streets[i]}" if t.numbers[i] and t.streets[i] else "",
        lambda t, i: t.names[i],
    ),
    BlockingRule(
        "street_name", ("street",),
        lambda t, i: f"{t.countries[i]}|{t.streets[i]}" if t.streets[i] else "",
        lambda t, i: t.names[i],
    ),
    BlockingRule(
        "locality_given", ("locality", "given"),
        lambda t, i: f"{t.countries[i]}|{t.localities[i]}|{t.givens[i]}" if t.localities[i] and t.givens[i] else "",
        lambda t, i: t.surnames[i],
    ),
    BlockingRule(
        "locality_surname", ("locality", "surname"),
        lambda t, i: f"{t.countries[i]}|{t.localities[i]}|{t.surnames[i]}" if t.localities[i] and t.surnames[i] else "",
        lambda t, i: t.givens[i],
    ),
    BlockingRule(
        "locality_phonetic", ("locality",),
        lambda t, i: (
            f"{t.countries[i]}|{t.localities[i]}|{_phonetic(t.surnames[i])}"
            if t.localities[i] and t.surnames[i] else ""
        ),
        lambda t, i: t.givens[i],
    ),
    BlockingRule(
        "postal_number", ("postal",),
        lambda t, i: f"{t.countries[i]}|{t.postals[i]}|{_house_number(t.numbers[i])}" if t.postals[i] else "",
        lambda t, i: t.names[i],
    ),
    BlockingRule(
        "number_street_start", ("numbers",),
        lambda t, i: (
            f"{t.countries[i]}|{_house_number(t.numbers[i])}|{t.streets[i][:4]}"
            if _house_number(t.numbers[i]) and t.streets[i] else ""
        ),
        lambda t, i: t.names[i],
    ),
)


def _codes(values: Sequence[str]) -> np.ndarray:
    """Return each value's rank among the distinct values (equal values, equal codes)."""
    _, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
    return codes.reshape(-1).astype(np.int64)


def rule_pairs(table: KeyTable, rule: BlockingRule, *, window: int = DEFAULT_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Return the pairs (a < b) one rule puts together."""
    count = len(table)
    keys = [rule.key(table, i) for i in range(count)]
    keyed = np.array([bool(key) for key in keys], dtype=bool)
    rows = np.flatnonzero(keyed)
    if rows.size < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # Only equality matters for the key: numbering by first sight is cheaper than sorting strings.
    numbering: dict[str, int] = {}
    key_codes = np.fromiter(
        (numbering.setdefault(keys[i], len(numbering)) for i in rows.tolist()), dtype=np.int64, count=rows.size
    )
    order_codes = _codes([rule.order(table, i) for i in rows.tolist()])
    order = np.lexsort((order_codes, key_codes))
    sorted_keys, sorted_rows = key_codes[order], rows[order]
    found_a: list[np.ndarray] = []
    found_b: list[np.ndarray] = []
    for distance in range(1, window):
        if distance >= sorted_keys.size:
            break
        same = sorted_keys[distance:] == sorted_keys[:-distance]
        if not same.any():
            break
        found_a.append(sorted_rows[:-distance][same])
        found_b.append(sorted_rows[distance:][same])
    if not found_a:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    a, b = np.concatenate(found_a), np.concatenate(found_b)
    return np.minimum(a, b), np.maximum(a, b)


@dataclass(frozen=True, slots=True)
class BlockedPairs:
    """The union of every rule's pairs (a < b, sorted by a then b) and which rule found each."""

    a: np.ndarray
    b: np.ndarray
    # For each rule: the positions in (a, b) of the pairs it found.
    by_rule: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.a.size)

    def covers(self, first: Sequence[int], second: Sequence[int], *, count: int) -> np.ndarray:
        """Return, for each pair (first[i], second[i]), whether blocking compares it."""
        low = np.minimum(np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64))
        high = np.maximum(np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64))
        return np.isin(low * count + high, self.a.astype(np.int64) * count + self.b)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Return the distinct values, sorted (by sorting: NumPy's hashing unique is far slower on pair ids)."""
    ordered = np.sort(values)
    if ordered.size == 0:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def block(
    table: KeyTable, *, rules: Sequence[BlockingRule] = RULES, window: int = DEFAULT_WINDOW
) -> BlockedPairs:
    """Return every pair some rule puts together, once, with the rules that found it."""
    if window < 2:
        raise ValueError("window must be at least 2")
    count = np.int64(max(len(table), 1))
    # Each rule's pairs as one number each (a * count + b), kept once: at a million customers the
    # rules' pairs run to tens of millions, so nothing is held twice for long.
    rule_ids: dict[str, np.ndarray] = {}
    for rule in rules:
        a, b = rule_pairs(table, rule, window=window)
        rule_ids[rule.name] = _sorted_unique(a * count + b)
        del a, b
    union = _sorted_unique(np.concatenate(list(rule_ids.values()))) if rule_ids else np.zeros(0, dtype=np.int64)
    by_rule = {name: np.searchsorted(union, rule_ids.pop(name)).astype(np.int32) for name in list(rule_ids)}
    # Customer indices fit in 32 bits, half the memory of the pairs.
    return BlockedPairs(a=(union // count).astype(np.int32), b=(union % count).astype(np.int32), by_rule=by_rule)


def pairs_touching(
    table: KeyTable, rows: Sequence[int], *, rules: Sequence[BlockingRule] = RULES, window: int = DEFAULT_WINDOW
) -> tuple[np.ndarray, np.ndarray]:
    """Return the pairs (a < b, each once) some rule puts together that hold one of ``rows``.

    For comparing a few new customers against a stored file: only the key groups of the new
    customers are gathered, and in a group larger than the window each new customer meets its
    ``window - 1`` nearest neighbours in the rule's order on each side, as the full search's
    sorted window would put them.
    """
    if window < 2:
        raise ValueError("window must be at least 2")
    new = set(rows)
    found: set[tuple[int, int]] = set()
    for rule in rules:
        wanted = {rule.key(table, i) for i in new} - {""}
        if not wanted:
            continue
        groups: dict[str, list[int]] = {}
        for i in range(len(table)):
            key = rule.key(table, i)
            if key in wanted:
                groups.setdefault(key, []).append(i)
        for members in groups.values():
            if len(members) <= window:
                found.update(
                    (min(x, y), max(x, y)) for x in members if x in new for y in members if y != x
                )
                continue
            members.sort(key=lambda i: (rule.order(table, i), i))
            for position, x in enumerate(members):
                if x not in new:
                    continue
                for y in members[max(position - window + 1, 0): position + window]:
                    if y != x:
                        found.add((min(x, y), max(x, y)))
    ordered = sorted(found)
    return (np.array([x for x, _ in ordered], dtype=np.int64), np.array([y for _, y in ordered], dtype=np.int64))
