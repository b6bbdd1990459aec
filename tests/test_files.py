"""Files holding personal data are private from their first byte: written files and the SQLite database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from mailer.db import make_engine
from mailer.files import PRIVATE_FILE_MODE, create_private_file, open_private
from tests.conftest import file_mode

pytestmark = pytest.mark.usefixtures("open_umask")


def test_a_written_file_is_private_from_its_creation(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"

    with open_private(path) as handle:
        # Checked before a byte is written: nobody else may open it in between.
        assert file_mode(path) == PRIVATE_FILE_MODE
        handle.write("王磊\r\n")

    assert path.read_bytes() == "王磊\r\n".encode()


def test_a_readable_file_written_over_becomes_private_and_loses_its_old_contents(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("old and longer contents\n")
    path.chmod(0o644)

    with open_private(path) as handle:
        assert file_mode(path) == PRIVATE_FILE_MODE
        handle.write("new\n")

    assert path.read_text() == "new\n"


def test_a_file_that_cannot_be_written_is_refused_as_open_refuses_it(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        open_private(tmp_path)
    with pytest.raises(FileNotFoundError):
        open_private(tmp_path / "missing" / "export.csv")


def test_writing_to_a_stream_that_is_no_file_leaves_its_mode_alone(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo, 0o644)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with open_private(fifo) as handle:
            handle.write("a\n")
        assert os.read(reader, 10) == b"a\n"
    finally:
        os.close(reader)
    assert file_mode(fifo) == 0o644


def test_creating_a_private_file_keeps_one_already_there(tmp_path: Path) -> None:
    created, existing = tmp_path / "new.db", tmp_path / "old.db"
    existing.write_bytes(b"kept")
    existing.chmod(0o640)

    create_private_file(created)
    create_private_file(existing)

    assert (file_mode(created), created.read_bytes()) == (PRIVATE_FILE_MODE, b"")
    assert (file_mode(existing), existing.read_bytes()) == (0o640, b"kept")


def test_a_sqlite_database_and_its_wal_and_shared_memory_files_are_private(tmp_path: Path) -> None:
    database = tmp_path / "instance" / "mailer.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE customer (name TEXT)"))
            connection.execute(text("INSERT INTO customer VALUES ('王磊')"))
        with engine.connect() as connection:
            # While a connection is open, the write-ahead log and its index are on disk beside the database.
            assert connection.execute(text("SELECT name FROM customer")).scalar_one() == "王磊"
            files = [database, database.with_name(f"{database.name}-wal"), database.with_name(f"{database.name}-shm")]
            assert {path.name: file_mode(path) for path in files} == {path.name: PRIVATE_FILE_MODE for path in files}
    finally:
        engine.dispose()
