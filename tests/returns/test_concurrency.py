"""Mailroom stations scanning at the same time on PostgreSQL: nothing lost, nothing counted twice."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import func, select

from mailer import create_app
from mailer.addresses.models import Address, AddressEvent, AddressValidity
from mailer.customers.models import Customer
from mailer.db import db
from mailer.schema import upgrade_schema
from returns.catalog import REASONS
from returns.models import MailReturn, ReturnSource
from returns.service import record_return
from tests.conftest import postgres_database
from tests.returns.conftest import mail_customers

CUSTOMERS = ("C1", "C2", "C3", "C4")
CAMPAIGNS = ("Spring 2027", "Summer 2027", "Fall 2027")


@pytest.fixture
def postgres_app() -> Iterator[Flask]:
    """Return an app on its own migrated PostgreSQL database, for code that commits on many connections."""
    with postgres_database("returns") as url:
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "returns-secret"})
        with app.app_context(), db.engine.begin() as connection:
            upgrade_schema(connection)
        yield app
        with app.app_context():
            db.engine.dispose()


def _mail(app: Flask) -> list[str]:
    """Mail every customer once per campaign; return all piece codes."""
    with app.app_context():
        codes = []
        for campaign in CAMPAIGNS:
            pieces = mail_customers(db.session, *CUSTOMERS, campaign=campaign)
            codes += [piece.piece_code for piece in pieces.values()]
        db.session.commit()
        return codes


def _stations(app: Flask, count: int) -> Callable[[list[str], str], list[bool]]:
    """Return a function running ``count`` stations at once, each scanning the codes; the outcomes' flags."""
    start = threading.Barrier(count)

    def station(codes: list[str], reason: str) -> list[bool]:
        already = []
        with app.app_context():
            session = db.session
            start.wait()
            for code in codes:
                outcome = record_return(
                    session, piece_code=code, reason=reason, source=ReturnSource.SCAN,
                    actor=f"station-{threading.get_ident()}",
                )
                session.commit()
                already.append(outcome.already_recorded)
        return already

    return station


def test_two_stations_scanning_the_same_pieces_record_each_once(postgres_app: Flask) -> None:
    codes = _mail(postgres_app)
    station = _stations(postgres_app, 2)

    with ThreadPoolExecutor(max_workers=2) as pool:
        forward = pool.submit(station, codes, "UNC")
        backward = pool.submit(station, codes[::-1], "UNC")
        results = forward.result() + backward.result()

    # Each piece was recorded by exactly one station; the other was told "already recorded".
    assert Counter(results) == {False: len(codes), True: len(codes)}
    with postgres_app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(MailReturn)) == len(codes)
        assert session.scalar(select(func.count()).where(MailReturn.is_current)) == len(codes)
        # Three soft returns each: suspect, then undeliverable; two history rows, never more.
        validities = session.scalars(select(Address.validity).where(Address.is_current)).all()
        assert validities == [AddressValidity.UNDELIVERABLE] * len(CUSTOMERS)
        assert session.scalar(select(func.count()).select_from(AddressEvent)) == 2 * len(CUSTOMERS)
        # Every return moved the churn risk exactly once: no update lost, none applied twice.
        weight = REASONS["UNC"].churn_weight
        expected = 1 / (1 + (0.6 / 0.4) / weight ** len(CAMPAIGNS))
        for risk in session.scalars(select(Customer.churn_risk)):
            assert risk is not None and math.isclose(risk, expected, rel_tol=1e-9)


def test_many_stations_scanning_one_piece_at_once_record_it_once(postgres_app: Flask) -> None:
    codes = _mail(postgres_app)
    station = _stations(postgres_app, 8)

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(station, [codes[0]], "VAC") for _ in range(8)]
        results = [flag for future in futures for flag in future.result()]

    assert sorted(results) == [False] + [True] * 7
    with postgres_app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(MailReturn)) == 1
        assert session.scalar(select(func.count()).select_from(AddressEvent)) == 1


def test_stations_disagreeing_on_the_reason_leave_one_current_return(postgres_app: Flask) -> None:
    codes = _mail(postgres_app)
    station = _stations(postgres_app, 4)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(station, [codes[0]], reason) for reason in ("VAC", "ANK", "VAC", "ANK")]
        for future in futures:
            future.result()

    with postgres_app.app_context():
        session = db.session
        current = session.scalars(select(MailReturn).where(MailReturn.is_current)).all()
        assert len(current) == 1
        # Every row but the first corrects the one before it: one unbroken chain.
        rows = session.scalars(select(MailReturn).order_by(MailReturn.id)).all()
        assert [row.corrects_id for row in rows] == [None, *[row.id for row in rows[:-1]]]
