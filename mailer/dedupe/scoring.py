"""Scoring pairs of customers by name and address, each score 0-100.

- ``name_score``: the mean of the sorted-token ratio and the token-set ratio (the better of the
  name as written and with nicknames resolved), so a typo costs little and a different given
  name a lot; a name that is part of the other or agrees with it initial for word ("Smith",
  "J. Smith", "李先生" against "John Smith", "李伟") scores at least ``NAME_COMPATIBLE``;
- ``address_score``: the street ratio times a factor for the numbers: equal 1.0, one side
  lacking some of the other's 0.9, any conflict 0.5 -- a different flat in the same building
  is a different household, however alike the rest reads;
- ``score``: the geometric mean of the two, so a pair needs both a like name and a like address.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from mailer.dedupe.keys import KeyColumns, KeyTable, MatchKeys

DEFAULT_THRESHOLD = 88.0
# A name that is part of the other, or agrees with it once initials are read as the word they
# start ("J. Smith", "Smith", "李先生" against "John Smith" and "李伟"), scores at least this.
NAME_COMPATIBLE = 90.0
# Factors applied to the street similarity according to how the numbers of two addresses agree.
NUMBERS_EQUAL = 1.0
NUMBERS_SUBSET = 0.9
NUMBERS_CONFLICT = 0.5


@dataclass(frozen=True, slots=True)
class PairScore:
    """How alike two customers are, 0-100."""

    score: float
    name_score: float
    address_score: float


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
