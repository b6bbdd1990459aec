"""CSRF, cookies, the login rate limits, security headers, and personal data kept out of URLs and logs."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailer.auth.models import Role
from mailer.web.extensions import limiter
from tests.factories import customer_row, write_csv
from tests.web.conftest import PASSWORD, Staff, csrf_token, log_in, post


def test_a_form_without_the_csrf_token_is_refused(client: FlaskClient, staff: dict[Role, Staff]) -> None:
    response = client.post("/login", data={"email": staff[Role.ADMIN].email, "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_a_token_from_another_session_is_refused(app: Flask, staff: dict[Role, Staff]) -> None:
    other_token = csrf_token(app.test_client())
    client = app.test_client()
    client.get("/login")
    response = client.post(
        "/login", data={"email": staff[Role.ADMIN].email, "password": PASSWORD, "csrf_token": other_token}
    )
    assert response.status_code == 400


def test_logged_in_posts_need_the_token_too(logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.ADMIN)
    assert client.post("/profile", data={"locale": "zh"}).status_code == 400
    assert client.post("/logout").status_code == 400
    assert post(client, "/profile", {"locale": "zh"}).status_code == 302


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient, staff: dict[Role, Staff]) -> None:
    response = log_in(client, staff[Role.ADMIN])
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over plain HTTP in tests; SESSION_COOKIE_SECURE=1 turns it on


def test_secure_cookies_can_be_switched_on(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from mailer import create_app

    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_pages_carry_security_headers_and_are_not_cached(logged_in) -> None:  # type: ignore[no-untyped-def]
    response = logged_in(Role.MARKETING).get("/customers")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_failed_logins_are_rate_limited(app: Flask, client: FlaskClient, staff: dict[Role, Staff]) -> None:
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    user = staff[Role.MARKETING]
    for _ in range(3):
        assert log_in(client, user, password="wrong password").status_code == 401
    assert log_in(client, user, password="wrong password").status_code == 429
    # Even the right password waits until the minute is over.
    response = log_in(client, user)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)

    limiter.reset()
    assert log_in(client, user).status_code == 302


def test_successful_logins_do_not_use_up_the_limit(app: Flask, staff: dict[Role, Staff]) -> None:
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    for _ in range(4):
        assert log_in(app.test_client(), staff[Role.MAILROOM]).status_code == 302


def _client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_failed_logins_are_limited_per_account_from_any_address(app: Flask, staff: dict[Role, Staff]) -> None:
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per minute"
    target, other = staff[Role.ADMIN], staff[Role.MARKETING]
    clients = [_client_at(app, f"198.51.100.{n}") for n in range(1, 5)]
    for client in clients[:3]:
        assert log_in(client, target, password="wrong password").status_code == 401
    # The same email however it is typed, from a fourth address, even with the right password.
    typed = Staff(id=target.id, email=f"  {target.email.upper()} ", role=target.role)
    assert log_in(clients[3], typed, password="wrong password").status_code == 429
    response = log_in(clients[3], target)
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)
    # Another account from the very same addresses is not held up.
    for client in clients:
        assert log_in(client, other).status_code == 302


def test_guesses_from_elsewhere_do_not_lock_the_owner_out_at_their_usual_address(
    app: Flask, staff: dict[Role, Staff]
) -> None:
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per minute"
    owner = staff[Role.ADMIN]
    usual = _client_at(app, "192.0.2.10")
    assert log_in(usual, owner).status_code == 302
    post(usual, "/logout")
    for n in range(3):
        assert log_in(_client_at(app, f"198.51.100.{n}"), owner, password="wrong password").status_code == 401
    assert log_in(_client_at(app, "198.51.100.9"), owner).status_code == 429
    # At the address the owner logged in from, the account's limit does not apply (the per-IP one does).
    assert log_in(_client_at(app, "192.0.2.10"), owner).status_code == 302
    app.config["LOGIN_KNOWN_ADDRESS_DAYS"] = 0
    assert log_in(_client_at(app, "192.0.2.10"), owner).status_code == 429


def test_successful_logins_do_not_count_against_the_account(app: Flask, staff: dict[Role, Staff]) -> None:
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "2 per minute"
    user = staff[Role.MAILROOM]
    for n in range(4):
        assert log_in(_client_at(app, f"203.0.113.{n}"), user).status_code == 302
    assert log_in(_client_at(app, "203.0.113.9"), user, password="wrong password").status_code == 401
    assert log_in(_client_at(app, "203.0.113.10"), user).status_code == 302


def test_the_account_limit_keeps_no_email_in_its_storage(app: Flask, staff: dict[Role, Staff]) -> None:
    user = staff[Role.ADMIN]
    assert log_in(app.test_client(), user, password="wrong password").status_code == 401
    keys = " ".join(str(key) for key in limiter.storage.storage)  # type: ignore[attr-defined]
    assert "/account/" in keys  # the account's counter is there...
    assert user.email not in keys and user.email.split("@")[0] not in keys  # ...under no trace of the email
    assert hashlib.sha256(user.email.encode()).hexdigest() not in keys


def test_the_rate_limit_can_be_switched_off(database_url: str, connection, staff: dict[Role, Staff]) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import sessionmaker

    from mailer import create_app

    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
        "RATELIMIT_ENABLED": False, "LOGIN_RATE_LIMIT": "1 per minute", "LOGIN_ACCOUNT_RATE_LIMIT": "1 per minute",
    })
    state = app.extensions["mailer.db"]
    state.engine.dispose()
    state.sessionmaker = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    client = app.test_client()
    for _ in range(3):
        assert log_in(client, staff[Role.MARKETING], password="wrong password").status_code == 401


def test_no_customer_data_in_urls_or_log_lines(
    app: Flask, logged_in, tmp_path: Path, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.DEBUG)
    client = logged_in(Role.MARKETING)
    upload = write_csv(tmp_path / "people.csv", [customer_row(name="Zebulon Quist", email="zq@example.com")])
    with upload.open("rb") as handle:
        response = post(client, "/imports", {"kind": "customers", "file": (handle, "people.csv")})
    assert response.status_code == 200

    response = post(client, "/customers/search", {"q": "Zebulon"})
    assert response.status_code == 302
    assert "Zebulon" not in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "Zebulon Quist" in page
    links = [part.split('"')[0] for part in page.split('href="')[1:]]
    customer_links = [link for link in links if link.startswith("/customers/")]
    assert customer_links and not any("Zebulon" in link or "C002" in link for link in links)
    assert client.get(customer_links[0]).status_code == 200

    for secret in ("Zebulon", "Quist", "zq@example.com", "Oak Street", "62704"):
        assert secret not in caplog.text


def test_a_nul_character_in_a_query_or_form_is_refused_and_nothing_is_kept(logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MARKETING)
    assert client.get("/customers?region=%00").status_code == 400
    assert client.get("/customers?%00=x").status_code == 400
    assert post(client, "/customers/search", {"q": "C\x00"}).status_code == 400
    assert post(client, "/batches/new", {"campaign": "x\x00"}).status_code == 400
    # The refused search was not kept: the list still answers.
    assert client.get("/customers").status_code == 200
    assert client.get("/customers?region=IL").status_code == 200


def test_a_nul_character_on_the_public_address_page_is_refused(client: FlaskClient) -> None:
    assert client.post("/u/0000-AAAAAAAAAA", data={"line1": "Oak\x00"}).status_code == 400


@pytest.mark.parametrize(("proxies", "seen"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_the_clients_address_is_taken_from_a_trusted_proxy_only(
    database_url: str, connection, staff: dict[Role, Staff], proxies: int, seen: str  # type: ignore[no-untyped-def]
) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import sessionmaker

    from mailer import create_app
    from mailer.audit.models import AuditEntry

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "TRUSTED_PROXIES": proxies})
    state = app.extensions["mailer.db"]
    state.engine.dispose()
    state.sessionmaker = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    client = app.test_client()
    user = staff[Role.MARKETING]
    response = client.post(
        "/login", data={"email": user.email, "password": user.password, "csrf_token": csrf_token(client)},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert response.status_code == 302
    with app.app_context():
        login = state.sessionmaker().scalar(select(AuditEntry).where(AuditEntry.action == "auth.login"))
    assert login is not None and login.detail["remote_addr"] == seen
