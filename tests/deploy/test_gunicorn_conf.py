"""The production server's configuration in the repository starts the app and keeps tokens out of its logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serving import TOKEN, fetch, free_port, migrated_sqlite_url, serving

CONFIG = "deploy/gunicorn.conf.py"


@pytest.mark.slow
def test_gunicorn_serves_the_app_with_an_access_log_that_holds_no_token(tmp_path: Path) -> None:
    port = free_port()
    access_log = tmp_path / "access.log"
    command = [
        "-m", "gunicorn", "--config", CONFIG, "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--access-logfile", str(access_log),
    ]

    with serving(command, database_url=migrated_sqlite_url(tmp_path), port=port, stderr=tmp_path / "error.log") as url:
        assert fetch(f"{url}/login") == 200
        # The customer's browser names the page it came from: the token is in the referer too.
        referer = {"Referer": f"{url}/u/{TOKEN}"}
        assert fetch(f"{url}/u/{TOKEN}", headers=referer) in (400, 404, 410)

    lines = access_log.read_text(encoding="utf-8").splitlines()
    assert any('"GET /login HTTP/1.1" 200' in line for line in lines)
    assert any('"GET /u/… HTTP/1.1"' in line and f'"{url}/u/…"' in line for line in lines)
    assert not [line for line in lines if TOKEN in line]
    assert TOKEN not in (tmp_path / "error.log").read_text(encoding="utf-8")
