"""The database wiring: which errors are write conflicts, and SQLite's write lock taken as a transaction begins."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg.errors
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from mailer.db import WRITE_LOCK_AT_BEGIN, is_write_conflict, make_engine


def _busy_error(tmp_path: Path) -> sqlite3.OperationalError:
    """Return the error SQLite raises for a write while another connection holds the write lock."""
    database = tmp_path / "busy.sqlite3"
    holder = sqlite3.connect(database, isolation_level=None)
    waiter = sqlite3.connect(database, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            waiter.execute("BEGIN IMMEDIATE")
        return caught.value
    finally:
        holder.close()
        waiter.close()


def test_a_locked_sqlite_and_a_postgresql_serialization_failure_or_deadlock_are_conflicts(tmp_path: Path) -> None:
    for original in (_busy_error(tmp_path), psycopg.errors.SerializationFailure(), psycopg.errors.DeadlockDetected()):
        assert is_write_conflict(OperationalError("UPDATE ...", {}, original)), original


def test_other_errors_are_not_conflicts() -> None:
    assert not is_write_conflict(IntegrityError("INSERT ...", {}, psycopg.errors.UniqueViolation()))
    assert not is_write_conflict(OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x")))
    assert not is_write_conflict(RuntimeError("database is locked"))


def test_a_writing_transaction_takes_the_sqlite_write_lock_as_it_begins(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    other = sqlite3.connect(tmp_path / "lock.sqlite3", isolation_level=None, timeout=0)
    try:
        with engine.connect() as reading:
            reading.execute(text("SELECT 1"))
            other.execute("BEGIN IMMEDIATE")  # a read transaction leaves the write lock free
            other.execute("ROLLBACK")
        with engine.connect().execution_options(**{WRITE_LOCK_AT_BEGIN: True}) as writing:
            writing.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        engine.dispose()
