"""Work shared out among forked worker processes, one a core.

The workers are forked, so they read the parent's data (the key table, the comparison columns) as
it was when they started, without it being copied or pickled; only each item's number goes to a
worker and its result comes back. Where processes cannot be forked (no ``fork`` start method, or
inside a daemonic worker, which may not have children), or there is one core, the items run here.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.pool import Pool
from typing import Any, TypeVar

Result = TypeVar("Result")

# The task the forked workers run, set by the parent just before it forks them.
_TASK: Callable[[int], Any] | None = None


def release_free_memory() -> None:
    """Hand the memory this process has freed back to the system, where the C library keeps it.

    glibc keeps freed blocks for reuse, so a process that has dropped large temporaries still holds
    them, and workers forked then would start with them. Elsewhere this does nothing.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def can_fork() -> bool:
    """Return whether this process may fork workers."""
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


@contextmanager
def forked_pool(count: int) -> Iterator[Pool]:
    """Yield a pool of ``count`` forked workers; they finish their work and exit when it closes, or are
    stopped at once if the block raises."""
    pool = multiprocessing.get_context("fork").Pool(count, initializer=_default_signals)
    try:
        yield pool
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


def _default_signals() -> None:
    # A handler the parent installed for SIGTERM (a test runner's, a server's) would keep a stopped
    # worker alive: a worker stops as any process does.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def fork_imap(task: Callable[[int], Result], items: Sequence[int], *, workers: int | None = None) -> Iterator[Result]:
    """Yield ``task(item)`` for each item, in order, computed in forked workers when there are several
    items and cores (``workers``: how many, by default one a core)."""
    count = min((os.cpu_count() or 1) if workers is None else workers, len(items))
    if count < 2 or not can_fork():
        yield from (task(item) for item in items)
        return
    global _TASK
    _TASK = task
    # What this process has freed would otherwise be inherited by every worker.
    release_free_memory()
    try:
        with forked_pool(count) as pool:
            yield from pool.imap(_run, items, chunksize=1)
    finally:
        _TASK = None


def fork_map(task: Callable[[int], Result], items: Sequence[int], *, workers: int | None = None) -> list[Result]:
    """Return ``[task(item) for item in items]``, computed as ``fork_imap`` does."""
    return list(fork_imap(task, items, workers=workers))


def _run(item: int) -> Any:
    assert _TASK is not None
    return _TASK(item)
