"""Login sessions on the server: opened at login, found by their key only, ended for good."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.auth.login_sessions import (
    LoginSession,
    close_login_session,
    close_login_sessions,
    login_session_is_open,
    open_login_session,
)
from mailer.auth.models import Role, User
from mailer.auth.service import create_user, set_password, set_user_active

DAY = timedelta(hours=24)


@pytest.fixture
def clerk(session: Session) -> User:
    return create_user(session, email="clerk@example.com", password="a long password", role=Role.MAILROOM, actor="t")


@pytest.fixture
def admin(session: Session) -> User:
    return create_user(session, email="admin@example.com", password="a long password", role=Role.ADMIN, actor="t")


def test_only_the_keys_hash_is_stored_and_the_key_opens_only_its_users_session(
    session: Session, clerk: User, admin: User
) -> None:
    key = open_login_session(session, user_id=clerk.id, max_age=DAY)
    (stored,) = session.scalars(select(LoginSession))
    assert key not in stored.key_hash and len(stored.key_hash) == 64
    assert login_session_is_open(session, user_id=clerk.id, key=key, max_age=DAY)
    assert not login_session_is_open(session, user_id=admin.id, key=key, max_age=DAY)
    assert not login_session_is_open(session, user_id=clerk.id, key=key + "x", max_age=DAY)
    assert not login_session_is_open(session, user_id=clerk.id, key=key, max_age=timedelta(0))


def test_closing_ends_one_session_or_all_but_one(session: Session, clerk: User) -> None:
    first, second, third = (open_login_session(session, user_id=clerk.id, max_age=DAY) for _ in range(3))
    close_login_session(session, key=first)
    assert not login_session_is_open(session, user_id=clerk.id, key=first, max_age=DAY)
    close_login_sessions(session, user_id=clerk.id, keep=third)
    assert [login_session_is_open(session, user_id=clerk.id, key=k, max_age=DAY) for k in (second, third)] == [
        False, True,
    ]


def test_a_new_password_or_deactivation_ends_every_session(session: Session, clerk: User, admin: User) -> None:
    key = open_login_session(session, user_id=clerk.id, max_age=DAY)
    set_password(session, user=clerk, password="another long password", actor="t")
    assert not login_session_is_open(session, user_id=clerk.id, key=key, max_age=DAY)

    key = open_login_session(session, user_id=clerk.id, max_age=DAY)
    set_user_active(session, user=clerk, active=False, actor=admin)
    assert not login_session_is_open(session, user_id=clerk.id, key=key, max_age=DAY)
