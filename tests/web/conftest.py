"""Fixtures of the web tests: a test client, one staff user per role, logging in, CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from mailer.auth.models import Role
from mailer.auth.service import create_user
from mailer.customers.importing import import_customers
from mailer.db import db
from mailer.demo.generate import generate_customers
from tests.factories import write_csv

PASSWORD = "correct horse battery"
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


@dataclass(frozen=True, slots=True)
class Staff:
    """A staff user made for a test, with the password to log in."""

    id: int
    email: str
    role: Role
    password: str = PASSWORD


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with one PBKDF2 round: these tests are about pages, not about hashing."""
    import mailer.auth.service

    def quick_hash(password: str) -> str:
        return generate_password_hash(password, method="pbkdf2:sha256:1")

    monkeypatch.setattr(mailer.auth.service, "generate_password_hash", quick_hash)


@contextmanager
def data(app: Flask) -> Iterator[Session]:
    """Open the app's session outside any request, and commit what the block adds."""
    with app.app_context():
        yield db.session
        db.session.commit()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client with no one logged in."""
    return app.test_client()


@pytest.fixture
def staff(app: Flask) -> dict[Role, Staff]:
    """Create one user per role."""
    users = {}
    with data(app) as session:
        for role in Role:
            user = create_user(
                session, email=f"{role.value}@example.com", password=PASSWORD, role=role, actor="test"
            )
            users[role] = Staff(id=user.id, email=user.email, role=role)
    return users


def csrf_token(client: FlaskClient) -> str:
    """Return the CSRF token of this client's session, read from a page as a browser would."""
    response = client.get("/login")
    if response.status_code == 302:  # logged in: every page has the logout form
        response = client.get("/profile")
    match = CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on the page ({response.status_code})"
    return match.group(1)


def log_in(client: FlaskClient, user: Staff, *, password: str | None = None) -> TestResponse:
    """Log a user in through the login form."""
    return client.post(
        "/login",
        data={"email": user.email, "password": password or user.password, "csrf_token": csrf_token(client)},
    )


def post(client: FlaskClient, path: str, data: dict[str, object] | None = None, **kwargs: object) -> TestResponse:
    """Post a form with the session's CSRF token, as the browser would."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def logged_in(app: Flask, staff: dict[Role, Staff]):  # type: ignore[no-untyped-def]
    """Return a function giving a client logged in with a role."""

    def for_role(role: Role) -> FlaskClient:
        client = app.test_client()
        response = log_in(client, staff[role])
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return for_role


def import_demo_customers(app: Flask, tmp_path: Path, count: int, *, seed: int = 7) -> list[int]:
    """Import ``count`` generated customers through the customer import; return their ids in order."""
    from sqlalchemy import select

    from mailer.customers.importing import CUSTOMER_COLUMNS
    from mailer.customers.models import Customer

    rows = list(generate_customers(count, seed=seed))
    path = write_csv(tmp_path / f"customers-{seed}-{count}.csv", rows, CUSTOMER_COLUMNS)
    with data(app) as session:
        report = import_customers(session, path=path, actor="test")
        assert not report.rejected
        numbers = [row["customer_no"] for row in rows]
        return list(session.scalars(select(Customer.id).where(Customer.customer_no.in_(numbers)).order_by(Customer.id)))
