"""Whole-database backups and restores: SQLite through its online backup API, PostgreSQL through pg_dump.

Both take a consistent snapshot while the app keeps writing. These work on the database as a whole,
so they take the engine rather than a session, and own no transaction of the app's.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL

# The first bytes of each kind of backup file: an SQLite database, a pg_dump custom-format archive.
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
CLIENT_TOOLS = "PostgreSQL's client tools (Debian: postgresql-client)"
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupRefused(Exception):
    """What the command was given cannot be used: a file, a database or a missing confirmation."""


class BackupFailed(Exception):
    """The database or the dump tool failed while copying; nothing was written or replaced."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    """A backup just written: where, of which kind of database, and how large."""

    path: Path
    backend: str
    size_bytes: int


def backup_database(*, engine: Engine, out: Path) -> BackupReport:
    """Copy the whole database into the new file ``out``, readable by its owner only."""
    backend = engine.dialect.name
    if backend not in ("sqlite", "postgresql"):
        raise BackupRefused(f"cannot back up a {backend} database")
    if out.exists():
        raise BackupRefused(f"{out} already exists: give a new file name")
    if not out.parent.is_dir():
        raise BackupRefused(f"cannot write {out}: there is no folder {out.parent}")
    # mkstemp creates the file 0600; a half-written copy never takes the backup's name.
    try:
        handle, partial_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
    except OSError as exc:
        raise BackupRefused(f"cannot write {out}: {exc.strerror or exc}") from None
    os.close(handle)
    partial = Path(partial_name)
    try:
        if backend == "sqlite":
            _backup_sqlite(_sqlite_file(engine.url), partial)
        else:
            _backup_postgresql(engine.url, partial)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(path=out, backend=backend, size_bytes=out.stat().st_size)


def restore_database(*, engine: Engine, source: Path, replace: bool) -> None:
    """Replace the database's contents with the backup in ``source``; refuse to replace tables unless ``replace``."""
    backend = engine.dialect.name
    kind = backup_kind(source)
    if kind != backend:
        raise BackupRefused(
            f"{source} is a {BACKEND_NAMES[kind]} backup, and this database is {BACKEND_NAMES[backend]}"
        )
    if backend == "sqlite":
        database = _sqlite_file(engine.url, must_exist=False)
        _check_sqlite_backup(source)
        if not replace and _sqlite_has_tables(database):
            raise BackupRefused(f"{database} already holds tables: give --yes to replace them with the backup")
        _restore_sqlite(source, database)
    else:
        if not replace and inspect(engine).get_table_names():
            raise BackupRefused("the database already holds tables: give --yes to replace them with the backup")
        _restore_postgresql(engine.url, source)
    # Pooled connections may hold plans and pages of the tables just replaced.
    engine.dispose()


def backup_kind(path: Path) -> str:
    """Tell which database a backup file is of ("sqlite" or "postgresql") from its first bytes."""
    try:
        with path.open("rb") as handle:
            start = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupRefused(f"cannot read {path}: {exc.strerror or exc}") from None
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupRefused(f"{path} is not a backup: neither an SQLite database nor a pg_dump archive")


def _sqlite_file(url: URL, *, must_exist: bool = True) -> Path:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupRefused("the database is not a plain SQLite file")
    path = Path(database)
    if must_exist and not path.is_file():
        raise BackupRefused(f"there is no database at {path}")
    return path


def _backup_sqlite(database: Path, target: Path) -> None:
    try:
        with closing(sqlite3.connect(database, timeout=30)) as live, closing(sqlite3.connect(target)) as copy:
            # One step: a single read transaction, so the copy is one snapshot; in WAL mode it does not
            # hold up the app's writers.
            live.backup(copy)
            # A single self-contained file, with no -wal beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as exc:
        raise BackupFailed(f"copying {database} failed: {exc}") from None
    if check != "ok":
        raise BackupFailed(f"the copy of {database} does not check out: {check}")


def _check_sqlite_backup(source: Path) -> None:
    try:
        with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as backup:
            (check,) = backup.execute("PRAGMA quick_check").fetchone()
            (versions,) = backup.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
    except sqlite3.Error as exc:
        raise BackupRefused(f"{source} cannot be read as a backup: {exc}") from None
    if check != "ok":
        raise BackupRefused(f"{source} is damaged: {check}")
    if not versions:
        raise BackupRefused(f"{source} is not a backup of mailer's database")


def _sqlite_has_tables(database: Path) -> bool:
    if not database.exists():
        return False
    try:
        with closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=30)) as live:
            (tables,) = live.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    except sqlite3.Error as exc:
        raise BackupFailed(f"cannot read {database}: {exc}") from None
    return bool(tables)


def _restore_sqlite(source: Path, database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    if not database.exists():
        # A new database file holds personal data from its first page on: readable by its owner only.
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        with (
            closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as backup,
            closing(sqlite3.connect(database, timeout=30)) as live,
        ):
            # The backup API replaces every page in one write transaction: all of it, or nothing.
            backup.backup(live)
    except sqlite3.Error as exc:
        raise BackupFailed(f"restoring into {database} failed: {exc}") from None


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """Return a libpq connection URI without the password, and an environment that carries it."""
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    environment = dict(os.environ)
    if url.password is not None:
        # Not on the command line, where every user of the machine could read it.
        environment["PGPASSWORD"] = str(url.password)
    return uri, environment


def _client_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupFailed(f"{name} was not found: install {CLIENT_TOOLS}")
    return tool


def _backup_postgresql(url: URL, target: Path) -> None:
    uri, environment = _libpq(url)
    # pg_dump reads in one repeatable-read snapshot; the custom format is what pg_restore takes.
    result = subprocess.run(
        [_client_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={uri}"],
        env=environment, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BackupFailed(f"pg_dump failed: {result.stderr.strip()}")


def _restore_postgresql(url: URL, source: Path) -> None:
    uri, environment = _libpq(url)
    result = subprocess.run(
        [
            _client_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--exit-on-error", f"--dbname={uri}", str(source),
        ],
        env=environment, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BackupFailed(f"pg_restore failed: {result.stderr.strip()}")
