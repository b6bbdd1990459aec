"""The duplicate search: every block group scored with one ``rapidfuzz.process.cdist`` call on all cores.

Only pairs inside one block are kept; the few whose quick bounds reach the threshold are scored
in full (``mailer.dedupe.scoring``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from mailer.dedupe.blocking import DEFAULT_MAX_BLOCK, BlockingPlan, plan_blocks
from mailer.dedupe.keys import KeyTable
from mailer.dedupe.scoring import DEFAULT_THRESHOLD, NAME_COMPATIBLE, ScoredPairs, score_pairs

# Called with (steps just done, total steps) as the search advances.
ProgressCallback = Callable[[int, int], None]


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
