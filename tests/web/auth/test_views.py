"""Logging in and out, audit rows for each attempt, and the profile's language and password."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from mailer.audit.models import AuditEntry
from mailer.auth.login_sessions import LoginSession
from mailer.auth.models import Role, User
from mailer.auth.service import set_user_active
from mailer.db import utcnow
from tests.web.conftest import PASSWORD, Staff, data, log_in, post


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
    with data(app) as session:
        assert session.scalar(select(func.count()).where(LoginSession.user_id == user.id)) == 0
    assert log_in(client, user).status_code == 401
    assert _audit(app, "auth.login_failed")[-1].detail["reason"] == "inactive user"


def test_logging_out_ends_the_session_and_is_audited(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MAILROOM)
    response = post(client, "/logout")
    assert response.status_code == 302 and response.location.endswith("/login")
    assert client.get("/profile").status_code == 302
    assert len(_audit(app, "auth.logout")) == 1


def _copy_of_the_cookie(app: Flask, client: FlaskClient) -> FlaskClient:
    """Return another client carrying the same session cookie, as a stolen copy would."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("session", cookie.value)
    return copy


def test_a_copy_of_the_cookie_stops_working_once_its_session_logged_out(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MARKETING)
    other_browser = logged_in(Role.MARKETING)
    assert _copy_of_the_cookie(app, client).get("/profile").status_code == 200

    post(client, "/logout")

    assert _copy_of_the_cookie(app, client).get("/profile").status_code == 302
    stale = app.test_client()
    stale.set_cookie("session", other_browser.get_cookie("session").value)  # type: ignore[union-attr]
    assert stale.get("/profile").status_code == 200  # the user's other login goes on
    with data(app) as session:
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 1


def test_a_login_ends_after_its_maximum_age(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MAILROOM)
    assert client.get("/profile").status_code == 200
    max_age = timedelta(hours=app.config["LOGIN_SESSION_MAX_AGE_HOURS"])
    with data(app) as session:
        session.execute(update(LoginSession).values(created_at=utcnow() - max_age - timedelta(minutes=1)))
    ended = client.get("/profile")
    assert ended.status_code == 302 and "/login" in ended.location
    # The next login anywhere clears the outlived row away.
    logged_in(Role.MARKETING)
    with data(app) as session:
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 1


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


NEW_PASSWORD = "a brand new passphrase"


def _change_password(client: FlaskClient, current: str, new: str, repeat: str | None = None) -> TestResponse:
    return post(client, "/profile/password", {
        "current_password": current, "new_password": new,
        "repeat_password": new if repeat is None else repeat,
    })


def test_the_profile_changes_the_password_and_keeps_the_user_logged_in(
    app: Flask, logged_in, staff: dict[Role, Staff]  # type: ignore[no-untyped-def]
) -> None:
    client = logged_in(Role.MAILROOM)
    assert 'autocomplete="current-password"' in client.get("/profile").get_data(as_text=True)
    response = _change_password(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302 and response.location.endswith("/profile")
    page = client.get("/profile")
    assert page.status_code == 200 and "Your password is changed." in page.get_data(as_text=True)
    (entry,) = _audit(app, "user.password_change")
    assert entry.object_id == str(staff[Role.MAILROOM].id)
    assert NEW_PASSWORD not in str(entry.detail) and PASSWORD not in str(entry.detail)

    assert log_in(app.test_client(), staff[Role.MAILROOM]).status_code == 401
    assert log_in(app.test_client(), staff[Role.MAILROOM], password=NEW_PASSWORD).status_code == 302


def test_a_changed_password_ends_the_users_other_sessions(app: Flask, staff: dict[Role, Staff]) -> None:
    user = staff[Role.MARKETING]
    here, elsewhere, colleague = app.test_client(), app.test_client(), app.test_client()
    for client in (here, elsewhere):
        assert log_in(client, user).status_code == 302
    assert log_in(colleague, staff[Role.MAILROOM]).status_code == 302
    assert _change_password(here, PASSWORD, NEW_PASSWORD).status_code == 302

    assert here.get("/profile").status_code == 200
    ended = elsewhere.get("/profile")
    assert ended.status_code == 302 and "/login" in ended.location
    assert colleague.get("/profile").status_code == 200
    with data(app) as session:
        assert session.scalar(select(func.count()).where(LoginSession.user_id == user.id)) == 1
    # Logging in again with the new password works as before.
    assert log_in(elsewhere, user, password=NEW_PASSWORD).status_code == 302
    assert elsewhere.get("/profile").status_code == 200


def test_a_wrong_current_password_changes_nothing(app: Flask, logged_in, staff: dict[Role, Staff]) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MARKETING)
    response = _change_password(client, "not the password", NEW_PASSWORD)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    current_field = page.split('name="current_password"')[1].split('name="new_password"')[0]
    assert "this is not your current password" in current_field
    assert NEW_PASSWORD not in page  # password fields are never filled back in
    assert _audit(app, "user.password_change") == []
    assert log_in(app.test_client(), staff[Role.MARKETING]).status_code == 302
    assert client.get("/profile").status_code == 200  # still logged in


def test_a_weak_or_mistyped_new_password_is_refused(app: Flask, logged_in, staff: dict[Role, Staff]) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MARKETING)
    for new, repeat, says in (
        ("short", None, "the password must have at least 10 characters"),
        (PASSWORD, None, "the new password must differ from the current one"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two new passwords are not the same."),
    ):
        response = _change_password(client, PASSWORD, new, repeat)
        assert response.status_code == 400
        assert says in response.get_data(as_text=True)
    assert _audit(app, "user.password_change") == []
    assert log_in(app.test_client(), staff[Role.MARKETING]).status_code == 302


def test_the_password_form_speaks_chinese(logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MAILROOM)
    post(client, "/profile", {"locale": "zh"})
    response = _change_password(client, PASSWORD, "short")
    assert response.status_code == 400 and '<html lang="zh-Hans">' in response.get_data(as_text=True)


def test_password_guesses_on_the_profile_are_rate_limited(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "2 per minute"
    client = logged_in(Role.MARKETING)
    for _ in range(2):
        assert _change_password(client, "a guess at it", NEW_PASSWORD).status_code == 400
    response = _change_password(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)


def test_strangers_cannot_change_a_password(client: FlaskClient) -> None:
    response = client.post("/profile/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "repeat_password": NEW_PASSWORD,
    })
    assert response.status_code == 302 and response.location.endswith("/login")
