"""Fixtures: an app on each database backend, a session in a rolled-back transaction per test."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailer import create_app
from mailer.cli import cli as mailer_cli
from mailer.db import db, make_engine
from mailer.schema import upgrade_schema
from tests.databases import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database

# CI sets this so a missing PostgreSQL fails the run instead of skipping half the suite.
REQUIRE_POSTGRES = os.environ.get("MAILER_REQUIRE_POSTGRES") == "1"


@contextmanager
def postgres_database(purpose: str) -> Iterator[str]:
    """Create an empty PostgreSQL database for this test run, yield its URL, drop it afterwards.

    The name carries the process id, so test runs side by side never share a database.
    """
    name = f"mailer_{purpose}_{os.getpid()}"
    try:
        url = create_postgres_database(name)
    except OperationalError as exc:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}")
    try:
        yield url
    finally:
        drop_postgres_database(name)


def _migrate(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        upgrade_schema(connection)
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return the URL of a freshly migrated test database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        _migrate(url)
        yield url
        return
    with postgres_database("test") as url:
        _migrate(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """Return an engine on the migrated test database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """Open a connection whose transaction is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def app(database_url: str, connection: Connection, tmp_path: Path) -> Iterator[Flask]:
    """Build an app whose sessions run inside the test's transaction (commits become savepoints)."""
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
        # An updated reference file goes to the test's own folder, never the instance folder.
        "REFERENCE_DATA_PATH": str(tmp_path / "reference" / "reference.json.gz"),
    })
    state = app.extensions["mailer.db"]
    state.engine.dispose()
    state.sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield app


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """Return the session the app's services and commands use during this test."""
    with app.app_context():
        yield db.session


class MailerCliRunner(FlaskCliRunner):
    """A runner for the group ``python -m mailer`` runs, on the test's app."""

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Result:
        """Invoke mailer's command line, or the command given, with the test's app."""
        return super().invoke(cli or mailer_cli, args, **kwargs)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Return a runner for mailer's command line."""
    return MailerCliRunner(app)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Clear the umask, so a file's mode shows what its creation asked for, not a strict umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def file_mode(path: Path) -> int:
    """Return a file's permission bits."""
    return stat.S_IMODE(path.stat().st_mode)
