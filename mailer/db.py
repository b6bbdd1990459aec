"""Database wiring: the declarative base, engines, and the per-request session."""

from __future__ import annotations

import enum
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Flask, current_app, g
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    Insert,
    MetaData,
    Table,
    Update,
    bindparam,
    create_engine,
    event,
    update,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from mailer.files import create_private_file

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite keeps no zone: what it stored was UTC.
        return value if value.tzinfo else value.replace(tzinfo=UTC)


# Row ids are INTEGER columns: 32 bits on PostgreSQL (64 on SQLite). A larger number from outside is no id.
MAX_ROW_ID = 2**31 - 1


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base class of every model."""

    if TYPE_CHECKING:
        # Every model maps a table of its own (none maps a join or a select), so its __table__ is a Table.
        __table__: ClassVar[Table]

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        # States are StrEnums stored by value in a plain string column.
        enum.Enum: SAEnum(
            enum.Enum,
            native_enum=False,
            length=24,
            values_callable=lambda members: [member.value for member in members],
        ),
    }


# How long a SQLite write waits for another connection's write lock (an import, a render) before it fails.
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Execution option: the transaction takes SQLite's write lock when it begins (BEGIN IMMEDIATE).
WRITE_LOCK_AT_BEGIN = "mailer_write_lock_at_begin"
# PostgreSQL's serialization failure and deadlock: the other transaction won, this one may run again.
_CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with the settings each backend needs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def is_write_conflict(error: BaseException) -> bool:
    """Tell whether a database error means another transaction was in the way, so the work may run again."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if isinstance(original, sqlite3.Error):
        # SQLITE_BUSY (and its _SNAPSHOT, _TIMEOUT kinds): "database is locked"; SQLITE_LOCKED alike.
        name = getattr(original, "sqlite_errorname", "")
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    return getattr(original, "sqlstate", None) in _CONFLICT_SQLSTATES


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself
    # (the recipe from SQLAlchemy's SQLite dialect documentation).
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Freed space is zeroed, so an erased customer leaves no bytes behind in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "do_connect")
    def make_folder(dialect: Dialect, connection_record: Any, cargs: Any, cparams: Any) -> None:
        # SQLite creates a missing database file but not its folder (instance/ in a fresh clone).
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # It holds every customer's address: created private, not with the umask's mode (0644).
            # SQLite gives the -wal and -shm files the database file's mode.
            create_private_file(Path(database))

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # A transaction that read first and then writes cannot wait for another writer: once that one
        # commits, its snapshot is stale and SQLite refuses at once ("database is locked"). One that
        # takes the write lock as it begins waits for it, up to the busy timeout.
        immediate = connection.get_execution_options().get(WRITE_LOCK_AT_BEGIN, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass(slots=True)
class DatabaseState:
    """One app's engine and session factory."""

    engine: Engine
    sessionmaker: sessionmaker[Session]


class Database:
    """Flask extension handing out one session per app context; state lives on each app."""

    def init_app(self, app: Flask) -> None:
        """Create the engine for the app's DATABASE_URL and close sessions at teardown."""
        engine = make_engine(app.config["DATABASE_URL"], echo=app.config["SQLALCHEMY_ECHO"])
        app.extensions["mailer.db"] = DatabaseState(
            engine=engine, sessionmaker=sessionmaker(engine, expire_on_commit=False)
        )
        app.teardown_appcontext(self._close_session)

    @property
    def state(self) -> DatabaseState:
        """Return the current app's database state."""
        state: DatabaseState = current_app.extensions["mailer.db"]
        return state

    @property
    def engine(self) -> Engine:
        """Return the current app's engine."""
        return self.state.engine

    @property
    def session(self) -> Session:
        """Return the current app context's session, opening it on first use."""
        if "db_session" not in g:
            g.db_session = self.state.sessionmaker()
        session: Session = g.db_session
        return session

    def open_writing_session(self) -> Session:
        """Open the app context's session for work that writes: on SQLite each of its transactions takes
        the write lock as it begins. A session already open is returned as it is."""
        if "db_session" not in g:
            g.db_session = self.state.sessionmaker(execution_options={WRITE_LOCK_AT_BEGIN: True})
        return self.session

    @staticmethod
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()


# Rows of one bulk statement above which it is compiled once for the driver rather than run through
# SQLAlchemy row by row (a few rows: the statement cache serves them best).
DRIVER_ROWS = 50


def execute_rows(session: Session, statement: Insert | Update, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run an insert or update for many rows, each a dict of its bound values (the first row's keys for all).

    SQLAlchemy maps and converts every row's values one by one, which for thousands of rows costs as
    much as the database's own work. Past a few rows the statement is compiled once and run through
    the driver's executemany: each column's conversion runs once per distinct value (the rows of a
    bulk write share their timestamps, states and flags), and the Python-side defaults of columns the
    rows leave out are computed per row, as SQLAlchemy computes them.
    """
    if not rows:
        return
    connection = session.connection()
    if len(rows) <= DRIVER_ROWS:
        connection.execute(statement, list(rows))
        return
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, column_keys=list(rows[0]))
    defaults = {
        column.key: column.default if column in compiled.insert_prefetch else column.onupdate
        for column in (*compiled.insert_prefetch, *compiled.update_prefetch)
    }
    if any(default is None or not (default.is_scalar or default.is_callable) for default in defaults.values()):
        connection.execute(statement, list(rows))
        return
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    # Column by column: one conversion function per column rather than one call per value.
    columns = [_bound_values(rows, name, compiled.binds[name].type, dialect, defaults.get(name)) for name in names]
    if compiled.positional:
        params: list[Any] = list(zip(*columns, strict=True))
    else:
        params = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    connection.exec_driver_sql(str(compiled), params)


def _bound_values(
    rows: Sequence[Mapping[str, Any]], name: str, type_: Any, dialect: Dialect, default: Any
) -> list[Any]:
    """Return one bound value of every row: from the row (or its default), converted as its type says."""
    if default is None:
        values = [row[name] for row in rows]
    elif default.is_scalar:
        values = [row.get(name, default.arg) for row in rows]
    else:
        values = [row[name] if name in row else default.arg(None) for row in rows]
    convert = type_.dialect_impl(dialect).bind_processor(dialect)
    if convert is None:
        return values
    # Keyed by type as well: True and 1 are equal keys but may convert differently.
    converted: dict[tuple[type, Any], Any] = {}
    result = []
    for value in values:
        if isinstance(value, (dict, list)):
            result.append(convert(value))
            continue
        key = (type(value), value)
        if key not in converted:
            converted[key] = convert(value)
        result.append(converted[key])
    return result


def update_by_id(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Update rows by ``id``, each with only the columns it changes: one executemany per set of columns."""
    by_columns: dict[tuple[str, ...], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_columns[tuple(name for name in row if name != "id")].append(row)
    table = model.__table__
    for columns, group in by_columns.items():
        # Rows in id order walk the table and its indexes page after page rather than at random.
        statement = update(table).where(table.c.id == bindparam("row_id")).values(
            {name: bindparam(name) for name in columns}
        )
        params = sorted(
            ({"row_id": row["id"], **{name: row[name] for name in columns}} for row in group),
            key=lambda params: params["row_id"],
        )
        execute_rows(session, statement, params)


@contextmanager
def larger_sqlite_cache(session: Session, *, kib: int) -> Iterator[None]:
    """On SQLite, give the session's connection a page cache of ``kib`` KiB for a bulk write, then restore it.

    SQLite's default cache is 2 MB: a write touching index pages all over a large table reads and writes
    them again and again. Elsewhere this does nothing.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = {-int(kib):d}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous):d}")
