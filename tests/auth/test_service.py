"""Staff users: logging in, passwords, roles, activity, languages and API tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.auth.api_tokens import ApiToken
from mailer.auth.login_sessions import login_session_is_open, open_login_session
from mailer.auth.models import Role, User
from mailer.auth.service import (
    UserError,
    WrongPasswordError,
    authenticate_api_token,
    change_password,
    create_api_token,
    create_user,
    find_user,
    list_api_tokens,
    log_in,
    revoke_api_token,
    set_password,
    set_user_active,
    set_user_locale,
    set_user_role,
    verify_password,
)

PASSWORD = "a good long password"
DAY = timedelta(hours=24)


@pytest.fixture
def admin(session: Session) -> User:
    return create_user(session, email="boss@example.com", password=PASSWORD, role=Role.ADMIN, actor="test")


@pytest.fixture
def clerk(session: Session) -> User:
    return create_user(session, email="Clerk@Example.com", password=PASSWORD, role=Role.MAILROOM, actor="test")


def _actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_passwords_are_stored_hashed(clerk: User) -> None:
    assert PASSWORD not in clerk.password_hash
    assert clerk.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_log_in_checks_the_password_and_audits_every_attempt(session: Session, clerk: User) -> None:
    assert log_in(session, email=" clerk@example.COM ", password=PASSWORD, remote_addr="10.0.0.5") is clerk
    assert clerk.last_login_at is not None
    assert log_in(session, email="clerk@example.com", password="wrong", remote_addr=None) is None
    assert log_in(session, email="nobody@example.com", password=PASSWORD, remote_addr=None) is None
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("auth.%")).order_by(AuditEntry.id)).all()
    assert [(e.action, e.object_id, e.detail.get("reason")) for e in entries] == [
        ("auth.login", str(clerk.id), None),
        ("auth.login_failed", str(clerk.id), "wrong password"),
        ("auth.login_failed", None, "unknown email"),
    ]
    assert entries[0].detail["remote_addr"] == "10.0.0.5"


def test_an_inactive_user_cannot_log_in(session: Session, admin: User, clerk: User) -> None:
    set_user_active(session, user=clerk, active=False, actor=admin)
    assert log_in(session, email=clerk.email, password=PASSWORD, remote_addr=None) is None


def test_a_password_is_changed_given_the_current_one(session: Session, clerk: User) -> None:
    key = open_login_session(session, user_id=clerk.id, max_age=DAY)
    change_password(
        session, user=clerk, current_password=PASSWORD, new_password="another long password", actor=clerk.email
    )
    assert verify_password(clerk, "another long password") and not verify_password(clerk, PASSWORD)
    assert log_in(session, email=clerk.email, password="another long password", remote_addr=None) is clerk
    # Logins opened with the old password end.
    assert not login_session_is_open(session, user_id=clerk.id, key=key, max_age=DAY)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.password_change")).one()
    assert (entry.actor, entry.object_id) == (clerk.email, str(clerk.id))
    assert "another long password" not in str(entry.detail) and PASSWORD not in str(entry.detail)


@pytest.mark.parametrize(
    ("current", "new", "error", "says"),
    [
        ("not the password", "another long password", WrongPasswordError, "not your current password"),
        (PASSWORD, PASSWORD, UserError, "must differ"),
        (PASSWORD, "short", UserError, "at least 10 characters"),
    ],
)
def test_a_password_change_is_refused_without_changing_anything(
    session: Session, clerk: User, current: str, new: str, error: type[UserError], says: str
) -> None:
    hash_before = clerk.password_hash
    key = open_login_session(session, user_id=clerk.id, max_age=DAY)
    with pytest.raises(error, match=says):
        change_password(session, user=clerk, current_password=current, new_password=new, actor=clerk.email)
    assert clerk.password_hash == hash_before
    assert login_session_is_open(session, user_id=clerk.id, key=key, max_age=DAY)
    assert "user.password_change" not in _actions(session)


def test_a_wrong_current_password_is_told_apart_from_a_weak_new_one(session: Session, clerk: User) -> None:
    # The page shows each next to its own field.
    with pytest.raises(UserError) as weak:
        change_password(session, user=clerk, current_password=PASSWORD, new_password="short", actor=clerk.email)
    assert not isinstance(weak.value, WrongPasswordError)


def test_an_administrator_sets_a_password_without_the_old_one(session: Session, admin: User, clerk: User) -> None:
    assert find_user(session, email=" CLERK@example.com ") is clerk
    assert find_user(session, email="nobody@example.com") is None
    set_password(session, user=clerk, password="a fresh long password", actor=admin.email)
    assert verify_password(clerk, "a fresh long password")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.password_set")).one()
    assert (entry.actor, entry.object_id) == (admin.email, str(clerk.id))
    with pytest.raises(UserError, match="at least 10"):
        set_password(session, user=clerk, password="short", actor=admin.email)
    assert verify_password(clerk, "a fresh long password")


def test_roles_and_activity_change_with_an_audit_row_but_never_ones_own(
    session: Session, admin: User, clerk: User
) -> None:
    set_user_role(session, user=clerk, role=Role.MARKETING, actor=admin)
    set_user_role(session, user=clerk, role=Role.MARKETING, actor=admin)  # no change, no row
    set_user_active(session, user=clerk, active=False, actor=admin)
    assert (clerk.role, clerk.is_active) == (Role.MARKETING, False)
    assert _actions(session)[-2:] == ["user.update", "user.deactivate"]
    with pytest.raises(UserError):
        set_user_role(session, user=admin, role=Role.MAILROOM, actor=admin)
    with pytest.raises(UserError):
        set_user_active(session, user=admin, active=False, actor=admin)


def test_the_language_is_kept_per_user(session: Session, clerk: User) -> None:
    set_user_locale(session, user=clerk, locale="zh", actor=clerk.email)
    assert clerk.locale == "zh"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")).one()
    assert entry.detail == {"locale": [None, "zh"]}


def test_a_tokens_use_is_written_down_at_most_once_a_minute(session: Session, admin: User, clerk: User) -> None:
    api_token, token = create_api_token(session, user=clerk, label="Scanner", actor=admin.email)
    assert authenticate_api_token(session, token=token) is clerk
    first_use = api_token.last_used_at
    assert first_use is not None

    # Used again within the minute: the row is left alone, so a scan does not have to write it.
    assert authenticate_api_token(session, token=token) is clerk
    assert api_token.last_used_at == first_use and api_token not in session.dirty

    api_token.last_used_at = first_use - timedelta(seconds=61)
    session.flush()
    assert authenticate_api_token(session, token=token) is clerk
    assert api_token.last_used_at > first_use


def test_an_api_token_is_stored_only_as_its_hash(session: Session, admin: User, clerk: User) -> None:
    api_token, token = create_api_token(session, user=clerk, label=" Scanner 1 ", actor=admin.email)
    assert len(token) >= 40
    assert api_token.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert api_token.prefix == token[:8] and api_token.label == "Scanner 1"
    stored = session.scalars(select(ApiToken)).one()
    assert token not in (stored.token_hash, stored.prefix, stored.label)


def test_a_token_authenticates_its_user_until_revoked(session: Session, admin: User, clerk: User) -> None:
    api_token, token = create_api_token(session, user=clerk, label="Scanner", actor=admin.email)
    assert api_token.last_used_at is None
    assert authenticate_api_token(session, token=token) is clerk
    assert api_token.last_used_at is not None
    assert authenticate_api_token(session, token=token + "x") is None
    assert authenticate_api_token(session, token="") is None

    set_user_active(session, user=clerk, active=False, actor=admin)
    assert authenticate_api_token(session, token=token) is None
    set_user_active(session, user=clerk, active=True, actor=admin)

    assert revoke_api_token(session, token_id=api_token.id, actor=admin.email) is api_token
    assert api_token.is_revoked
    assert authenticate_api_token(session, token=token) is None
    revoke_api_token(session, token_id=api_token.id, actor=admin.email)  # again: nothing more recorded
    assert _actions(session).count("api_token.revoke") == 1
    assert revoke_api_token(session, token_id=999_999, actor=admin.email) is None


def test_tokens_are_listed_newest_first_with_their_user(session: Session, admin: User, clerk: User) -> None:
    first, _ = create_api_token(session, user=clerk, label="one", actor=admin.email)
    second, _ = create_api_token(session, user=admin, label="two", actor=admin.email)
    tokens = list_api_tokens(session)
    assert tokens == [second, first]
    assert tokens[1].user is clerk


def test_a_token_needs_a_label(session: Session, admin: User) -> None:
    with pytest.raises(UserError):
        create_api_token(session, user=admin, label="  ", actor=admin.email)


@pytest.mark.parametrize("email", ["@", "a b@example.com", "line\nbreak@example.com", "nobody@localhost", "a@@b.c"])
def test_a_user_needs_a_real_email_address(session: Session, email: str) -> None:
    with pytest.raises(UserError, match="is not an email address"):
        create_user(session, email=email, password=PASSWORD, role=Role.MAILROOM, actor="test")


def test_an_email_address_longer_than_its_column_is_refused(session: Session) -> None:
    with pytest.raises(UserError, match="at most 254 characters"):
        create_user(session, email="a" * 250 + "@example.com", password=PASSWORD, role=Role.MAILROOM, actor="test")
