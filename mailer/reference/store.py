"""Which reference file is in use, loading it once per process, and replacing it with a newer one.

The bundled file ships with the code; ``reference update`` writes a checked newer file to the
configured path (``REFERENCE_DATA_PATH``), which then wins. A process rereads the file when it
changes on disk, so web workers pick up an update without a restart.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from mailer.reference.model import Reference, ReferenceFileError, load_reference, parse_reference, read_document

BUNDLED_PATH = Path(__file__).parent / "data" / "reference.json.gz"

_lock = threading.Lock()
_configured: Path | None = None
_loaded: tuple[Path, int, Reference] | None = None


def configure(path: str | Path | None) -> None:
    """Set where an updated reference file lives (None: only the bundled one)."""
    global _configured
    _configured = Path(path) if path else None


def path_in_use() -> Path:
    """Return the file the reference data comes from: the updated one if there is one, else the bundled one."""
    if _configured is not None and _configured.exists():
        return _configured
    return BUNDLED_PATH


def reference_in_use() -> Reference:
    """Return the reference data in use, read once and again only when its file changes."""
    global _loaded
    path = path_in_use()
    stamp = path.stat().st_mtime_ns
    loaded = _loaded
    if loaded is not None and loaded[0] == path and loaded[1] == stamp:
        return loaded[2]
    with _lock:
        if _loaded is None or _loaded[0] != path or _loaded[1] != stamp:
            _loaded = (path, stamp, load_reference(path))
        return _loaded[2]


def install_reference(source: Path | dict[str, Any], *, target: Path) -> Reference:
    """Check a new reference (a file or a built document) and make it the one in use at ``target``.

    Nothing is written unless the whole file passes the checks, and the file in use is replaced in
    one rename, so a bad file leaves the data in use as it was.
    """
    if isinstance(source, Path):
        document = read_document(source)
        origin = str(source)
    else:
        document, origin = source, "the built reference"
    reference = parse_reference(document, origin=origin)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = gzip.compress(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(), mtime=0)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".reference-", suffix=".json.gz")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return reference


__all__ = [
    "BUNDLED_PATH", "ReferenceFileError", "configure", "install_reference", "path_in_use", "reference_in_use",
]
