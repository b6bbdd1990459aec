"""Work shared out among forked worker processes, one a core.

The workers are forked, so they read the parent's data (the key table, the comparison columns) as
it was when they started, without it being copied or pickled; only each item's number goes to a
worker and its result comes back. Where processes cannot be forked (no ``fork`` start method, or
inside a daemonic worker, which may not have children), or there is one core, the items run here.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

Result = TypeVar("Result")

# The task the forked workers run, set by the parent just before it forks them.
_TASK: Callable[[int], Any] | None = None


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def fork_imap(task: Callable[[int], Result], items: Sequence[int], *, workers: int | None = None) -> Iterator[Result]:
    """Yield ``task(item)`` for each item, in order, computed in forked workers when there are several
    items and cores (``workers``: how many, by default one a core)."""
    count = min((os.cpu_count() or 1) if workers is None else workers, len(items))
    if count < 2 or not _can_fork():
        yield from (task(item) for item in items)
        return
    global _TASK
    _TASK = task
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            yield from pool.imap(_run, items, chunksize=1)
    finally:
        _TASK = None


def fork_map(task: Callable[[int], Result], items: Sequence[int], *, workers: int | None = None) -> list[Result]:
    """Return ``[task(item) for item in items]``, computed as ``fork_imap`` does."""
    return list(fork_imap(task, items, workers=workers))


def _run(item: int) -> Any:
    assert _TASK is not None
    return _TASK(item)
