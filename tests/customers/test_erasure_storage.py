"""After an erasure, the erased name is nowhere in the database's own files: the raw SQLite file (and
its write-ahead log) and a PostgreSQL dump."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import make_url

from mailer import create_app
from mailer.db import db
from mailer.schema import upgrade_schema
from tests.conftest import postgres_database
from tests.factories import CN_ROW, US_ROW, customer_row, write_csv

# Names and addresses found nowhere else in the file: each is looked for byte by byte.
ERASED_US = customer_row(US_ROW, customer_no="Z-1001", name="Zbigniew Quarrington", line1="77 Quarry Lane",
                         email="zq@example.org", phone="(217) 555-0177")
ERASED_CN = customer_row(CN_ROW, customer_no="Z-1002", name="欧阳娜娜", line1="锦绣路1888弄7号",
                         email="oyn@example.cn", phone="13900001888")
KEPT = customer_row(US_ROW, customer_no="K-2001", name="Keeping Henrietta", line1="5 Keeper Road")
SECRETS = ("Zbigniew", "Quarrington", "Quarry Lane", "zq@example.org", "555-0177", "Z-1001",
           "欧阳娜娜", "锦绣路", "oyn@example.cn", "13900001888", "Z-1002",
           # ...and the folded words and pinyin the customer search finds them by.
           "zbigniew", "quarrington", "Quarry", "QUARRY", "quarry", "锦绣", "zqexampleorg", "2175550177",
           "ouyangnana", "oynexamplecn", "z1001", "z1002")


def _needles(value: str) -> list[bytes]:
    """Return the byte forms a value may take in a database file: UTF-8, and JSON's \\u escapes."""
    forms = {value.encode(), json.dumps(value)[1:-1].encode()}
    return [form for form in forms if form]


def _leaks(blob: bytes) -> list[str]:
    return [value for value in SECRETS if any(needle in blob for needle in _needles(value))]


@contextmanager
def _app(backend: str, tmp_path: Path) -> Iterator[Flask]:
    if backend == "sqlite":
        yield from _with_app(f"sqlite:///{tmp_path / 'erase.sqlite3'}")
        return
    with postgres_database("erasure") as url:
        yield from _with_app(url)


def _with_app(url: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "erasure-secret"})
    with app.app_context(), db.engine.begin() as connection:
        upgrade_schema(connection)
    yield app
    with app.app_context():
        db.engine.dispose()


def _run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _fill_and_erase(app: Flask, tmp_path: Path) -> None:
    customers = write_csv(tmp_path / "customers.csv", [ERASED_US, ERASED_CN, KEPT])
    _run(app, "customers", "import", str(customers))
    # A second import with a new address: the old one stays in the history, which must be erased too.
    moved = customer_row(ERASED_US, line1="77 Quarry Lane Unit 2", name="Zbigniew Quarrington")
    _run(app, "customers", "import", str(write_csv(tmp_path / "moved.csv", [moved])))
    orders = write_csv(tmp_path / "orders.csv", [
        {"customer_no": "Z-1001", "order_date": "2025-03-01", "amount": "25.00"},
        {"customer_no": "Z-1002", "order_date": "2025-04-01", "amount": "40.00"},
    ], columns=("customer_no", "order_date", "amount"))
    _run(app, "orders", "import", str(orders))
    _run(app, "batch", "create", "--campaign", "Spring", "--profile", "us-10")
    _run(app, "batch", "create", "--campaign", "Spring CN", "--profile", "cn-dl")
    _run(app, "customers", "export", "Z-1001")
    _run(app, "customers", "erase", "Z-1001", "--yes")
    _run(app, "customers", "erase", "Z-1002", "--yes")


@pytest.mark.parametrize("vacuum", [True, False], ids=["vacuum", "secure-delete"])
def test_the_erased_customers_are_nowhere_in_the_raw_sqlite_files(tmp_path: Path, vacuum: bool) -> None:
    with _app("sqlite", tmp_path) as app:
        customers = write_csv(tmp_path / "c.csv", [ERASED_US, ERASED_CN, KEPT])
        _run(app, "customers", "import", str(customers))
        before = (tmp_path / "erase.sqlite3").read_bytes() + _wal(tmp_path)
        assert "Zbigniew" in _leaks(before) or "Zbigniew" in _leaks(_all_files(tmp_path))
        _run(app, "customers", "erase", "Z-1001", "--yes", *([] if vacuum else ["--no-vacuum"]))
        _run(app, "customers", "erase", "Z-1002", "--yes", *([] if vacuum else ["--no-vacuum"]))
        blob = _all_files(tmp_path)
        assert _leaks(blob) == []
        # The customer kept is still there, in the same file.
        assert b"Keeping Henrietta" in blob


def test_a_full_history_leaves_nothing_in_the_sqlite_file(tmp_path: Path) -> None:
    with _app("sqlite", tmp_path) as app:
        _fill_and_erase(app, tmp_path)
        blob = _all_files(tmp_path)
    assert _leaks(blob) == []
    assert b"Keeping Henrietta" in blob


def test_a_postgresql_dump_holds_nothing_of_the_erased(tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    with _app("postgresql", tmp_path) as app:
        _fill_and_erase(app, tmp_path)
        url = make_url(app.config["DATABASE_URL"])
        dump = subprocess.run(
            ["pg_dump", "--no-owner", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
             "-U", url.username or "postgres", url.database or ""],
            check=True, capture_output=True,
        ).stdout
    assert b"Keeping Henrietta" in dump
    assert _leaks(dump) == []


def _wal(folder: Path) -> bytes:
    wal = folder / "erase.sqlite3-wal"
    return wal.read_bytes() if wal.exists() else b""


def _all_files(folder: Path) -> bytes:
    """Return the bytes of the database file and every file SQLite keeps beside it."""
    return b"".join(path.read_bytes() for path in sorted(folder.glob("erase.sqlite3*")))
