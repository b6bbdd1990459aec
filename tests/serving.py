"""Start the app under a real web server in a subprocess, request pages from it, and stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from mailer import PROJECT_ROOT
from mailer.db import make_engine
from mailer.schema import upgrade_schema

# An address-update token as printed under an envelope's QR code.
TOKEN = "T3WX-9KQ2-MZ2D-ABCDEFGHJK"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def migrated_sqlite_url(folder: Path) -> str:
    """Return the URL of a freshly migrated SQLite database in ``folder``."""
    url = f"sqlite:///{folder / 'served.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        upgrade_schema(connection)
    engine.dispose()
    return url


@contextmanager
def serving(command: Sequence[str], *, database_url: str, port: int, stderr: Path) -> Iterator[str]:
    """Run a server command from the checkout with the app's settings; yield its base URL once it answers."""
    environment = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "served-secret", "PYTHONPATH": ""}
    base_url = f"http://127.0.0.1:{port}"
    with stderr.open("wb") as errors:
        server = subprocess.Popen(
            [sys.executable, *command], cwd=PROJECT_ROOT, env=environment, stdout=errors, stderr=errors
        )
        try:
            deadline = time.monotonic() + 60
            while fetch(f"{base_url}/login") is None:
                assert server.poll() is None, stderr.read_text(encoding="utf-8", errors="replace")
                assert time.monotonic() < deadline, "the server did not answer within a minute"
                time.sleep(0.2)
            yield base_url
        finally:
            server.terminate()
            server.wait(timeout=30)


def fetch(url: str, *, headers: dict[str, str] | None = None) -> int | None:
    """Request ``url``; return the answer's status, or None when nothing answers."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status: int = answer.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None
