"""Files that hold personal data, readable and writable by their owner only from their first byte.

Every file the app writes with names or addresses in it goes through here: the SQLite database
(SQLite gives its -wal and -shm files the database file's mode), manifests and held-piece lists,
rejects files, exports and the demo data. The PDFs get the same mode from ``tempfile.mkstemp``, which
creates its files with ``os.open(..., 0o600)`` as these functions do. The mode is set on the open file
itself, so neither the umask nor the mode of a file being overwritten can leave the data readable by
others, even for a moment.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TextIO

PRIVATE_FILE_MODE = 0o600


def _make_private(descriptor: int) -> bool:
    """Give an open regular file the private mode; return False for anything else (a pipe, a terminal)."""
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        return False
    os.fchmod(descriptor, PRIVATE_FILE_MODE)
    return True


def open_private(path: Path) -> TextIO:
    """Open a file for writing UTF-8 CSV text, made private before anything is written to it."""
    # Not O_TRUNC: an existing file's old contents are cut only once it is private (a file that
    # cannot be made private is refused with its contents untouched).
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        if _make_private(descriptor):
            os.ftruncate(descriptor, 0)
        return os.fdopen(descriptor, "w", encoding="utf-8", newline="")
    except BaseException:
        os.close(descriptor)
        raise


def create_private_file(path: Path) -> None:
    """Create an empty private file unless one is there; an existing file keeps its mode."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    try:
        _make_private(descriptor)
    finally:
        os.close(descriptor)
