"""Address-update tokens never reach a log line: the filter, and the development server's request log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mailer.access_log import AddressUpdateTokenFilter, mask_address_update_tokens
from tests.serving import TOKEN, fetch, free_port, migrated_sqlite_url, serving


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (f'"GET /u/{TOKEN} HTTP/1.1" 404', '"GET /u/… HTTP/1.1" 404'),
        (f"POST /u/{TOKEN}?lang=zh HTTP/1.1", "POST /u/…?lang=zh HTTP/1.1"),
        (f'"https://mail.example.com/u/{TOKEN}" "Mozilla/5.0"', '"https://mail.example.com/u/…" "Mozilla/5.0"'),
        (f"GET /login?next=/u/{TOKEN}&x=1 HTTP/1.1", "GET /login?next=/u/…&x=1 HTTP/1.1"),
        ("GET /customers/12 HTTP/1.1", "GET /customers/12 HTTP/1.1"),
    ],
)
def test_tokens_are_masked_wherever_a_line_holds_one(line: str, masked: str) -> None:
    assert mask_address_update_tokens(line) == masked


def test_the_filter_masks_the_finished_message_and_keeps_the_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.access_log")
    logger.addFilter(AddressUpdateTokenFilter())

    with caplog.at_level(logging.INFO, logger="tests.access_log"):
        # As werkzeug logs a request: the path arrives as an argument of the format.
        logger.info('%s - - [%s] "%s" %s -', "127.0.0.1", "06/Dec/2026 05:00:00", f"GET /u/{TOKEN} HTTP/1.1", "404")
        logger.info("GET /login HTTP/1.1 %s", "200")

    assert [record.getMessage() for record in caplog.records] == [
        '127.0.0.1 - - [06/Dec/2026 05:00:00] "GET /u/… HTTP/1.1" 404 -',
        "GET /login HTTP/1.1 200",
    ]


@pytest.mark.slow
def test_the_development_server_logs_requests_without_their_token(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    command = ["-m", "mailer", "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"]

    with serving(command, database_url=migrated_sqlite_url(tmp_path), port=port, stderr=log) as base_url:
        assert fetch(f"{base_url}/login") == 200
        assert fetch(f"{base_url}/u/{TOKEN}") in (400, 404, 410)

    lines = log.read_text(encoding="utf-8")
    assert "GET /login HTTP/1.1" in lines and "GET /u/… HTTP/1.1" in lines
    assert TOKEN not in lines
