"""``backup`` and ``restore`` on the command line: refusals, exit codes, audit rows, file modes."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from mailer import create_app
from mailer.audit.models import AuditEntry
from mailer.customers.models import Customer
from mailer.db import db
from mailer.schema import upgrade_schema
from tests.conftest import postgres_database
from tests.factories import add_customer


@contextmanager
def _app(backend: str, tmp_path: Path, name: str) -> Iterator[Flask]:
    """Build an app on a database of its own (an SQLite file not yet created, or an empty PostgreSQL one)."""
    with _database_url(backend, tmp_path, name) as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "backup-secret"})
        yield app
        with app.app_context():
            db.engine.dispose()


@contextmanager
def _database_url(backend: str, tmp_path: Path, name: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / name / 'mailer.sqlite3'}"
        return
    with postgres_database(f"backup_{name}") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Return the name of each database backend."""
    return str(request.param)


@pytest.fixture
def live_app(backend: str, tmp_path: Path) -> Iterator[Flask]:
    """Return an app on its own migrated database holding the customer C1."""
    with _app(backend, tmp_path, "live") as app:
        with app.app_context():
            with db.engine.begin() as connection:
                upgrade_schema(connection)
            add_customer(db.session, "C1")
            db.session.commit()
        yield app


def _invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def _customers_and_audit(app: Flask) -> tuple[list[str], list[str]]:
    with app.app_context():
        customers = list(db.session.scalars(select(Customer.customer_no).order_by(Customer.customer_no)))
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        db.session.rollback()
    return customers, actions


def test_a_backup_is_written_readable_by_its_owner_only_and_audited(live_app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "mailer.backup"

    result = _invoke(live_app, "backup", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert f"database to {out} (" in result.stdout
    assert _customers_and_audit(live_app)[1][-1] == "database.backup"
    # No partial file is left beside it.
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == ["mailer.backup"]


def test_a_backup_never_overwrites_a_file_or_writes_outside_a_folder(live_app: Flask, tmp_path: Path) -> None:
    existing = tmp_path / "earlier.backup"
    existing.write_bytes(b"an earlier backup")

    over = _invoke(live_app, "backup", "--out", str(existing))
    nowhere = _invoke(live_app, "backup", "--out", str(tmp_path / "missing" / "mailer.backup"))

    assert over.exit_code == 2 and "already exists" in over.stderr
    assert existing.read_bytes() == b"an earlier backup"
    assert nowhere.exit_code == 2 and "there is no folder" in nowhere.stderr
    assert "database.backup" not in _customers_and_audit(live_app)[1]


def test_restore_replaces_a_database_with_tables_only_when_told_to(
    live_app: Flask, backend: str, tmp_path: Path
) -> None:
    backup = tmp_path / "mailer.backup"
    assert _invoke(live_app, "backup", "--out", str(backup)).exit_code == 0
    with live_app.app_context():
        add_customer(db.session, "C2")
        db.session.commit()

    refused = _invoke(live_app, "restore", str(backup))

    assert refused.exit_code == 2
    assert "already holds tables: give --yes" in refused.stderr and "nothing was restored" in refused.stderr
    assert _customers_and_audit(live_app)[0] == ["C1", "C2"]

    replaced = _invoke(live_app, "restore", str(backup), "--yes")

    assert replaced.exit_code == 0, replaced.output
    customers, actions = _customers_and_audit(live_app)
    # The database as backed up (the backup's own audit row came after the copy), and the restore audited.
    assert customers == ["C1"]
    assert actions == ["database.restore"]


def test_restore_into_a_new_database_needs_no_confirmation(live_app: Flask, backend: str, tmp_path: Path) -> None:
    backup = tmp_path / "mailer.backup"
    assert _invoke(live_app, "backup", "--out", str(backup)).exit_code == 0

    with _app(backend, tmp_path, "new") as new_app:
        result = _invoke(new_app, "restore", str(backup))

        assert result.exit_code == 0, result.output
        assert _customers_and_audit(new_app)[0] == ["C1"]
        if backend == "sqlite":
            database = tmp_path / "new" / "mailer.sqlite3"
            assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_restore_refuses_a_file_that_is_no_backup_of_this_kind_of_database(
    live_app: Flask, backend: str, tmp_path: Path
) -> None:
    text = tmp_path / "customers.csv"
    text.write_text("customer_no,name\n", encoding="utf-8")
    other_kind = tmp_path / "other.backup"
    # The first bytes of the other backend's backups.
    other_kind.write_bytes(b"PGDMP" if backend == "sqlite" else b"SQLite format 3\x00")

    results = [_invoke(live_app, "restore", str(path), "--yes") for path in (text, other_kind, tmp_path / "none")]

    assert [result.exit_code for result in results] == [2, 2, 2]
    assert "is not a backup" in results[0].stderr
    assert "backup, and this database is" in results[1].stderr
    assert "cannot read" in results[2].stderr
    assert _customers_and_audit(live_app) == (["C1"], [])


def test_a_backup_without_pg_dump_says_what_to_install_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mailer.backup.service.shutil.which", lambda name: None)

    with _app("postgresql", tmp_path, "no_tools") as app:
        result = _invoke(app, "backup", "--out", str(tmp_path / "mailer.backup"))

    assert result.exit_code == 1
    assert result.stderr == (
        "error: pg_dump was not found: install PostgreSQL's client tools (Debian: postgresql-client); "
        "no backup was written\n"
    )
    assert [path for path in tmp_path.iterdir() if path.is_file()] == []
