"""``python -m mailer users create`` and ``users set-password``."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.auth.login_sessions import login_session_is_open, open_login_session
from mailer.auth.models import Role, User
from mailer.auth.service import create_user, verify_password

DAY = timedelta(hours=24)


def _user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def test_create_a_user_with_a_generated_password(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(args=["users", "create", "Mail.Room@example.com", "--role", "mailroom"])
    assert result.exit_code == 0, result.output
    assert "Created mailroom user mail.room@example.com" in result.output
    password = result.output.split("Password: ")[1].strip()
    user = _user(session, "mail.room@example.com")
    assert user is not None and user.role is Role.MAILROOM
    assert verify_password(user, password)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")).one()
    assert entry.actor.startswith("cli:")


def test_create_a_user_with_a_given_password(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(
        args=["users", "create", "m@example.com", "--role", "marketing", "--password", "chosen password"]
    )
    assert result.exit_code == 0, result.output
    assert "Password:" not in result.output
    user = _user(session, "m@example.com")
    assert user is not None and verify_password(user, "chosen password")


def test_a_user_that_cannot_be_created_exits_2(runner: FlaskCliRunner, session: Session) -> None:
    assert runner.invoke(args=["users", "create", "a@example.com", "--role", "admin"]).exit_code == 0
    again = runner.invoke(args=["users", "create", "a@example.com", "--role", "admin"])
    assert again.exit_code == 2 and "already exists" in again.output
    short = runner.invoke(args=["users", "create", "b@example.com", "--role", "admin", "--password", "short"])
    assert short.exit_code == 2 and "at least 10" in short.output
    assert _user(session, "b@example.com") is None


def test_the_role_must_be_one_of_ours(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["users", "create", "c@example.com", "--role", "emperor"])
    assert result.exit_code == 2 and "Invalid value for '--role'" in result.output


def test_set_a_generated_password(runner: FlaskCliRunner, session: Session) -> None:
    user = create_user(session, email="locked@example.com", password="forgotten password", role=Role.ADMIN,
                       actor="test")
    key = open_login_session(session, user_id=user.id, max_age=DAY)
    result = runner.invoke(args=["users", "set-password", " Locked@Example.com"])
    assert result.exit_code == 0, result.output
    assert "New password set for locked@example.com" in result.output
    password = result.output.split("Password: ")[1].strip()
    assert verify_password(user, password) and not verify_password(user, "forgotten password")
    # Whoever was logged in with the old password is logged out.
    assert not login_session_is_open(session, user_id=user.id, key=key, max_age=DAY)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.password_set")).one()
    assert entry.actor.startswith("cli:") and entry.object_id == str(user.id)


def test_set_a_given_password(runner: FlaskCliRunner, session: Session) -> None:
    user = create_user(session, email="l@example.com", password="forgotten password", role=Role.MAILROOM,
                       actor="test")
    result = runner.invoke(args=["users", "set-password", "l@example.com", "--password", "chosen password"])
    assert result.exit_code == 0, result.output
    assert "Password:" not in result.output
    assert verify_password(user, "chosen password")


def test_a_password_that_cannot_be_set_exits_2(runner: FlaskCliRunner, session: Session) -> None:
    user = create_user(session, email="l@example.com", password="forgotten password", role=Role.MAILROOM,
                       actor="test")
    session.commit()  # the command runs in this session and rolls it back when it refuses
    nobody = runner.invoke(args=["users", "set-password", "nobody@example.com"])
    assert nobody.exit_code == 2 and "there is no user nobody@example.com" in nobody.output
    short = runner.invoke(args=["users", "set-password", "l@example.com", "--password", "short"])
    assert short.exit_code == 2 and "at least 10" in short.output and "password is unchanged" in short.output
    assert verify_password(user, "forgotten password")
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "user.password_set")).all() == []
