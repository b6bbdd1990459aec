"""A Fellegi-Sunter match model learned from the customer file itself, without labels.

For each field and level, m = P(level | same person) and u = P(level | different people). A
pair's match weight is the sum over fields of log2(m / u) (a missing value weighs 0), and with
the prior odds that two random customers are one person it becomes a match probability.

- u is counted on random pairs of customers (almost all different people);
- m is estimated by expectation-maximisation over the blocked pairs of each blocking rule, with u
  fixed; a rule's own fields are left out of its estimate (pairs that share a postcode by
  construction say nothing about how often duplicates share one), and each field's m is the mean
  over the rules that estimate it;
- the prior is fitted last, by EM over every blocked pair with m and u fixed (pairs blocking
  never reaches are taken as non-matches);
- term frequencies: agreeing exactly on a value that fraction f of customers hold weighs
  log2(m / f) instead of log2(m / u), so "Zbigniew" counts for more than "John".

Address fields are not independent (a shared street and house number nearly always come with a
shared postcode and city), so summing their weights would count one fact four times: the address
part of a weight is capped at what agreeing on the whole address is worth, log2 of m over the share
of pairs of customers in the file at one address (``address_cap``).

Households: two customers with the same surname at the same address whose given names are
different (not a typo, nickname or initial of each other) are two people, and so are two
customers in different flats of one house (same house number, conflicting flat); their weight gets
``HOUSEHOLD_WEIGHT`` added, shown as its own step of the explanation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mailer.dedupe.scoring import (
    COMPARE_CHUNK,
    FIELD_INDEX,
    FIELDS,
    GIVEN,
    LOCALITY,
    MISSING,
    NUMBERS,
    POSTAL,
    STREET,
    SURNAME,
    Comparison,
    ComparisonColumns,
    Field,
    compare_pairs,
)

EM_ITERATIONS = 40
EM_TOLERANCE = 1e-5
RANDOM_PAIRS = 400_000
# u is counted on random pairs plus this many pseudo-pairs of ``_DEFAULT_U``, m on the EM's
# expected matches plus this many of ``_DEFAULT_M``, and the prior on all pairs plus this many at
# ``DUPLICATE_SHARE`` duplicates per customer: a file of a few customers has too few pairs to
# count on, a large one outweighs them.
U_PRIOR_PAIRS = 1_000.0
M_PRIOR_PAIRS = 10.0
PRIOR_PAIRS = 1_000.0
DUPLICATE_SHARE = 0.05
# Household pairs are pushed this far below even odds, whatever else agrees.
HOUSEHOLD_WEIGHT = -20.0
# The address cap applies in files where at least this many pairs of unrelated-looking people
# per customer share one address (flat shares, care homes); below it they are indistinguishable
# from duplicates whose names were badly mistyped.
SHARED_ADDRESS_SHARE = 0.01
# Term-frequency adjustments are bounded, so one value can neither make nor break a pair alone.
MAX_TF_ADJUSTMENT = 6.0


# What a small file leans on, by level (normalised over a field's levels): one person mostly
# agrees exactly, two people mostly disagree. A file of many customers outweighs them.
_DEFAULT_M = {"exact": 0.75, "nickname": 0.03, "typo": 0.08, "initial": 0.03, "partial": 0.06, "similar": 0.04,
              "different": 0.03}
_DEFAULT_U = {"exact": 0.01, "nickname": 0.001, "typo": 0.003, "initial": 0.002, "partial": 0.003,
              "similar": 0.02, "different": 0.96}


def _default(table: dict[str, float], field: Field) -> np.ndarray:
    values = np.array([0.0, *(table[level] for level in field.levels[1:])])
    return np.asarray(values / values.sum())


def _normalised(counts: np.ndarray, *, smoothing: float) -> np.ndarray:
    """Return frequencies over the non-missing levels (the missing one stays 0)."""
    counts = counts.astype(np.float64).copy()
    counts[MISSING] = 0.0
    counts[1:] += smoothing
    return np.asarray(counts / counts.sum())


@dataclass(slots=True)
class MatchModel:
    """The fitted parameters: m and u per field and level, the prior, and term frequencies."""

    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float
    # The most the address fields together may add: agreeing on a whole address.
    address_cap: float = np.inf
    # log2 of how much likelier two different people agree on both town and postcode than the two
    # fields' u alone say (0 where they are independent).
    place_overlap: float = 0.0
    # The same for one town and postcodes one digit apart (neighbouring delivery areas of a city).
    near_place_overlap: float = 0.0
    # Per term-frequency field: the share of customers holding each value id.
    frequencies: dict[str, np.ndarray] = field(default_factory=dict)
    # How the fit went: EM iterations and estimated match share per rule, pairs used.
    notes: dict[str, object] = field(default_factory=dict)

    def level_weights(self) -> list[np.ndarray]:
        """Return log2(m / u) per field and level; 0 for the missing level."""
        weights = []
        for m, u in zip(self.m, self.u, strict=True):
            weight = np.zeros(m.size)
            weight[1:] = np.log2(np.maximum(m[1:], 1e-12) / np.maximum(u[1:], 1e-12))
            weights.append(weight)
        return weights

    @property
    def prior_weight(self) -> float:
        """Return log2 of the prior odds that two random customers are one person."""
        return float(np.log2(self.prior / (1.0 - self.prior)))


@dataclass(frozen=True, slots=True)
class Scores:
    """Match weights of pairs: the prior, each field's weight, term-frequency and household steps."""

    field_weights: np.ndarray  # (pairs, fields) log2(m/u) of each field's level
    tf_adjustments: np.ndarray  # (pairs, fields) extra weight of agreeing on a rare or common value
    household: np.ndarray  # bool per pair: a household, or another flat of one house
    prior_weight: float
    address_cap: float

    @property
    def address_excess(self) -> np.ndarray:
        """Return how much the address fields' sum exceeds the cap (taken off), 0 when within it."""
        return np.maximum(self.part("address") - self.address_cap, 0.0)

    @property
    def total(self) -> np.ndarray:
        """Return each pair's match weight (log2 odds)."""
        weight = self.prior_weight + self.field_weights.sum(axis=1) + self.tf_adjustments.sum(axis=1)
        weight = weight - self.address_excess
        return np.asarray(np.where(self.household, weight + HOUSEHOLD_WEIGHT, weight))

    @property
    def probability(self) -> np.ndarray:
        """Return each pair's match probability."""
        return np.asarray(1.0 / (1.0 + np.exp2(-np.clip(self.total, -60, 60))))

    def part(self, part: str) -> np.ndarray:
        """Return the weight of the name or the address fields (with term frequencies)."""
        columns = [index for index, f in enumerate(FIELDS) if f.part == part]
        return np.asarray(self.field_weights[:, columns].sum(axis=1) + self.tf_adjustments[:, columns].sum(axis=1))


def is_household(comparison: Comparison) -> np.ndarray:
    """Return whether each pair is two people of one household (or of two flats), not one person twice.

    Same surname (or a typo of it), same street and no conflicting numbers, and given names that
    are neither equal, nicknames, typos nor initials of each other (merely similar names, "Amanda"
    and "Samantha", are two people); or the same house number with
    conflicting flat numbers (or street sides), whatever the names.
    """
    levels = comparison.levels
    given = levels[:, 0]
    same_house: np.ndarray = (
        np.isin(given, (GIVEN.level("different"), GIVEN.level("similar")))
        & np.isin(levels[:, 1], (SURNAME.level("exact"), SURNAME.level("typo")))
        & np.isin(levels[:, 2], (STREET.level("exact"), STREET.level("typo")))
        & np.isin(levels[:, 3], (NUMBERS.level("exact"), NUMBERS.level("partial"), MISSING))
    )
    return np.asarray(np.logical_or(comparison.other_flat, same_house), dtype=bool)


def score(model: MatchModel, columns: ComparisonColumns, a: np.ndarray, comparison: Comparison) -> Scores:
    """Return the match weights of compared pairs."""
    levels = comparison.levels
    weights = model.level_weights()
    field_weights = np.column_stack([weights[f][levels[:, f]] for f in range(len(FIELDS))]) if levels.size else (
        np.zeros((0, len(FIELDS)))
    )
    locality, postal = FIELD_INDEX["locality"], FIELD_INDEX["postal"]
    for postal_level, overlap in (("exact", model.place_overlap), ("typo", model.near_place_overlap)):
        if not (field_weights.size and overlap > 0):
            continue
        # Where a postcode names its town, agreeing on both is one fact: the town's weight loses
        # what the two share among different people (measured on random pairs).
        both = (levels[:, locality] == LOCALITY.level("exact")) & (levels[:, postal] == POSTAL.level(postal_level))
        field_weights[both, locality] -= np.minimum(overlap, field_weights[both, locality])
    adjustments = np.zeros(field_weights.shape)
    for f, compared in enumerate(FIELDS):
        if not compared.term_frequency:
            continue
        exact = levels[:, f] == compared.level("exact")
        if not exact.any():
            continue
        ids = columns.value_ids(compared)[a[exact]]
        share = model.frequencies[compared.name][ids]
        u_exact = model.u[f][compared.level("exact")]
        adjustments[exact, f] = np.clip(
            np.log2(u_exact / np.maximum(share, 1e-9)), -MAX_TF_ADJUSTMENT, MAX_TF_ADJUSTMENT
        )
    return Scores(field_weights, adjustments, is_household(comparison), model.prior_weight, model.address_cap)


def random_pairs(count: int, *, size: int, seed: int = 20261206) -> tuple[np.ndarray, np.ndarray]:
    """Return up to ``size`` distinct pairs of customers: all of them when there are few."""
    total = count * (count - 1) // 2
    if total <= size:
        a, b = np.triu_indices(count, k=1)
        return a.astype(np.int64), b.astype(np.int64)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, count, size=size, dtype=np.int64)
    b = rng.integers(0, count - 1, size=size, dtype=np.int64)
    b = np.where(b >= a, b + 1, b)
    return a, b


def _frequencies(columns: ComparisonColumns) -> dict[str, np.ndarray]:
    shares = {}
    for compared in FIELDS:
        if not compared.term_frequency:
            continue
        ids = columns.value_ids(compared)
        vocabulary, empty = {
            "given": (columns.names, columns.empty_name), "surname": (columns.names, columns.empty_name),
            "street": (columns.streets, columns.empty_street),
            "numbers": (columns.numbers_vocabulary, columns.empty_numbers),
        }[compared.name]
        counts = np.bincount(ids, minlength=len(vocabulary.values)).astype(np.float64)
        counts[empty] = 0.0
        shares[compared.name] = counts / max(counts.sum(), 1.0)
    return shares


def _patterns(levels: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct level patterns over the active fields, and how many pairs have each."""
    if levels.shape[0] == 0:
        return np.zeros((0, levels.shape[1]), dtype=np.int8), np.zeros(0)
    # One code per pair, built a column at a time (a whole int64 copy of the levels would be 8x them).
    codes = np.zeros(levels.shape[0], dtype=np.int64)
    for f in np.flatnonzero(active).tolist():
        codes += levels[:, f].astype(np.int64) << (3 * f)
    unique, first, counts = np.unique(codes, return_index=True, return_counts=True)
    del unique
    return np.where(active[None, :], levels[first], 0).astype(np.int8), counts.astype(np.float64)


def expectation_maximisation(
    levels: np.ndarray, active: np.ndarray, u: list[np.ndarray],
) -> tuple[list[np.ndarray], float, int]:
    """Estimate m of the active fields and the match share of these pairs, u fixed."""
    patterns, counts = _patterns(levels, active)
    m = [_default(_DEFAULT_M, field) for field in FIELDS]
    share = 0.05
    iterations = 0
    log_u = [np.log(np.maximum(values, 1e-12)) for values in u]
    for iteration in range(1, EM_ITERATIONS + 1):
        iterations = iteration
        log_ratio = np.zeros(patterns.shape[0])
        for f in np.flatnonzero(active).tolist():
            level = patterns[:, f]
            contribution = np.log(np.maximum(m[f], 1e-12))[level] - log_u[f][level]
            log_ratio += np.where(level == MISSING, 0.0, contribution)
        odds = np.log(share / (1 - share)) + log_ratio
        posterior = 1.0 / (1.0 + np.exp(-np.clip(odds, -500, 500)))
        weighted = posterior * counts
        new_share = float(np.clip(weighted.sum() / counts.sum(), 1e-6, 1 - 1e-6))
        change = abs(new_share - share)
        share = new_share
        for f in np.flatnonzero(active).tolist():
            level = patterns[:, f]
            totals = np.bincount(level, weights=weighted, minlength=len(FIELDS[f].levels))
            new_m = _normalised(totals + M_PRIOR_PAIRS * _default(_DEFAULT_M, FIELDS[f]), smoothing=0.0)
            change = max(change, float(np.abs(new_m - m[f]).max()))
            m[f] = new_m
        if change < EM_TOLERANCE:
            break
    return m, share, iterations


def _place_overlap(random_levels: np.ndarray, u: list[np.ndarray], postal_level: str = "exact") -> float:
    """Return log2(observed / expected) agreement on the town with the postcode at ``postal_level``
    among random pairs, at least 0."""
    locality, postal = FIELD_INDEX["locality"], FIELD_INDEX["postal"]
    # Only pairs whose given names, surnames and streets all differ: in a small file with many
    # duplicates, random pairs hold duplicates too, and they agree on most things.
    strangers = random_levels[
        (random_levels[:, FIELD_INDEX["given"]] == GIVEN.level("different"))
        & (random_levels[:, FIELD_INDEX["surname"]] == SURNAME.level("different"))
        & (random_levels[:, FIELD_INDEX["street"]] == STREET.level("different"))
    ]
    both = int(((strangers[:, locality] == LOCALITY.level("exact"))
                & (strangers[:, postal] == POSTAL.level(postal_level))).sum())
    expected = strangers.shape[0] * u[locality][LOCALITY.level("exact")] * u[postal][POSTAL.level(postal_level)]
    # One pseudo-pair each side: a few chance agreements in a small sample are no evidence.
    return max(float(np.log2((both + 1) / (expected + 1))), 0.0)


def _address_cap(columns: ComparisonColumns, levels: np.ndarray, m: list[np.ndarray], *, scale: float = 1.0) -> float:
    """Return log2(m / u) of agreeing on the whole address.

    u: the blocked pairs at one address whose given and family names both disagree (two unrelated
    people sharing an address: a household is told apart by its own rule), over
    all pairs of the file; m: the share at one address among blocked pairs whose names agree
    exactly (at least the product of the fields' m, which assumes independence).
    """
    count = len(columns)
    pairs = max(count * (count - 1) // 2, 1)
    if levels.shape[0] == 0:
        return float("inf")
    whole = np.ones(levels.shape[0], dtype=bool)
    for f, compared in enumerate(FIELDS):
        if compared.part == "address":
            whole &= np.isin(levels[:, f], (compared.level("exact"), MISSING))
    whole &= levels[:, FIELD_INDEX["street"]] == STREET.level("exact")
    loose = (GIVEN.level("different"), GIVEN.level("similar"))
    names_differ = np.isin(levels[:, 0], loose) & np.isin(
        levels[:, 1], (SURNAME.level("different"), SURNAME.level("similar"))
    )
    names_equal = (levels[:, 0] == GIVEN.level("exact")) & (levels[:, 1] == SURNAME.level("exact"))
    independent = float(np.prod([m[f][compared.level("exact")] for f, compared in enumerate(FIELDS)
                                 if compared.part == "address"]))
    m_whole = max(float(whole[names_equal].mean()) if names_equal.any() else 0.0, independent)
    # ``levels`` may be a sample of the blocked pairs: ``scale`` of them stand for each one.
    sharing = int((whole & names_differ).sum()) * scale
    if sharing < SHARED_ADDRESS_SHARE * count:
        # Too few to tell people who share an address from duplicates whose names were mangled.
        return float("inf")
    shared = sharing / pairs
    return float(np.log2(m_whole / shared))


@dataclass(frozen=True, slots=True)
class TrainingRule:
    """The pairs one blocking rule produced (indices into the compared pairs) and its fields."""

    name: str
    pairs: np.ndarray
    fields: tuple[str, ...]


def fit(
    columns: ComparisonColumns,
    *,
    blocked: Comparison,
    blocked_a: np.ndarray,
    rules: list[TrainingRule],
    random_size: int = RANDOM_PAIRS,
    blocked_total: int | None = None,
) -> MatchModel:
    """Fit m, u, the prior and term frequencies on one file of customers, without labels.

    ``blocked`` may be a random sample of the blocked pairs (``blocked_total`` of them in all): the
    counts it gives are scaled up to the whole.
    """
    scale = blocked_total / max(blocked.levels.shape[0], 1) if blocked_total else 1.0
    count = len(columns)
    ra, rb = random_pairs(count, size=random_size)
    random_levels = compare_pairs(columns, ra, rb).levels if ra.size else np.zeros((0, len(FIELDS)), np.int8)
    u = [
        _normalised(
            np.bincount(random_levels[:, f], minlength=len(compared.levels))
            + U_PRIOR_PAIRS * _default(_DEFAULT_U, compared),
            smoothing=0.0,
        )
        for f, compared in enumerate(FIELDS)
    ]

    place_overlap = _place_overlap(random_levels, u)
    near_place_overlap = _place_overlap(random_levels, u, "typo")
    estimates: list[list[np.ndarray]] = [[] for _ in FIELDS]
    notes: dict[str, object] = {"random_pairs": int(ra.size)}
    for rule in rules:
        active = np.array([compared.name not in rule.fields for compared in FIELDS])
        if rule.pairs.size == 0:
            continue
        m, share, iterations = expectation_maximisation(blocked.levels[rule.pairs], active, u)
        notes[f"rule:{rule.name}"] = {"pairs": int(rule.pairs.size), "match_share": round(share, 4),
                                      "iterations": iterations}
        for f in np.flatnonzero(active).tolist():
            estimates[f].append(m[f])
    m = [
        np.mean(found, axis=0) if found else _default(_DEFAULT_M, compared)
        for found, compared in zip(estimates, FIELDS, strict=True)
    ]

    model = MatchModel(
        m=m, u=u, prior=1e-6, address_cap=_address_cap(columns, blocked.levels, m, scale=scale),
        place_overlap=place_overlap, near_place_overlap=near_place_overlap, frequencies=_frequencies(columns),
        notes=notes,
    )
    notes["address_cap"] = round(model.address_cap, 2)
    notes["place_overlap"] = round(model.place_overlap, 2)
    notes["near_place_overlap"] = round(model.near_place_overlap, 2)
    total_pairs = max(count * (count - 1) // 2, 1)
    if blocked.levels.shape[0]:
        # Only the prior moves: the share of all pairs of the file that are one person.
        weight = np.concatenate([
            score(model, columns, blocked_a[start : start + COMPARE_CHUNK],
                  blocked.take(slice(start, start + COMPARE_CHUNK))).total.astype(np.float32)
            for start in range(0, blocked.levels.shape[0], COMPARE_CHUNK)
        ]) - np.float32(model.prior_weight)
        # A Beta prior of PRIOR_PAIRS pseudo-pairs at DUPLICATE_SHARE duplicates per customer.
        leaning = DUPLICATE_SHARE / max(count - 1, 1)
        prior = leaning
        for _ in range(EM_ITERATIONS):
            odds = np.log2(prior / (1 - prior)) + weight
            expected = float((1.0 / (1.0 + np.exp2(-np.clip(odds, -60, 60)))).sum()) * scale
            new_prior = min(max((expected + PRIOR_PAIRS * leaning) / (total_pairs + PRIOR_PAIRS), 1e-12), 0.5)
            if abs(np.log(new_prior / prior)) < 1e-4:
                prior = new_prior
                break
            prior = new_prior
        model.prior = prior
    notes["prior"] = model.prior
    return model


# --- stored with a run ------------------------------------------------------------------------


def _tf_vocabulary(columns: ComparisonColumns, name: str) -> list[str]:
    return {
        "given": columns.names, "surname": columns.names, "street": columns.streets,
        "numbers": columns.numbers_vocabulary,
    }[name].values


def model_as_data(model: MatchModel, columns: ComparisonColumns) -> dict[str, Any]:
    """Return the fitted parameters as plain data (JSON), term frequencies keyed by value.

    Values are keyed by text, not by id, because ids number the values of one file only.
    """
    frequencies = {}
    for name, shares in model.frequencies.items():
        values = _tf_vocabulary(columns, name)
        frequencies[name] = {values[i]: float(shares[i]) for i in np.flatnonzero(shares).tolist()}
    return {
        "m": [values.tolist() for values in model.m],
        "u": [values.tolist() for values in model.u],
        "prior": model.prior,
        "address_cap": None if np.isinf(model.address_cap) else model.address_cap,
        "place_overlap": model.place_overlap,
        "near_place_overlap": model.near_place_overlap,
        "customers": len(columns),
        "frequencies": frequencies,
    }


def model_from_data(data: dict[str, Any], columns: ComparisonColumns) -> MatchModel:
    """Return a stored model ready to score pairs of ``columns``.

    A value the fitted file did not hold counts as held by one customer of it (rare).
    """
    unseen = 1.0 / max(int(data["customers"]), 1)
    frequencies = {}
    for name, shares in data["frequencies"].items():
        values = _tf_vocabulary(columns, name)
        frequencies[name] = np.array([shares.get(value, unseen) if value else 0.0 for value in values])
    cap = data["address_cap"]
    return MatchModel(
        m=[np.asarray(values, dtype=np.float64) for values in data["m"]],
        u=[np.asarray(values, dtype=np.float64) for values in data["u"]],
        prior=float(data["prior"]),
        address_cap=float("inf") if cap is None else float(cap),
        place_overlap=float(data["place_overlap"]),
        # Stored before the near-place correction: none.
        near_place_overlap=float(data.get("near_place_overlap", 0.0)),
        frequencies=frequencies,
    )
