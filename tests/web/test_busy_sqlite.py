"""A busy SQLite database: parallel scans, parallel address updates and a login during a long write.

These tests run the real app on a SQLite file, each request in its own connection and transaction,
as the development server and a threaded production server run it (the usual fixtures share one
rolled-back connection, which cannot be busy).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from mailer import create_app
from mailer.addresses.models import AddressEvent, AddressEventKind
from mailer.audit.models import AuditEntry
from mailer.auth.models import Role
from mailer.auth.service import create_api_token, create_user
from mailer.db import make_engine
from mailer.schema import upgrade_schema
from returns.models import MailReturn
from tests.returns.conftest import mail_customers
from tests.selfservice.letters import SECRET, Letter, mail_letter
from tests.web.conftest import CSRF_PATTERN, PASSWORD, csrf_token, data

SCANS = 20
ADDRESS_POSTS = 10
T = TypeVar("T")


@pytest.fixture
def file_app(tmp_path: Path) -> Iterator[Flask]:
    """Build the app on a freshly migrated SQLite file, without the tests' shared connection."""
    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        upgrade_schema(connection)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    yield app
    app.extensions["mailer.db"].engine.dispose()


@contextmanager
def write_lock_held(app: Flask, statement: str, parameters: tuple[object, ...], *, seconds: float) -> Iterator[None]:
    """Run the block while another connection holds the write lock of the app's SQLite file.

    That connection runs ``statement`` in an immediate transaction and commits it ``seconds`` after
    taking the lock, as another process (an import from the command line) would.
    """
    database = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    holding = threading.Event()

    def long_write() -> None:
        connection = sqlite3.connect(database, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(statement, parameters)
            holding.set()
            time.sleep(seconds)
            connection.execute("COMMIT")
        finally:
            connection.close()

    writer = threading.Thread(target=long_write)
    writer.start()
    assert holding.wait(10)
    try:
        yield
    finally:
        writer.join()


def _all_at_once(count: int, work: Callable[[], T]) -> list[T]:
    """Run ``work`` in ``count`` threads that start together; return what each returned."""
    start = threading.Barrier(count)

    def run() -> T:
        start.wait()
        return work()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: run(), range(count)))


def test_parallel_scans_of_one_piece_all_answer_json_and_record_it_once(file_app: Flask) -> None:
    with data(file_app) as session:
        clerk = create_user(session, email="clerk@example.com", password=PASSWORD, role=Role.MAILROOM, actor="t")
        token = create_api_token(session, user=clerk, label="station", actor="t")[1]
        piece_code = mail_customers(session, "C1")["C1"].piece_code

    def scan() -> TestResponse:
        return file_app.test_client().post(
            "/api/returns", json={"piece_code": piece_code, "reason": "moved"},
            headers={"Authorization": f"Bearer {token}"},
        )

    answers = _all_at_once(SCANS, scan)

    statuses = sorted(answer.status_code for answer in answers)
    assert all(answer.is_json for answer in answers), [answer.get_data(as_text=True)[:200] for answer in answers]
    assert statuses == [200] * (SCANS - 1) + [201], [answer.get_json() for answer in answers]
    with data(file_app) as session:
        assert session.scalar(select(func.count()).select_from(MailReturn)) == 1


def test_parallel_address_updates_answer_pages_and_change_the_address_once(file_app: Flask) -> None:
    with data(file_app) as session:
        letter: Letter = mail_letter(session, "C001")

    # Every customer's browser opens the form first; only then do they all send it at once.
    forms = []
    for number in range(ADDRESS_POSTS):
        client = file_app.test_client()
        page = client.get(f"/u/{letter.token}").get_data(as_text=True)
        match = CSRF_PATTERN.search(page)
        assert match, page
        forms.append((client, {
            "line1": f"{500 + number} Elm Avenue", "line2": "", "city": "Chicago", "region": "IL",
            "postal_code": "60601", "save": "1", "csrf_token": match.group(1),
        }))
    waiting = iter(forms)
    lock = threading.Lock()

    def next_post() -> TestResponse:
        with lock:
            client, form = next(waiting)
        return client.post(f"/u/{letter.token}", data=form)

    answers = _all_at_once(ADDRESS_POSTS, next_post)

    statuses = sorted(answer.status_code for answer in answers)
    # One update uses the link; every later one is told the link is spent, on the customers' page.
    assert statuses == [303] + [410] * (ADDRESS_POSTS - 1), statuses
    assert all("<html" in answer.get_data(as_text=True) for answer in answers if answer.status_code == 410)
    with data(file_app) as session:
        superseded = session.scalar(
            select(func.count()).select_from(AddressEvent).where(
                AddressEvent.customer_id == letter.customer_id, AddressEvent.kind == AddressEventKind.SUPERSEDED,
            )
        )
        assert superseded == 1


def test_a_login_waits_for_a_long_write_and_succeeds(file_app: Flask) -> None:
    with data(file_app) as session:
        user = create_user(session, email="marketing@example.com", password=PASSWORD, role=Role.MARKETING,
                           actor="t")
        user_id = user.id
    client = file_app.test_client()
    form = {"email": "marketing@example.com", "password": PASSWORD, "csrf_token": csrf_token(client)}
    # Another process (an import from the command line) holds the write lock for two seconds.
    with write_lock_held(file_app, "UPDATE users SET locale = 'en' WHERE id = ?", (user_id,), seconds=2):
        response = client.post("/login", data=form)

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with data(file_app) as session:
        logins = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login")).all()
        assert [entry.object_id for entry in logins] == [str(user_id)]
