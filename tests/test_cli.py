"""The command line as ``python -m mailer`` runs it: a database without its schema, output files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from psycopg import errors as pg_errors
from sqlalchemy.exc import OperationalError, ProgrammingError

from mailer import PROJECT_ROOT, create_app
from mailer.cli import UnusableInput, cli, is_missing_table, output_file
from mailer.db import db
from tests.conftest import postgres_database

NO_SCHEMA = "error: the database has no tables yet: run python -m mailer init first\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of a database that exists but where ``init`` never ran."""
    if request.param == "sqlite":
        path = tmp_path / "empty.sqlite3"
        path.touch()
        yield f"sqlite:///{path}"
        return
    with postgres_database("empty") as url:
        yield url


@contextmanager
def _app(url: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"})
    yield app
    with app.app_context():
        db.engine.dispose()


def _run(app: Flask, *args: str) -> Result:
    # The group python -m mailer runs, on this app (so its engine can be closed afterwards).
    return CliRunner().invoke(
        cli, list(args), obj=ScriptInfo(create_app=lambda: app), env={"FLASK_RUN_FROM_CLI": None}
    )


@pytest.mark.parametrize(
    "args", [["customers", "show", "C1"], ["batch", "finish", "1", "--out", "unused"], ["dedupe", "merges"]]
)
def test_a_command_on_a_database_without_tables_says_to_run_init(empty_database_url: str, args: list[str]) -> None:
    with _app(empty_database_url) as app:
        result = _run(app, *args)

        assert result.exit_code == 2
        assert result.stderr == NO_SCHEMA


def test_init_then_works_on_that_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    with _app(f"sqlite:///{path}") as app:
        assert _run(app, "init", "--admin-password", "correct horse battery").exit_code == 0

        result = _run(app, "customers", "show", "C1")

        assert result.exit_code == 1 and result.stderr == "error: no customer C1\n"


def test_python_m_mailer_says_to_run_init(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()

    result = subprocess.run(
        [sys.executable, "-m", "mailer", "customers", "show", "C1"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "x"},
    )

    assert result.returncode == 2
    assert result.stderr == NO_SCHEMA


def test_other_database_errors_propagate(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    connection.close()
    with _app(f"sqlite:///{path}") as app:
        result = _run(app, "customers", "show", "C1")

        assert isinstance(result.exception, OperationalError)
        assert "no such column" in str(result.exception)


def test_missing_tables_are_told_from_other_errors_on_each_backend() -> None:
    assert is_missing_table(OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: customers")))
    assert not is_missing_table(OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked")))
    assert is_missing_table(ProgrammingError("SELECT", {}, pg_errors.UndefinedTable("relation does not exist")))
    assert not is_missing_table(ProgrammingError("SELECT", {}, pg_errors.UndefinedColumn("column does not exist")))


def test_an_output_file_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    with pytest.raises(UnusableInput, match=f"cannot write {tmp_path}: Is a directory"), output_file(tmp_path):
        pass
    with output_file(tmp_path / "out.csv") as handle:
        handle.write("a\n")
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "a\n"
