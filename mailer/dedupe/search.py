"""The duplicate search: block, compare, fit the match model on the file, score, group.

1. blocking (``mailer.dedupe.blocking``) picks the pairs worth comparing;
2. each pair is compared field by field (``mailer.dedupe.scoring``);
3. the model is fitted on these very customers without labels (``mailer.dedupe.model``);
4. pairs whose match probability reaches the threshold are kept and grouped: connected
   components, one group a person; every pair inside a group is listed, so a group of three is
   three pairs whoever linked them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mailer.dedupe.blocking import DEFAULT_WINDOW, RULES, BlockedPairs, block, pairs_touching
from mailer.dedupe.keys import KeyTable
from mailer.dedupe.model import HOUSEHOLD_WEIGHT, MatchModel, Scores, TrainingRule, fit, model_from_data, score
from mailer.dedupe.scoring import COMPARE_CHUNK, DEFAULT_THRESHOLD, Comparison, ComparisonColumns, compare_pairs
from mailer.dedupe.workers import fork_map, release_free_memory

# Called with (steps just done, total steps) as the search advances.
ProgressCallback = Callable[[int, int], None]
_STEPS = 5


@dataclass(frozen=True, slots=True)
class SearchStats:
    """What a search did: customers, pairs compared, pairs found, households kept apart, time taken."""

    customers: int
    pairs_compared: int
    pairs_found: int
    clusters: int
    households: int
    seconds: float

    @property
    def pairs_per_second(self) -> float:
        """Return the blocked pairs compared and scored per second."""
        return self.pairs_compared / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """Return the figures as plain data."""
        return {
            "customers": self.customers,
            "pairs_compared": self.pairs_compared,
            "pairs_found": self.pairs_found,
            "clusters": self.clusters,
            "households": self.households,
            "seconds": round(self.seconds, 3),
            "pairs_per_second": round(self.pairs_per_second),
        }


@dataclass(frozen=True, slots=True)
class ScoredPairs:
    """Pairs of customers (indices into a KeyTable, ``a < b``) with their scores and explanation."""

    a: np.ndarray
    b: np.ndarray
    probability: np.ndarray
    weight: np.ndarray  # log2 odds, the sum of the explanation's steps
    name_weight: np.ndarray
    address_weight: np.ndarray
    levels: np.ndarray  # (pairs, fields)
    field_weights: np.ndarray  # (pairs, fields)
    tf_adjustments: np.ndarray  # (pairs, fields)
    household: np.ndarray
    cluster: np.ndarray  # group number, 1 = the group with the best pair; 0 = in no group

    def __len__(self) -> int:
        return int(self.a.size)

    def take(self, selector: slice | np.ndarray) -> ScoredPairs:
        """Return the pairs chosen by a slice, boolean mask or index array."""
        return ScoredPairs(
            self.a[selector], self.b[selector], self.probability[selector], self.weight[selector],
            self.name_weight[selector],
            self.address_weight[selector], self.levels[selector], self.field_weights[selector],
            self.tf_adjustments[selector], self.household[selector], self.cluster[selector],
        )


@dataclass(slots=True)
class Matcher:
    """A fitted model with the file it was fitted on: scores any pair of that file."""

    table: KeyTable
    columns: ComparisonColumns
    model: MatchModel

    def score_pairs(self, a: np.ndarray, b: np.ndarray) -> ScoredPairs:
        """Score the pairs (a[i], b[i]) of customers in the table."""
        comparison = compare_pairs(self.columns, a, b)
        scores = score(self.model, self.columns, a, comparison)
        return _scored(a, b, comparison.levels, scores, np.zeros(a.size, dtype=np.int64))


def _scored(a: np.ndarray, b: np.ndarray, levels: np.ndarray, scores: Scores, cluster: np.ndarray) -> ScoredPairs:
    return ScoredPairs(
        a=a, b=b, probability=scores.probability, weight=scores.total, name_weight=scores.part("name"),
        address_weight=scores.part("address"), levels=levels, field_weights=scores.field_weights,
        tf_adjustments=scores.tf_adjustments, household=scores.household, cluster=cluster,
    )


def connected_components(a: np.ndarray, b: np.ndarray) -> dict[int, int]:
    """Return the component of every customer in some pair: the smallest customer index in it."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        rx, ry = root(x), root(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    return {x: root(x) for x in parent}


def _within(positions: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Return the indices into ``sample`` of those of ``positions`` (sorted) that it holds."""
    found = np.searchsorted(sample, positions)
    held = found < sample.size
    held[held] = sample[found[held]] == positions[held]
    return found[held]


def _fit(
    table: KeyTable, *, window: int, blocked: BlockedPairs | None = None
) -> tuple[Matcher, BlockedPairs, Comparison | None]:
    """Block, and fit the model on the blocked pairs (a random sample of them in a large file).

    Return the comparison of every blocked pair when it was made for the fit, else None.
    """
    # Blocking first: its peak (merging the rules' pairs) is then not on top of the columns'.
    blocked = blocked if blocked is not None else block(table, window=window)
    columns = ComparisonColumns.of(table)
    sample = blocked.training
    empty = np.zeros(0, np.int64)
    if sample is None:
        a, b = blocked.pairs(slice(None))
        rule_pairs = {rule.name: blocked.by_rule.get(rule.name, empty) for rule in RULES}
    else:
        a, b = blocked.pairs(sample)
        rule_pairs = {rule.name: _within(blocked.by_rule.get(rule.name, empty), sample) for rule in RULES}
    comparison = compare_pairs(columns, a, b)
    rules = [TrainingRule(rule.name, rule_pairs[rule.name], rule.fields) for rule in RULES]
    model = fit(columns, blocked=comparison, blocked_a=a, rules=rules, blocked_total=len(blocked))
    return Matcher(table=table, columns=columns, model=model), blocked, (comparison if sample is None else None)


def fit_matcher(
    table: KeyTable, *, window: int = DEFAULT_WINDOW, blocked: BlockedPairs | None = None
) -> tuple[Matcher, BlockedPairs, ScoredPairs]:
    """Block, compare and fit the model on a file; return it with every blocked pair scored."""
    matcher, blocked, comparison = _fit(table, window=window, blocked=blocked)
    a, b = blocked.pairs(slice(None))
    if comparison is None:
        comparison = compare_pairs(matcher.columns, a, b)
    scores = score(matcher.model, matcher.columns, a, comparison)
    return matcher, blocked, _scored(a, b, comparison.levels, scores, np.zeros(len(blocked), np.int64))


def _reaching(
    matcher: Matcher, blocked: BlockedPairs, comparison: Comparison | None, threshold: float
) -> tuple[ScoredPairs, int]:
    """Score the blocked pairs a chunk at a time (comparing them first unless ``comparison`` has
    them); return those reaching ``threshold`` and how many households the household rule kept
    apart (they would have reached it without the rule).

    A large file's chunks are shared out among forked worker processes, one a core (``fork_map``).
    """
    task = _ChunkTask(matcher, blocked, comparison, threshold)
    # A comparison made for the fit is only cut up, not worth a process.
    results = fork_map(task.run, range(0, len(blocked), COMPARE_CHUNK), workers=1 if comparison is not None else None)
    if not results:
        empty = np.zeros(0, dtype=np.int64)
        return matcher.score_pairs(empty, empty), 0
    kept = [found for found, _ in results]
    return (kept[0] if len(kept) == 1 else _concatenate_all(kept)), sum(households for _, households in results)


@dataclass(frozen=True, slots=True)
class _ChunkTask:
    """Scoring one chunk of blocked pairs (see ``_reaching``)."""

    matcher: Matcher
    blocked: BlockedPairs
    comparison: Comparison | None
    threshold: float

    def run(self, start: int) -> tuple[ScoredPairs, int]:
        chunk = slice(start, start + COMPARE_CHUNK)
        a, b = self.blocked.pairs(chunk)
        columns = self.matcher.columns
        part = self.comparison.take(chunk) if self.comparison is not None else compare_pairs(columns, a, b)
        scores = score(self.matcher.model, columns, a, part)
        line = np.log2(self.threshold / (1 - self.threshold)) if self.threshold < 1 else np.inf
        total = scores.total
        households = int((scores.household & (total - HOUSEHOLD_WEIGHT >= line)).sum())
        del total
        # The few pairs that reach the threshold are kept; the weights of the rest are dropped at once.
        kept = np.flatnonzero(scores.probability >= self.threshold)
        scores = Scores(scores.field_weights[kept], scores.tf_adjustments[kept], scores.household[kept],
                        scores.prior_weight, scores.address_cap)
        return _scored(a[kept], b[kept], part.levels[kept], scores, np.zeros(kept.size, np.int64)), households


def group_pairs(matcher: Matcher, found: ScoredPairs) -> ScoredPairs:
    """Group pairs into people and list every pair of each group, numbered best group first."""
    if len(found) == 0:
        return found
    component = connected_components(found.a, found.b)
    members: dict[int, list[int]] = {}
    for customer, root in component.items():
        members.setdefault(root, []).append(customer)
    known = set(zip(found.a.tolist(), found.b.tolist(), strict=True))
    missing = [
        (x, y)
        for group in members.values() if len(group) > 2
        for i, x in enumerate(sorted(group)) for y in sorted(group)[i + 1:]
        if (x, y) not in known
    ]
    if missing:
        extra = matcher.score_pairs(
            np.array([x for x, _ in missing], dtype=np.int64), np.array([y for _, y in missing], dtype=np.int64)
        )
        found = _concatenate(found, extra)
    roots = np.array([component[x] for x in found.a.tolist()], dtype=np.int64)
    best: dict[int, float] = {}
    for root, probability in zip(roots.tolist(), found.probability.tolist(), strict=True):
        best[root] = max(best.get(root, 0.0), probability)
    numbering = {root: n for n, root in enumerate(sorted(best, key=lambda r: (-best[r], r)), start=1)}
    cluster = np.array([numbering[root] for root in roots.tolist()], dtype=np.int64)
    found = ScoredPairs(*(getattr(found, name) for name in ScoredPairs.__slots__[:-1]), cluster=cluster)  # type: ignore[misc]
    return found.take(np.lexsort((found.b, found.a, -found.probability, found.cluster)))


def _concatenate(first: ScoredPairs, second: ScoredPairs) -> ScoredPairs:
    return _concatenate_all([first, second])


def _concatenate_all(parts: list[ScoredPairs]) -> ScoredPairs:
    return ScoredPairs(
        *(np.concatenate([getattr(part, name) for part in parts]) for name in ScoredPairs.__slots__)
    )


@dataclass(frozen=True, slots=True)
class PairSearch:
    """What ``find_pairs`` found: the fitted matcher, the pairs reaching the threshold (grouped, best
    first), what the search did, and every customer's blocking digests (as ``block_digests``)."""

    matcher: Matcher
    found: ScoredPairs
    stats: SearchStats
    blocks: np.ndarray


def find_pairs(
    table: KeyTable,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    window: int = DEFAULT_WINDOW,
    progress: ProgressCallback | None = None,
) -> PairSearch:
    """Find the pairs of customers whose match probability reaches ``threshold``, grouped, best first."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    began = time.perf_counter()
    # Reading the customers freed much: handed back, blocking's large arrays do not come on top of it.
    release_free_memory()
    matcher, blocked, comparison = _fit(table, window=window)
    if progress:
        progress(_STEPS, _STEPS)
    reaching, households = _reaching(matcher, blocked, comparison, threshold)
    compared, digests = len(blocked), blocked.digests
    del blocked, comparison
    found = group_pairs(matcher, reaching)
    stats = SearchStats(
        customers=len(table),
        pairs_compared=compared,
        pairs_found=len(found),
        clusters=int(found.cluster.max()) if len(found) else 0,
        households=households,
        seconds=time.perf_counter() - began,
    )
    return PairSearch(matcher, found, stats, digests)


def compare_rows(
    table: KeyTable, rows: list[int], *, model: dict[str, Any], threshold: float, window: int = DEFAULT_WINDOW
) -> tuple[Matcher, ScoredPairs, int]:
    """Score the customers at ``rows`` against the whole table with a stored model (no refit).

    Return the matcher, the pairs reaching ``threshold`` (ungrouped, cluster 0) and how many
    pairs were compared.
    """
    a, b = pairs_touching(table, rows, window=window)
    columns = ComparisonColumns.of(table)
    matcher = Matcher(table=table, columns=columns, model=model_from_data(model, columns))
    scored = matcher.score_pairs(a, b)
    return matcher, scored.take(scored.probability >= threshold), int(a.size)
