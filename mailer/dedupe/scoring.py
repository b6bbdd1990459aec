"""Comparing pairs of customers field by field, at a few agreement levels each.

Each field of a pair is put on one level (``FIELDS`` lists them, the first level of each is
"missing": one side has no value, which says nothing either way):

- given name: exact, nickname of the other (Bill / William), typo (Jaro-Winkler >= 0.92 or one
  Damerau-Levenshtein edit), initial (J / John), similar (Jaro-Winkler >= 0.80), different;
- surname: exact, typo, similar, different; a pair whose given and family names read better
  swapped ("Wang Lei" / "Lei Wang") is compared swapped;
- street (name, estate, building): exact, typo (Indel similarity >= 0.90), similar (>= 0.75),
  different;
- numbers (house number, unit, floor): exact, one side lacking some of the other's (partial), a
  slip in the house number alone or a digit read as a look-alike letter in any number (typo:
  "770" / "77D"), different; the same house number with conflicting flats is flagged (another
  flat is another household);
- locality: exact, similar (Jaro-Winkler >= 0.88), different;
- postal code: exact, one edit apart, different.

Chinese names and addresses are compared in pinyin (``mailer.dedupe.keys``), so "王磊" agrees
exactly with "Wang Lei". Similarities are computed once per distinct pair of values, so common
values (postcodes, given names) cost one comparison however many pairs share them.

Pure: key columns in, level arrays out; nothing here touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, Indel, JaroWinkler

from mailer.dedupe.keys import KeyTable
from mailer.dedupe.nicknames import FULL_GIVEN_NAME
from mailer.dedupe.workers import fork_map

# The default threshold: the match probability a pair needs to be shown to a reviewer.
DEFAULT_THRESHOLD = 0.9

MISSING = 0
# Pairs compared (or scored) at a time.
COMPARE_CHUNK = 500_000
_NUMBER = re.compile(r"\d+")
# Names shorter than this differ by one edit only as other names, not as a slip of the same one.
MIN_SLIP_LENGTH = 5


@dataclass(frozen=True, slots=True)
class Field:
    """One compared field: its levels (index = level code, 0 = missing) and which part it scores."""

    name: str
    levels: tuple[str, ...]
    part: str  # "name" or "address"
    # Whether agreeing exactly weighs by how rare the value is (term-frequency adjustment).
    term_frequency: bool

    def level(self, label: str) -> int:
        """Return the code of a level."""
        return self.levels.index(label)


GIVEN = Field("given", ("missing", "different", "similar", "initial", "typo", "nickname", "exact"), "name", True)
SURNAME = Field("surname", ("missing", "different", "similar", "typo", "exact"), "name", True)
STREET = Field("street", ("missing", "different", "similar", "typo", "exact"), "address", True)
NUMBERS = Field("numbers", ("missing", "different", "typo", "partial", "exact"), "address", True)
LOCALITY = Field("locality", ("missing", "different", "similar", "exact"), "address", False)
POSTAL = Field("postal", ("missing", "different", "typo", "exact"), "address", False)
FIELDS: tuple[Field, ...] = (GIVEN, SURNAME, STREET, NUMBERS, LOCALITY, POSTAL)
FIELD_INDEX = {field.name: index for index, field in enumerate(FIELDS)}


def _own_copy(value: str) -> str:
    """Return a new string equal to ``value``.

    A vocabulary's values are read, and so written to (their reference counts), by every forked
    worker that compares pairs. Copies of their own lie together, so a worker copies the pages of a
    vocabulary rather than those of the whole key table its values were first seen in.
    """
    return "".join((value, ""))


class Vocabulary:
    """Distinct values of a column as integer ids, so equality and counts are array operations."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._ids: dict[str, int] = {}
        self._lengths = np.zeros(0, dtype=np.int64)

    def ids(self, column: Sequence[str]) -> np.ndarray:
        """Return the id of each value, adding new values."""
        ids = self._ids
        values = self.values
        out = np.empty(len(column), dtype=np.int64)
        for index, value in enumerate(column):
            found = ids.get(value)
            if found is None:
                value = _own_copy(value)
                found = ids[value] = len(values)
                values.append(value)
            out[index] = found
        return out

    def id_of(self, value: str) -> int:
        """Return the id of one value (adding it)."""
        return int(self.ids([value])[0])

    def lengths(self) -> np.ndarray:
        """Return each value's length, by id (counted once a value, not once a chunk of pairs)."""
        known = self._lengths.size
        if known < len(self.values):
            added = np.fromiter((len(value) for value in self.values[known:]), dtype=np.int64)
            self._lengths = np.concatenate((self._lengths, added))
        return self._lengths


@dataclass(slots=True)
class ComparisonColumns:
    """The compared fields of every customer as ids into per-field vocabularies."""

    names: Vocabulary  # given names and surnames share one, so swapped names compare
    resolved_given: np.ndarray  # the given name with nicknames resolved (bill -> william)
    given: np.ndarray
    surname: np.ndarray
    # The two words before the surname joined, both ways round ("Ja Ck Matthews" -> "jack", "ckja"),
    # for a given name split by a stray space; the empty name where there are not two such words.
    joined_given: tuple[np.ndarray, np.ndarray]
    streets: Vocabulary
    street: np.ndarray
    numbers_vocabulary: Vocabulary
    numbers: np.ndarray
    numbers_sketch: _NumbersSketch
    localities: Vocabulary
    locality: np.ndarray
    postals: Vocabulary
    postal: np.ndarray
    empty_name: int
    empty_street: int
    empty_numbers: int
    empty_locality: int
    empty_postal: int
    # Worked out on first use, for the vocabulary as it then stands.
    name_facts: _NameFacts | None = None

    @classmethod
    def of(cls, table: KeyTable) -> ComparisonColumns:
        """Return the columns of a key table."""
        names, streets, numbers, localities, postals = (Vocabulary() for _ in range(5))
        given = names.ids(table.givens)
        number_ids = numbers.ids(table.numbers)
        empty_numbers = numbers.id_of("")
        return cls(
            names=names,
            resolved_given=names.ids([FULL_GIVEN_NAME.get(word, word) for word in table.givens]),
            given=given,
            surname=names.ids(table.surnames),
            joined_given=_joined_given(names, table),
            streets=streets,
            street=streets.ids(table.streets),
            numbers_vocabulary=numbers,
            numbers=number_ids,
            numbers_sketch=_NumbersSketch.of(numbers.values),
            localities=localities,
            locality=localities.ids(table.localities),
            postals=postals,
            postal=postals.ids([f"{country}|{postal}" if postal else "" for country, postal in
                                zip(table.countries, table.postals, strict=True)]),
            empty_name=names.id_of(""),
            empty_street=streets.id_of(""),
            empty_numbers=empty_numbers,
            empty_locality=localities.id_of(""),
            empty_postal=postals.id_of(""),
        )

    def __len__(self) -> int:
        return int(self.given.size)

    def value_ids(self, field: Field) -> np.ndarray:
        """Return the per-customer ids of a term-frequency field's values."""
        return {"given": self.given, "surname": self.surname, "street": self.street, "numbers": self.numbers}[
            field.name
        ]


def _joined_given(names: Vocabulary, table: KeyTable) -> tuple[np.ndarray, np.ndarray]:
    forward, backward = [], []
    for written, surname in zip(table.written_names, table.surnames, strict=True):
        words = written.split()
        if len(words) == 3 and surname in words:
            words.remove(surname)
            forward.append(words[0] + words[1])
            backward.append(words[1] + words[0])
        else:
            forward.append("")
            backward.append("")
    return names.ids(forward), names.ids(backward)


def _pairwise(
    values: list[str], first: np.ndarray, second: np.ndarray, scorer: Callable[..., Any], **options: Any
) -> np.ndarray:
    """Return ``scorer`` of the values with ids (first[i], second[i]), each distinct pair computed once."""
    return _pairwise_scores(values, first, second, (scorer,), **options)[0]


def _pairwise_scores(
    values: list[str], first: np.ndarray, second: np.ndarray, scorers: tuple[Callable[..., Any], ...],
    **options: Any,
) -> list[np.ndarray]:
    """Return each scorer's scores of the pairs of values, the distinct pairs found once for all."""
    if first.size == 0:
        return [np.zeros(0) for _ in scorers]
    width = np.int64(len(values))
    combined, inverse = np.unique(first * width + second, return_inverse=True)
    left = [values[i] for i in (combined // width).tolist()]
    right = [values[i] for i in (combined % width).tolist()]
    inverse = inverse.reshape(-1)
    return [
        np.asarray(process.cpdist(left, right, scorer=scorer, workers=-1, dtype=np.float64, **options))[inverse]
        for scorer in scorers
    ]


@dataclass(frozen=True, slots=True)
class _NameFacts:
    """Per value of the names vocabulary: its nickname resolved (an id), first letter and length."""

    resolved: np.ndarray
    first_letter: np.ndarray
    length: np.ndarray


def _name_facts(columns: ComparisonColumns) -> _NameFacts:
    names = columns.names
    cached = columns.name_facts
    if cached is not None and cached.length.size == len(names.values):
        return cached
    while True:
        size = len(names.values)
        resolved = names.ids([FULL_GIVEN_NAME.get(value, value) for value in names.values[:size]])
        if len(names.values) == size:
            break
    letters: dict[str, int] = {}
    facts = _NameFacts(
        resolved=resolved,
        first_letter=np.array([letters.setdefault(value[:1], len(letters)) for value in names.values], dtype=np.int64),
        length=names.lengths(),
    )
    columns.name_facts = facts
    return facts


def _grade(
    result: np.ndarray, todo: np.ndarray, tests: list[tuple[np.ndarray, int]], otherwise: int
) -> None:
    """Write into ``result[todo]`` the level of the first test that holds, else ``otherwise``."""
    levels = np.full(int(todo.sum()), otherwise, dtype=np.int8)
    decided = np.zeros(levels.size, dtype=bool)
    for holds, level in tests:
        take = holds & ~decided
        levels[take] = level
        decided |= take
    result[todo] = levels


def _typo_or_close(
    vocabulary: Vocabulary, first: np.ndarray, second: np.ndarray, *, typo: float, similar: float,
    scorer: Callable[..., Any],
) -> tuple[np.ndarray, np.ndarray]:
    values = vocabulary.values
    similarity, edits = _pairwise_scores(values, first, second, (scorer, DamerauLevenshtein.distance))
    # One edit in a short name makes another name ("Ting" / "Qing", "Li" / "Lin"), not a slip.
    shortest = _pairwise_lengths(vocabulary, first, second)
    found = (similarity >= typo) | ((edits <= 1) & (shortest >= MIN_SLIP_LENGTH))
    # Two neighbouring letters swapped ("Amy" / "Aym") is a slip at any length.
    maybe = np.flatnonzero(~found & (edits == 1) & (shortest >= 3))
    found[maybe] = [sorted(values[x]) == sorted(values[y]) for x, y in zip(first[maybe].tolist(),
                                                                            second[maybe].tolist(), strict=True)]
    return found, similarity >= similar


def _pairwise_lengths(vocabulary: Vocabulary, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    lengths = vocabulary.lengths()
    return np.asarray(np.minimum(lengths[first], lengths[second]))


@dataclass(frozen=True, slots=True)
class Comparison:
    """The level of every field for pairs (a[i], b[i]); ``swapped`` marks names compared swapped."""

    levels: np.ndarray  # (pairs, fields) int8
    swapped: np.ndarray  # bool per pair
    # The same house number with conflicting flats, floors or street sides: another household.
    other_flat: np.ndarray

    def take(self, selector: slice | np.ndarray) -> Comparison:
        """Return the comparison of the pairs chosen by a slice, mask or index array."""
        return Comparison(self.levels[selector], self.swapped[selector], self.other_flat[selector])


def _swap_names(columns: ComparisonColumns, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return b's given and surname ids, swapped where the names agree better that way round."""
    given_a, surname_a, given_b, surname_b = columns.given[a], columns.surname[a], columns.given[b], columns.surname[b]
    empty = columns.empty_name
    candidate = (given_a != empty) & (given_b != empty) & ((given_a != given_b) | (surname_a != surname_b))
    candidate &= (given_a == surname_b) | (surname_a == given_b) | (given_a != given_b) & (surname_a != surname_b)
    swapped = np.zeros(a.size, dtype=bool)
    if candidate.any():
        index = np.flatnonzero(candidate)
        values = columns.names.values
        ga, sa, gb, sb = given_a[index], surname_a[index], given_b[index], surname_b[index]
        straight = _pairwise(values, ga, gb, JaroWinkler.similarity) + _pairwise(values, sa, sb, JaroWinkler.similarity)
        given_to_surname = _pairwise(values, ga, sb, JaroWinkler.similarity)
        surname_to_given = _pairwise(values, sa, gb, JaroWinkler.similarity)
        crossed = given_to_surname + surname_to_given
        both_cross = np.minimum(given_to_surname, surname_to_given)
        # Both words must cross over, with a clear margin: "Lee Thomas" / "Thomas Lee" swaps,
        # "Ann Lee" / "Ann Li" and "Jia Rongying" / "Liu Jia" do not.
        swapped[index] = (crossed > straight + 0.3) & (both_cross >= 0.85)
    return np.where(swapped, surname_b, given_b), np.where(swapped, given_b, surname_b), swapped


# A digit and a letter of like shape: one read for the other is a slip of the hand or the scanner.
_LOOK_ALIKE = frozenset(
    frozenset(pair) for pair in ("0o", "0d", "0q", "1l", "1i", "2z", "5s", "6b", "6g", "8b", "9g", "9q")
)


def _misread(first: str, second: str) -> bool:
    """Return whether two numbers differ only by one character read as its look-alike ("770" / "77D")."""
    if len(first) != len(second):
        return False
    differ = [frozenset((x, y)) for x, y in zip(first, second, strict=True) if x != y]
    return len(differ) == 1 and differ[0] in _LOOK_ALIKE


def _numbers_relation(first: str, second: str) -> tuple[bool, bool, bool]:
    """Return whether one side's numbers are among the other's, whether they are one slip apart,
    and whether they are another flat of one house (same house number, conflicting units)."""
    x, y = set(first.split()), set(second.split())
    # The same numbers read as other kinds ("Flr 3" / "Fl R3") still say the same thing; street
    # sides ("N" / "S", no digits) must agree.
    if x <= y or y <= x or (
        sorted(_NUMBER.findall(first)) == sorted(_NUMBER.findall(second))
        and {t for t in x if not _NUMBER.search(t)} == {t for t in y if not _NUMBER.search(t)}
    ):
        return True, False, False
    # A slip in a house number alone: one edit in three or more digits, or two digits swapped.
    # (Flats one digit apart are neighbours as often as slips: 2401 and 2403 are next door.)
    if len(x) == len(y) == 1:
        slip = (
            (min(len(first), len(second)) >= 4 and DamerauLevenshtein.distance(first, second) <= 1)
            or sorted(first) == sorted(second)
            or _misread(first, second)
        )
    else:
        only_x, only_y = x - y, y - x
        slip = len(only_x) == len(only_y) == 1 and _misread(min(only_x), min(only_y))
    if slip:
        return False, True, False
    houses_x = {t for t in x if t.startswith("h")}
    return False, False, bool(houses_x) and houses_x == {t for t in y if t.startswith("h")}


@dataclass(frozen=True, slots=True)
class _NumbersSketch:
    """Per value of the numbers vocabulary, what decides cheaply that two values are simply different."""

    house: np.ndarray  # id of the house number token, -1 without one
    tokens: np.ndarray  # how many tokens
    digits: np.ndarray  # id of the sorted digit runs
    letters: np.ndarray  # id of the sorted characters (anagrams share one)

    @classmethod
    def of(cls, values: list[str]) -> _NumbersSketch:
        houses: dict[str, int] = {}
        digit_ids: dict[tuple[str, ...], int] = {}
        letter_ids: dict[str, int] = {}
        house, tokens, digits, letters = [], [], [], []
        for value in values:
            parts = value.split()
            found = next((t for t in parts if t.startswith("h")), None)
            house.append(-1 if found is None else houses.setdefault(found, len(houses)))
            tokens.append(len(parts))
            digits.append(digit_ids.setdefault(tuple(sorted(_NUMBER.findall(value))), len(digit_ids)))
            letters.append(letter_ids.setdefault("".join(sorted(value)), len(letter_ids)))
        return cls(*(np.array(column, dtype=np.int64) for column in (house, tokens, digits, letters)))


def _numbers_relations(
    vocabulary: Vocabulary, sketch: _NumbersSketch, first: np.ndarray, second: np.ndarray
) -> np.ndarray:
    """Return (partial, slip, other flat) per pair, as a (pairs, 3) boolean array."""
    values = vocabulary.values
    relations = np.zeros((first.size, 3), dtype=bool)
    # Only pairs that share their house number (or lack one), read their digits alike, or are a
    # single number each can be more than different; the rest, most of them, are not looked at.
    house_a, house_b = sketch.house[first], sketch.house[second]
    single = (sketch.tokens[first] == 1) & (sketch.tokens[second] == 1) & (house_a != house_b)
    open_ = (
        (house_a == house_b) | (house_a < 0) | (house_b < 0) | (sketch.digits[first] == sketch.digits[second])
    ) & ~single
    # Two different single numbers are a slip or nothing: most are told apart by their edit distance.
    lone = np.flatnonzero(single)
    if lone.size:
        x, y = first[lone], second[lone]
        edits = _pairwise(values, x, y, DamerauLevenshtein.distance)
        lengths = vocabulary.lengths()
        slips = ((edits <= 1) & (np.minimum(lengths[x], lengths[y]) >= 4)) | (sketch.letters[x] == sketch.letters[y])
        shorter = np.flatnonzero((edits == 1) & ~slips)
        slips[shorter] = [
            _misread(values[p], values[q]) for p, q in zip(x[shorter].tolist(), y[shorter].tolist(), strict=True)
        ]
        relations[lone, 1] = slips
    # A house number alone, and the same house number with more: one side lacks some of the other's.
    alone = open_ & (house_a == house_b) & (house_a >= 0) & ((sketch.tokens[first] == 1) | (sketch.tokens[second] == 1))
    relations[alone, 0] = True
    todo = np.flatnonzero(open_ & ~alone)
    if todo.size == 0:
        return relations
    width = np.int64(len(values))
    combined, inverse = np.unique(first[todo] * width + second[todo], return_inverse=True)
    found = np.array(
        [
            _numbers_relation(values[x], values[y])
            for x, y in zip((combined // width).tolist(), (combined % width).tolist(), strict=True)
        ],
        dtype=bool,
    ).reshape(-1, 3)
    relations[todo] = found[inverse.reshape(-1)]
    return relations


def _split_given(
    columns: ComparisonColumns, a: np.ndarray, b: np.ndarray, given_a: np.ndarray, given_b: np.ndarray,
    swapped: np.ndarray,
) -> np.ndarray:
    """Return whether one side's given name, split by a stray space, is the other's ("Mol Ly" / "Molly")."""
    found = np.zeros(a.size, dtype=bool)
    values = columns.names.values
    empty = columns.empty_name
    for joined in columns.joined_given:
        for side, other in ((joined[a], given_b), (np.where(swapped, empty, joined[b]), given_a)):
            todo = np.flatnonzero((side != empty) & ~found)
            if todo.size == 0:
                continue
            x, y = side[todo], other[todo]
            edits = _pairwise(values, x, y, DamerauLevenshtein.distance)
            found[todo] = (x == y) | ((edits <= 1) & (_pairwise_lengths(columns.names, x, y) >= MIN_SLIP_LENGTH))
    return found


def compare_pairs(columns: ComparisonColumns, a: np.ndarray, b: np.ndarray) -> Comparison:
    """Return the level of every field for each pair of customers (a[i], b[i]).

    Compared in chunks: the strings and scores of a chunk are dropped before the next one, so a
    search of millions of pairs keeps only their levels; the chunks are shared out among forked
    worker processes.
    """
    if a.size <= COMPARE_CHUNK:
        return _compare_chunk(columns, a, b)
    parts = fork_map(
        lambda start: _compare_chunk(columns, a[start : start + COMPARE_CHUNK], b[start : start + COMPARE_CHUNK]),
        range(0, int(a.size), COMPARE_CHUNK),
    )
    return Comparison(
        levels=np.concatenate([part.levels for part in parts]),
        swapped=np.concatenate([part.swapped for part in parts]),
        other_flat=np.concatenate([part.other_flat for part in parts]),
    )


def _compare_chunk(columns: ComparisonColumns, a: np.ndarray, b: np.ndarray) -> Comparison:
    # A field at a time, each in a function of its own, so one field's temporaries (a few arrays the
    # size of the chunk) are dropped before the next field's are made.
    levels = np.zeros((a.size, len(FIELDS)), dtype=np.int8)
    given_b, surname_b, swapped = _swap_names(columns, a, b)
    levels[:, 0] = _given_levels(columns, a, b, given_b, swapped)
    del given_b
    levels[:, 1] = _surname_levels(columns, a, surname_b)
    del surname_b
    levels[:, 2] = _street_levels(columns, a, b)
    levels[:, 3], other_flat = _numbers_levels(columns, a, b)
    levels[:, 4] = _locality_levels(columns, a, b)
    levels[:, 5] = _postal_levels(columns, a, b)
    return Comparison(levels=levels, swapped=swapped, other_flat=other_flat)


def _given_levels(
    columns: ComparisonColumns, a: np.ndarray, b: np.ndarray, given_b: np.ndarray, swapped: np.ndarray
) -> np.ndarray:
    levels = np.zeros(a.size, dtype=np.int8)
    given_a = columns.given[a]
    empty = columns.empty_name
    todo = (given_a != empty) & (given_b != empty)
    ga, gb = given_a[todo], given_b[todo]
    del given_a
    facts = _name_facts(columns)
    resolved_a = columns.resolved_given[a][todo]
    # b's given name as compared (after a swap), with its nickname resolved.
    resolved_b_ids = facts.resolved[gb]
    typo, similar = _typo_or_close(columns.names, ga, gb, typo=0.92, similar=0.80, scorer=JaroWinkler.similarity)
    initial = (facts.first_letter[ga] == facts.first_letter[gb]) & ((facts.length[ga] == 1) | (facts.length[gb] == 1))
    typo |= _split_given(columns, a[todo], b[todo], ga, gb, swapped[todo])
    _grade(levels, todo, [
        (ga == gb, GIVEN.level("exact")),
        (resolved_a == resolved_b_ids, GIVEN.level("nickname")),
        (typo, GIVEN.level("typo")),
        (initial, GIVEN.level("initial")),
        (similar, GIVEN.level("similar")),
    ], GIVEN.level("different"))
    return levels


def _surname_levels(columns: ComparisonColumns, a: np.ndarray, surname_b: np.ndarray) -> np.ndarray:
    levels = np.zeros(a.size, dtype=np.int8)
    surname_a = columns.surname[a]
    todo = (surname_a != columns.empty_name) & (surname_b != columns.empty_name)
    sa, sb = surname_a[todo], surname_b[todo]
    del surname_a
    typo, similar = _typo_or_close(columns.names, sa, sb, typo=0.92, similar=0.80, scorer=JaroWinkler.similarity)
    _grade(levels, todo, [
        (sa == sb, SURNAME.level("exact")), (typo, SURNAME.level("typo")), (similar, SURNAME.level("similar")),
    ], SURNAME.level("different"))
    return levels


def _street_levels(columns: ComparisonColumns, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    levels = np.zeros(a.size, dtype=np.int8)
    street_a, street_b = columns.street[a], columns.street[b]
    todo = (street_a != columns.empty_street) & (street_b != columns.empty_street)
    xa, xb = street_a[todo], street_b[todo]
    del street_a, street_b
    similarity = _pairwise(columns.streets.values, xa, xb, Indel.normalized_similarity)
    # One side may carry an estate or building name the other leaves out ("stephenstreet" /
    # "stephenstreetbidgeepark"): the shorter street, found in the longer, is at least similar.
    inside = _pairwise(columns.streets.values, xa, xb, fuzz.partial_ratio) / 100.0
    shortest = _pairwise_lengths(columns.streets, xa, xb)
    similarity = np.where((inside >= 0.90) & (shortest >= 8), np.maximum(similarity, 0.75), similarity)
    del inside, shortest
    _grade(levels, todo, [
        (xa == xb, STREET.level("exact")), (similarity >= 0.90, STREET.level("typo")),
        (similarity >= 0.75, STREET.level("similar")),
    ], STREET.level("different"))
    return levels


def _numbers_levels(columns: ComparisonColumns, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the numbers' levels and whether each pair is another flat of one house."""
    levels = np.zeros(a.size, dtype=np.int8)
    numbers_a, numbers_b = columns.numbers[a], columns.numbers[b]
    todo = (numbers_a != columns.empty_numbers) & (numbers_b != columns.empty_numbers)
    na, nb = numbers_a[todo], numbers_b[todo]
    del numbers_a, numbers_b
    relations = _numbers_relations(columns.numbers_vocabulary, columns.numbers_sketch, na, nb)
    _grade(levels, todo, [
        (na == nb, NUMBERS.level("exact")), (relations[:, 0], NUMBERS.level("partial")),
        (relations[:, 1], NUMBERS.level("typo")),
    ], NUMBERS.level("different"))
    other_flat = np.zeros(a.size, dtype=bool)
    other_flat[todo] = relations[:, 2]
    return levels, other_flat


def _locality_levels(columns: ComparisonColumns, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    levels = np.zeros(a.size, dtype=np.int8)
    locality_a, locality_b = columns.locality[a], columns.locality[b]
    todo = (locality_a != columns.empty_locality) & (locality_b != columns.empty_locality)
    la, lb = locality_a[todo], locality_b[todo]
    del locality_a, locality_b
    similarity = _pairwise(columns.localities.values, la, lb, JaroWinkler.similarity)
    _grade(levels, todo, [
        (la == lb, LOCALITY.level("exact")), (similarity >= 0.88, LOCALITY.level("similar")),
    ], LOCALITY.level("different"))
    return levels


def _postal_levels(columns: ComparisonColumns, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    levels = np.zeros(a.size, dtype=np.int8)
    postal_a, postal_b = columns.postal[a], columns.postal[b]
    todo = (postal_a != columns.empty_postal) & (postal_b != columns.empty_postal)
    pa, pb = postal_a[todo], postal_b[todo]
    del postal_a, postal_b
    edits = _pairwise(columns.postals.values, pa, pb, DamerauLevenshtein.distance)
    _grade(levels, todo, [
        (pa == pb, POSTAL.level("exact")), (edits <= 1, POSTAL.level("typo")),
    ], POSTAL.level("different"))
    return levels
