"""Backups taken while the app writes restore to exactly the database as it stood at one moment."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import Column, Engine, MetaData, String, Table, inspect, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mailer import create_app
from mailer.audit.models import AuditEntry
from mailer.auth.service import ensure_admin
from mailer.batches.models import MailPiece
from mailer.batches.selection import BatchFilters, create_batch
from mailer.churn.service import refresh_churn
from mailer.customers.importing import CUSTOMER_COLUMNS, import_customers
from mailer.db import Base, db, make_engine
from mailer.demo.generate import generate_customers, generate_orders, write_csv
from mailer.orders.importing import ORDER_COLUMNS, import_orders
from mailer.schema import upgrade_schema
from returns.models import ReturnSource
from returns.service import record_return
from tests.conftest import postgres_database

ACTOR = "test:backup"
# The rows the backup and restore commands add to the audit log themselves.
OWN_AUDIT_ACTIONS = ("database.backup", "database.restore")
ALEMBIC_VERSION = Table("alembic_version", MetaData(), Column("version_num", String(32), primary_key=True))
Snapshot = dict[str, list[tuple[Any, ...]]]


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Return the URLs of a live database and of a database to restore into, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.sqlite3'}", f"sqlite:///{tmp_path / 'restored' / 'mailer.sqlite3'}"
        return
    with postgres_database("backup_live") as live, postgres_database("backup_restored") as restored:
        yield live, restored


def _app(url: str, tmp_path: Path) -> Flask:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "backup-secret"})
    app.instance_path = str(tmp_path / "instance")
    return app


def _invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def _migrated_engine(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as connection:
        upgrade_schema(connection)
    return engine


def _fill(engine: Engine, folder: Path) -> list[str]:
    """Store customers, orders, churn scores, a batch and a few returns; return the batch's unreturned pieces."""
    customers = list(generate_customers(120, seed=5))
    write_csv(customers, folder / "customers.csv", columns=CUSTOMER_COLUMNS)
    orders = generate_orders([c["customer_no"] for c in customers], as_of=date.today(), seed=5)
    write_csv(orders, folder / "orders.csv", columns=ORDER_COLUMNS)
    with Session(engine, expire_on_commit=False) as session:
        ensure_admin(session, email="admin@example.com", password="correct horse battery", actor=ACTOR)
        import_customers(session, path=folder / "customers.csv", actor=ACTOR)
        import_orders(session, path=folder / "orders.csv", actor=ACTOR)
        refresh_churn(session, as_of=date.today(), actor=ACTOR)
        batch = create_batch(session, campaign_name="Spring", profile="us-10", filters=BatchFilters(), actor=ACTOR)
        pieces = list(session.scalars(select(MailPiece.piece_code).where(MailPiece.batch_id == batch.id)))
        for code in pieces[:5]:
            record_return(session, piece_code=code, reason="NSN", source=ReturnSource.SCAN, actor=ACTOR)
        session.commit()
    return pieces[5:]


def _snapshot(engine: Engine) -> Snapshot:
    """Read every table's rows in key order, in one transaction (the commands' own audit rows left out)."""
    snapshot: Snapshot = {}
    with engine.connect() as connection, connection.begin():
        for table in [*Base.metadata.sorted_tables, ALEMBIC_VERSION]:
            query = select(table).order_by(*table.primary_key.columns)
            if table.name == AuditEntry.__tablename__:
                query = query.where(table.c.action.not_in(OWN_AUDIT_ACTIONS))
            snapshot[table.name] = [tuple(row) for row in connection.execute(query)]
    return snapshot


class Station(threading.Thread):
    """A mailroom station scanning returns and a marketer importing customers, one commit after another.

    After each commit it reads the whole database: ``states[i]`` is the database after ``i`` commits.
    """

    def __init__(self, engine: Engine, pieces: list[str], folder: Path) -> None:
        super().__init__(daemon=True)
        self.engine, self.pieces, self.folder = engine, pieces, folder
        self.states: list[Snapshot] = [_snapshot(engine)]
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for step, code in enumerate(self.pieces):
                if self.stop.is_set():
                    return
                self._commit(step, code)
                self.states.append(_snapshot(self.engine))
        except BaseException as exc:
            self.error = exc

    def _commit(self, step: int, code: str) -> None:
        for attempt in range(3):
            try:
                with Session(self.engine) as session:
                    record_return(session, piece_code=code, reason="VAC", source=ReturnSource.SCAN, actor=ACTOR)
                    if step % 3 == 0:
                        path = self.folder / f"more-{step}.csv"
                        rows = generate_customers(4, seed=step, start_no=10_000 + 4 * step)
                        write_csv(rows, path, columns=CUSTOMER_COLUMNS)
                        import_customers(session, path=path, actor=ACTOR)
                    session.commit()
                return
            except OperationalError:
                # SQLite refuses a read transaction's write once the command's audit row was committed
                # after its read began; the station sends its scan again, as a client does.
                if attempt == 2 or self.engine.dialect.name != "sqlite":
                    raise

    def wait_for(self, commits: int) -> None:
        while len(self.states) <= commits and self.is_alive():
            self.stop.wait(0.01)


def test_a_backup_taken_while_stations_write_restores_every_table_as_it_stood(
    urls: tuple[str, str], tmp_path: Path
) -> None:
    live_url, restored_url = urls
    live = _migrated_engine(live_url)
    pieces = _fill(live, tmp_path)
    station = Station(live, pieces, tmp_path)
    backup = tmp_path / "mailer.backup"
    live_app, restored_app = _app(live_url, tmp_path), _app(restored_url, tmp_path)
    try:
        station.start()
        station.wait_for(commits=3)
        commits_before = len(station.states) - 1
        backed_up = _invoke(live_app, "backup", "--out", str(backup))
        commits_after = len(station.states)
        station.wait_for(commits=commits_after + 2)
    finally:
        station.stop.set()
        station.join(timeout=60)
    assert station.error is None
    assert backed_up.exit_code == 0, backed_up.output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600

    restored = _invoke(restored_app, "restore", str(backup))

    assert restored.exit_code == 0, restored.output
    restored_engine = make_engine(restored_url)
    try:
        assert set(inspect(restored_engine).get_table_names()) == set(inspect(live).get_table_names())
        state = _snapshot(restored_engine)
    finally:
        restored_engine.dispose()
        live.dispose()
        for app in (live_app, restored_app):
            with app.app_context():
                db.engine.dispose()
    # The stations kept writing after the backup: what it holds is the database between two of
    # their commits, none committed before it began is missing, and each commit is whole or absent.
    assert len(station.states) > commits_after
    candidates = station.states[commits_before : commits_after + 1]
    assert state in candidates, "the restored database is not the live one as it stood at any moment"
    assert all(state[name] for name in ("customers", "addresses", "address_events", "orders", "batches",
                                        "mail_pieces", "mail_returns", "users", "audit_log", "alembic_version"))
