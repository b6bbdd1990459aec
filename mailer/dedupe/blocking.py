"""Blocking: which customers are compared at all, in groups of one cdist call each.

No pair is scored unless the two share a block: the same postal code, or the same locality and
the same phonetic code of one name word. A block larger than ``max_block`` is sorted (by name in
postal blocks, by street in name blocks) and cut into overlapping windows of ``max_block`` rows,
so the work stays near-linear in the number of customers. Small blocks are packed together up to
``PACK_ROWS`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mailer.dedupe.keys import KeyTable

DEFAULT_MAX_BLOCK = 256
# Small blocks are packed into one cdist call up to this many rows: a call costs about 0.1 ms
# before it compares anything, and a pack of k blocks computes k times the cells it keeps, so
# about sqrt(call cost x cells per second) rows balances the two.
PACK_ROWS = 64


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
