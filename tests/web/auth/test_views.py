"""Logging in and out, audit rows for each attempt, and the profile's language."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.audit.models import AuditEntry
from mailer.auth.models import Role, User
from mailer.auth.service import set_user_active
from tests.web.conftest import Staff, data, log_in, post


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with data(app) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_logging_in_records_an_audit_row_and_the_time(
    app: Flask, client: FlaskClient, staff: dict[Role, Staff]
) -> None:
    user = staff[Role.MARKETING]
    response = log_in(client, user)
    assert response.status_code == 302
    (entry,) = _audit(app, "auth.login")
    assert (entry.actor, entry.object_type, entry.object_id) == (user.email, "user", str(user.id))
    with data(app) as session:
        assert session.get(User, user.id).last_login_at is not None  # type: ignore[union-attr]
    assert client.get("/profile").status_code == 200


def test_a_wrong_password_is_refused_and_audited(app: Flask, client: FlaskClient, staff: dict[Role, Staff]) -> None:
    user = staff[Role.MARKETING]
    response = log_in(client, user, password="not the password")
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)
    (entry,) = _audit(app, "auth.login_failed")
    assert entry.actor == "anonymous"
    assert entry.object_id == str(user.id)
    assert entry.detail["reason"] == "wrong password"
    assert client.get("/profile").status_code == 302


def test_an_unknown_email_is_audited_without_what_was_typed(
    app: Flask, client: FlaskClient, staff: dict[Role, Staff]
) -> None:
    typed = Staff(id=0, email="my-secret-password@nowhere.example", role=Role.ADMIN)
    assert log_in(client, typed).status_code == 401
    (entry,) = _audit(app, "auth.login_failed")
    assert entry.object_id is None
    assert entry.detail["reason"] == "unknown email"
    assert "my-secret-password" not in str(entry.detail) + entry.actor


def test_a_deactivated_user_cannot_log_in_and_is_logged_out(
    app: Flask, client: FlaskClient, staff: dict[Role, Staff]
) -> None:
    user = staff[Role.MARKETING]
    assert log_in(client, user).status_code == 302
    with data(app) as session:
        admin = session.get(User, staff[Role.ADMIN].id)
        set_user_active(session, user=session.get(User, user.id), active=False, actor=admin)  # type: ignore[arg-type]
    assert client.get("/customers").location.endswith("/login")
    assert log_in(client, user).status_code == 401
    assert _audit(app, "auth.login_failed")[-1].detail["reason"] == "inactive user"


def test_logging_out_ends_the_session_and_is_audited(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MAILROOM)
    response = post(client, "/logout")
    assert response.status_code == 302 and response.location.endswith("/login")
    assert client.get("/profile").status_code == 302
    assert len(_audit(app, "auth.logout")) == 1


def test_login_never_sends_to_another_site(client: FlaskClient, staff: dict[Role, Staff]) -> None:
    with client.session_transaction() as session:
        session["next_after_login"] = "//evil.example/phish"
    assert log_in(client, staff[Role.ADMIN]).location == "/"


def test_a_logged_in_user_is_sent_on_from_the_login_page(logged_in) -> None:  # type: ignore[no-untyped-def]
    assert logged_in(Role.ADMIN).get("/login").location == "/"


def test_the_profile_language_is_saved_and_audited(app: Flask, logged_in, staff: dict[Role, Staff]) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MAILROOM)
    response = post(client, "/profile", {"locale": "zh"})
    assert response.status_code == 302
    assert "个人设置已保存" in client.get("/profile").get_data(as_text=True)
    with data(app) as session:
        assert session.get(User, staff[Role.MAILROOM].id).locale == "zh"  # type: ignore[union-attr]
    (entry,) = _audit(app, "user.update")
    assert entry.detail == {"locale": [None, "zh"]}

    post(client, "/profile", {"locale": ""})
    with data(app) as session:
        assert session.get(User, staff[Role.MAILROOM].id).locale is None  # type: ignore[union-attr]


def test_an_unknown_language_is_refused(logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MAILROOM)
    response = post(client, "/profile", {"locale": "xx"})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
