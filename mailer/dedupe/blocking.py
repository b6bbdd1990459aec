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

A rule's key and order are worked out once for all customers alike in the columns they are made
from (``key_columns``, ``order_columns``), and the rest is array work, in this one process: forked
workers would copy the pages of every key-table string they read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mailer.dedupe.keys import KeyTable

DEFAULT_WINDOW = 12
# In a larger file the model is fitted on a random sample of about this many blocked pairs.
TRAINING_PAIRS = 4_000_000


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


# The orders inside a block (one function an order, so a file's ranks in it are worked out once).
def _by_name(table: KeyTable, i: int) -> str:
    return table.names[i]


def _by_street(table: KeyTable, i: int) -> str:
    return table.streets[i]


def _by_given(table: KeyTable, i: int) -> str:
    return table.givens[i]


def _by_surname(table: KeyTable, i: int) -> str:
    return table.surnames[i]


def _by_place(table: KeyTable, i: int) -> str:
    return f"{table.localities[i]}|{table.streets[i]}"


@dataclass(frozen=True, slots=True)
class BlockingRule:
    """One way of putting customers together: a key per customer ("" = no key) and a sort order."""

    name: str
    # The compared fields the key is made of (left out of this rule's EM estimate of m).
    fields: tuple[str, ...]
    key: Callable[[KeyTable, int], str]
    order: Callable[[KeyTable, int], str]
    # The key table's columns the key, and the order, are made from: customers alike in these share
    # their key (their order), so it is worked out once for all of them.
    key_columns: tuple[str, ...]
    order_columns: tuple[str, ...]


RULES: tuple[BlockingRule, ...] = (
    BlockingRule(
        "postal", ("postal",),
        lambda t, i: f"{t.countries[i]}|{t.postals[i]}" if t.postals[i] else "",
        _by_name,
        ("countries", "postals"), ("names",),
    ),
    BlockingRule(
        "surname_initial", ("surname", "given"),
        lambda t, i: f"{t.countries[i]}|{t.surnames[i]}|{t.givens[i][:1]}" if t.surnames[i] else "",
        _by_street,
        ("countries", "surnames", "givens"), ("streets",),
    ),
    BlockingRule(
        "phonetic", ("given", "surname"),
        lambda t, i: (
            f"{t.countries[i]}|" + "|".join(sorted((_phonetic(t.givens[i]), _phonetic(t.surnames[i]))))
            if t.givens[i] and t.surnames[i] else ""
        ),
        _by_place,
        ("countries", "givens", "surnames"), ("localities", "streets"),
    ),
    BlockingRule(
        "street", ("street", "numbers"),
        lambda t, i: f"{t.countries[i]}|{t.numbers[i]}|{t.streets[i]}" if t.numbers[i] and t.streets[i] else "",
        _by_name,
        ("countries", "numbers", "streets"), ("names",),
    ),
    BlockingRule(
        "street_name", ("street",),
        lambda t, i: f"{t.countries[i]}|{t.streets[i]}" if t.streets[i] else "",
        _by_name,
        ("countries", "streets"), ("names",),
    ),
    BlockingRule(
        "locality_given", ("locality", "given"),
        lambda t, i: f"{t.countries[i]}|{t.localities[i]}|{t.givens[i]}" if t.localities[i] and t.givens[i] else "",
        _by_surname,
        ("countries", "localities", "givens"), ("surnames",),
    ),
    BlockingRule(
        "locality_surname", ("locality", "surname"),
        lambda t, i: f"{t.countries[i]}|{t.localities[i]}|{t.surnames[i]}" if t.localities[i] and t.surnames[i] else "",
        _by_given,
        ("countries", "localities", "surnames"), ("givens",),
    ),
    BlockingRule(
        "locality_phonetic", ("locality",),
        lambda t, i: (
            f"{t.countries[i]}|{t.localities[i]}|{_phonetic(t.surnames[i])}"
            if t.localities[i] and t.surnames[i] else ""
        ),
        _by_given,
        ("countries", "localities", "surnames"), ("givens",),
    ),
    BlockingRule(
        "postal_number", ("postal",),
        lambda t, i: f"{t.countries[i]}|{t.postals[i]}|{_house_number(t.numbers[i])}" if t.postals[i] else "",
        _by_name,
        ("countries", "postals", "numbers"), ("names",),
    ),
    BlockingRule(
        "number_street_start", ("numbers",),
        lambda t, i: (
            f"{t.countries[i]}|{_house_number(t.numbers[i])}|{t.streets[i][:4]}"
            if _house_number(t.numbers[i]) and t.streets[i] else ""
        ),
        _by_name,
        ("countries", "numbers", "streets"), ("names",),
    ),
)


@dataclass(frozen=True, slots=True)
class RuleKeys:
    """One rule's keys: the customers that have one, each one's key as a number, the keys by number."""

    rows: np.ndarray
    codes: np.ndarray
    keys: list[str]

    def digests(self, customers: int) -> np.ndarray:
        """Return every customer's key as a 64-bit digest (0: no key), as ``block_digests`` stores them."""
        column = np.zeros(customers, dtype=np.uint64)
        column[self.rows] = _digests(self.keys)[self.codes]
        return column


class CustomerGroups:
    """A key table's customers grouped by their values in some columns, for working out a value made
    from those columns (a rule's key, its order) once a group rather than once a customer."""

    def __init__(self, table: KeyTable) -> None:
        self.table = table
        self._ids: dict[str, np.ndarray] = {}
        self._groups: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._ranks: dict[Callable[[KeyTable, int], str], np.ndarray] = {}

    def column_ids(self, column: str) -> np.ndarray:
        """Return each customer's value in a column as a number (equal values, equal numbers)."""
        if column not in self._ids:
            values: list[str] = getattr(self.table, column)
            numbering: dict[str, int] = {}
            self._ids[column] = np.fromiter(
                (numbering.setdefault(value, len(numbering)) for value in values), dtype=np.int32, count=len(values)
            )
        return self._ids[column]

    def groups(self, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return each customer's group among those alike in ``columns``, and the first customer of each group."""
        key = tuple(columns)
        if key not in self._groups:
            combined, size = np.zeros(len(self.table), dtype=np.int64), 1
            for column in columns:
                ids = self.column_ids(column)
                width = int(ids.max(initial=0)) + 1
                if size * width >= 1 << 62:
                    combined = np.unique(combined, return_inverse=True)[1].reshape(-1)
                    size = int(combined.max(initial=0)) + 1
                combined = combined * np.int64(width) + ids
                size *= width
            _, first, group = np.unique(combined, return_index=True, return_inverse=True)
            # Four bytes a customer: a file's groups of several rules are held at once.
            self._groups[key] = (group.reshape(-1).astype(np.int32), first)
        return self._groups[key]

    def order_ranks(self, rule: BlockingRule) -> np.ndarray:
        """Return each customer's rank in a rule's order (equal values, equal ranks)."""
        if rule.order not in self._ranks:
            group, first = self.groups(rule.order_columns)
            ranks = _ranks([rule.order(self.table, i) for i in first.tolist()]).astype(np.int32)
            self._ranks[rule.order] = ranks[group]
        return self._ranks[rule.order]


def rule_codes(table: KeyTable, rule: BlockingRule, *, groups: CustomerGroups | None = None) -> RuleKeys:
    """Return the customers with a key under ``rule`` and their keys numbered by first sight (only
    equality matters for a key: numbering is cheaper than sorting strings)."""
    groups = groups if groups is not None else CustomerGroups(table)
    group, first = groups.groups(rule.key_columns)
    numbering: dict[str, int] = {}
    keys = (rule.key(table, i) for i in first.tolist())
    group_codes = np.fromiter(
        (numbering.setdefault(key, len(numbering)) if key else -1 for key in keys), dtype=np.int64, count=first.size
    )
    codes = group_codes[group]
    rows = np.flatnonzero(codes >= 0)
    return RuleKeys(rows, codes[rows], list(numbering))


def rule_pairs(
    table: KeyTable, rule: BlockingRule, *, window: int = DEFAULT_WINDOW, keys: RuleKeys | None = None,
    groups: CustomerGroups | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the pairs (a < b, each once, sorted) one rule puts together (``keys``: its keys, when
    already numbered)."""
    ids = rule_pair_ids(table, rule, window=window, keys=keys, groups=groups)
    width = np.int64(max(len(table), 1))
    return ids // width, ids % width


def rule_pair_ids(
    table: KeyTable, rule: BlockingRule, *, window: int = DEFAULT_WINDOW, keys: RuleKeys | None = None,
    groups: CustomerGroups | None = None,
) -> np.ndarray:
    """Return the pairs one rule puts together as numbers ``a * customers + b`` (a < b), distinct and sorted.

    Made as numbers from the start: a rule pairs up to ``window - 1`` times the customers, and its
    pairs' a and b columns, held besides, would be what blocking's memory peaks at.
    """
    groups = groups if groups is not None else CustomerGroups(table)
    keys = keys if keys is not None else rule_codes(table, rule, groups=groups)
    rows, key_codes = keys.rows, keys.codes
    if rows.size < 2:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((groups.order_ranks(rule)[rows], key_codes))
    sorted_keys, sorted_rows = key_codes[order], rows[order]
    del order
    width = np.int64(max(len(table), 1))
    found: list[np.ndarray] = []
    for distance in range(1, window):
        if distance >= sorted_keys.size:
            break
        same = sorted_keys[distance:] == sorted_keys[:-distance]
        if not same.any():
            break
        a, b = sorted_rows[:-distance][same], sorted_rows[distance:][same]
        found.append(np.minimum(a, b) * width + np.maximum(a, b))
    if not found:
        return np.zeros(0, dtype=np.int64)
    ids = np.concatenate(found)
    del found
    return _distinct(ids, in_place=True)


@dataclass(frozen=True, slots=True)
class BlockedPairs:
    """The union of every rule's pairs (a < b, sorted by a then b) and which rule found each.

    At a million customers the pairs run to tens of millions, so each is held as its ``b`` alone
    (four bytes): customer ``a``'s pairs are ``b_column[starts[a]:starts[a + 1]]``. ``pairs`` gives
    the (a, b) of a slice of them.
    """

    b_column: np.ndarray
    starts: np.ndarray  # customers + 1 positions
    # Each customer's keys as 64-bit digests, a column a rule (see ``block_digests``).
    digests: np.ndarray
    # For each rule: the positions of the pairs it found (of the training sample's only, when
    # there is one).
    by_rule: dict[str, np.ndarray]
    # The positions of the pairs the model is fitted on, sorted; None: all of them.
    training: np.ndarray | None = None

    @classmethod
    def of(
        cls, ids: np.ndarray, customers: int, *, digests: np.ndarray, by_rule: dict[str, np.ndarray],
        training: np.ndarray | None,
    ) -> BlockedPairs:
        """Return the pairs held as sorted numbers ``a * customers + b`` (read a chunk at a time)."""
        width = np.int64(max(customers, 1))
        b_column = np.empty(ids.size, dtype=np.uint32 if customers <= 1 << 32 else np.int64)
        for start in range(0, ids.size, _MOVE_CHUNK):
            b_column[start : start + _MOVE_CHUNK] = ids[start : start + _MOVE_CHUNK] % width
        starts = np.searchsorted(ids, np.arange(customers + 1, dtype=np.int64) * width)
        return cls(b_column=b_column, starts=starts, digests=digests, by_rule=by_rule, training=training)

    @property
    def customers(self) -> int:
        return int(self.starts.size - 1)

    def __len__(self) -> int:
        return int(self.b_column.size)

    def pairs(self, selector: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (a, b) of the pairs chosen by a slice or index array."""
        positions = np.arange(*selector.indices(len(self))) if isinstance(selector, slice) else np.asarray(selector)
        return np.searchsorted(self.starts, positions, side="right") - 1, self.b_column[positions].astype(np.int64)

    @property
    def ids(self) -> np.ndarray:
        """Return every pair as the number ``a * customers + b``, sorted."""
        a, b = self.pairs(slice(None))
        return np.asarray(a * np.int64(max(self.customers, 1)) + b)

    @property
    def a(self) -> np.ndarray:
        return self.pairs(slice(None))[0]

    @property
    def b(self) -> np.ndarray:
        return self.pairs(slice(None))[1]

    def covers(self, first: Sequence[int], second: Sequence[int]) -> np.ndarray:
        """Return, for each pair (first[i], second[i]), whether blocking compares it."""
        low = np.minimum(np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64))
        high = np.maximum(np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64))
        return np.asarray(np.isin(low * np.int64(max(self.customers, 1)) + high, self.ids))


# Values moved at a time while merging (see ``_merge``).
_MOVE_CHUNK = 1 << 20


def _merge(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Return the distinct values of two sorted arrays of distinct values, sorted, in ``first``'s memory.

    ``first`` (tens of millions of values) is grown in place and its values moved up to make room for
    the second's new ones, rather than copied into a new array: at a million customers a second copy
    of the blocked pairs is what the search's memory would peak at. ``first`` must be an array of its
    own, not a view.
    """
    if first.size == 0:
        return second if second.flags.owndata else second.copy()
    where = np.searchsorted(first, second)
    new = where == first.size
    new[~new] = first[where[~new]] != second[~new]
    added, below = second[new], where[new]
    del where, new
    if added.size == 0:
        return first
    old = first.size
    first.resize(old + added.size, refcheck=False)
    # Each old value moves up by the number of added values that go below it, counted a chunk at a
    # time. Moved a chunk at a time from the top, none lands on a value that has not moved yet.
    for end in range(old, 0, -_MOVE_CHUNK):
        start = max(end - _MOVE_CHUNK, 0)
        low, high = np.searchsorted(below, (start, end))
        shift = np.bincount(below[low:high] - start, minlength=end - start).cumsum() + low
        chunk = first[start:end].copy()
        first[np.arange(start, end) + shift] = chunk
    first[below + np.arange(added.size)] = added
    return first


# A pair is in the training sample when its id, hashed, falls below the sample's share of 2**64.
_HASH = np.uint64(0x9E3779B97F4A7C15)


def _in_sample(ids: np.ndarray, share: float) -> np.ndarray:
    if share >= 1.0:
        return np.ones(ids.size, dtype=bool)
    return (ids.astype(np.uint64) * _HASH) < np.uint64(int(share * 2.0**64))


def block(
    table: KeyTable, *, rules: Sequence[BlockingRule] = RULES, window: int = DEFAULT_WINDOW,
    training_pairs: int | None = None,
) -> BlockedPairs:
    """Return every pair some rule puts together, once, with the rules that found it.

    In a large file the model is fitted on a random sample of about ``training_pairs`` of the
    pairs (``TRAINING_PAIRS`` by default): ``training`` gives their positions and ``by_rule`` only
    theirs, so the rules' own lists of tens of millions of pairs are never all held at once.
    """
    if window < 2:
        raise ValueError("window must be at least 2")
    limit = TRAINING_PAIRS if training_pairs is None else training_pairs
    union = np.zeros(0, dtype=np.int64)
    share = 1.0
    sampled: dict[str, np.ndarray] = {}
    digests = np.zeros((len(table), len(rules)), dtype=np.uint64)

    groups = CustomerGroups(table)
    for r, rule in enumerate(rules):
        keys = rule_codes(table, rule, groups=groups)
        digests[:, r] = keys.digests(len(table))
        ids = rule_pair_ids(table, rule, window=window, keys=keys, groups=groups)
        del keys
        sampled[rule.name] = ids[_in_sample(ids, share)]
        union = _merge(union, ids)
        del ids
        # Halve the share until the rules' sampled pairs fit the training budget (a pair found by
        # several rules counts once a rule: the sample itself is a little smaller).
        while sum(found.size for found in sampled.values()) > 2 * limit:
            share /= 2
            sampled = {name: found[_in_sample(found, share)] for name, found in sampled.items()}
    del groups
    training_ids = _distinct(np.concatenate(list(sampled.values()))) if share < 1.0 else union
    training = None if share >= 1.0 else np.searchsorted(union, training_ids).astype(np.int64)
    by_rule = {name: np.searchsorted(union, found).astype(np.int32) for name, found in sampled.items()}
    del sampled, training_ids
    return BlockedPairs.of(union, len(table), digests=digests, by_rule=by_rule, training=training)


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


# --- comparing a few new customers against a stored file ---------------------------------------

def _digests(keys: Sequence[str]) -> np.ndarray:
    """Return each key's 64-bit digest (stable from one run to the next, unlike ``hash``)."""
    joined = b"".join(hashlib.blake2b(key.encode(), digest_size=8).digest() for key in keys)
    return np.frombuffer(joined, dtype=np.uint64)


def block_digests(table: KeyTable, *, rules: Sequence[BlockingRule] = RULES) -> np.ndarray:
    """Return each customer's blocking keys as 64-bit digests, a (customers, rules) array (0: no key).

    Stored with a search, they tell which stored customers share a key with a new one without
    computing every customer's keys again; ``block`` makes the same as it goes.
    """
    digests = np.zeros((len(table), len(rules)), dtype=np.uint64)
    groups = CustomerGroups(table)
    for r, rule in enumerate(rules):
        digests[:, r] = rule_codes(table, rule, groups=groups).digests(len(table))
    return digests


def digest_array(digests: Sequence[bytes], *, rules: Sequence[BlockingRule] = RULES) -> np.ndarray:
    """Return stored digests (a customer's row of ``block_digests`` as bytes) as a (customers, rules) array."""
    return np.frombuffer(b"".join(digests), dtype=np.uint64).reshape(len(digests), len(rules))


def _ranks(values: list[str]) -> np.ndarray:
    """Return each value's rank among the distinct values (sorting the distinct strings once)."""
    rank = {value: i for i, value in enumerate(sorted(set(values)))}
    return np.fromiter((rank[value] for value in values), dtype=np.int64, count=len(values))


def _distinct(values: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Return the distinct values, sorted (a sort and a comparison: ``np.unique`` is many times slower
    on millions of integers); ``in_place``: sorting ``values`` itself rather than a copy."""
    if in_place:
        values.sort()
    ordered = values if in_place else np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if ordered.size else ordered


def _group_sizes(keys: np.ndarray) -> np.ndarray:
    """Return, for each key, how many keys equal it."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    lengths = np.diff(np.append(starts, ordered.size))
    sizes = np.empty(keys.size, dtype=np.int64)
    sizes[order] = np.repeat(lengths, lengths)
    return sizes


def pairs_with_stored(
    stored: KeyTable,
    stored_blocks: np.ndarray,
    stored_order: np.ndarray,
    new: KeyTable,
    new_blocks: np.ndarray,
    new_order: np.ndarray,
    *,
    rules: Sequence[BlockingRule] = RULES,
    window: int = DEFAULT_WINDOW,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the pairs (a < b, each once) some rule puts together that hold a new customer, as
    indices into the stored customers followed by the new ones (new customer i is ``len(stored) + i``).

    The pairs ``pairs_touching`` finds on the whole file, stored and new customers together in
    ``*_order`` (e.g. customer ids): under each rule, a new customer meets every customer of its
    key group when the group is no larger than ``window``, else its ``window - 1`` neighbours on
    each side in the rule's order. Only the groups of the new customers' keys are read, told by
    the stored digests (``block_digests``; 64 bits, so two keys sharing one are unlikely enough in
    a file of millions), and the rule's order is computed for the members of large groups only.
    """
    if window < 2:
        raise ValueError("window must be at least 2")
    offset = len(stored)
    width = np.int64(offset + len(new))
    found: list[np.ndarray] = []
    for r, rule in enumerate(rules):
        new_keys = new_blocks[:, r]
        new_rows = np.flatnonzero(new_keys)
        if new_rows.size == 0:
            continue
        wanted = _distinct(new_keys[new_rows])
        column = stored_blocks[:, r]
        members = np.flatnonzero(wanted[np.minimum(np.searchsorted(wanted, column), wanted.size - 1)] == column)
        keys = np.concatenate((column[members], new_keys[new_rows]))
        who = np.concatenate((members, offset + new_rows))
        tie = np.concatenate((stored_order[members], new_order[new_rows]))
        large = np.flatnonzero(_group_sizes(keys) > window)
        orders = np.zeros(keys.size, dtype=np.int64)
        if large.size:
            orders[large] = _ranks([
                rule.order(stored, w) if w < offset else rule.order(new, w - offset) for w in who[large].tolist()
            ])
        # Each group in a run, in the rule's order; a group no larger than the window is within
        # reach of each of its members.
        ranked = np.lexsort((tie, orders, keys))
        keys, who = keys[ranked], who[ranked]
        at = np.flatnonzero(who >= offset)
        for distance in range(1, window):
            for step in (distance, -distance):
                there = at + step
                inside = (there >= 0) & (there < who.size)
                here, there = at[inside], there[inside]
                same = keys[there] == keys[here]
                x, y = who[here[same]], who[there[same]]
                found.append(np.minimum(x, y) * width + np.maximum(x, y))
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    union = _distinct(np.concatenate(found))
    return union // width, union % width
