"""Staff users: creating them, logging in, roles, languages and API tokens."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from mailer.audit.models import AuditEntry
from mailer.audit.service import record
from mailer.auth.api_tokens import ApiToken
from mailer.auth.login_sessions import close_login_sessions
from mailer.auth.models import Role, User
from mailer.db import utcnow
from mailer.messages import Message, shortened

MIN_PASSWORD_LENGTH = 10
# Someone's mailbox at a domain: no spaces or line breaks, one @, a dot in the domain.
STAFF_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_MAX_LENGTH = 254  # the users.email column, and the most an address can have


class UserError(ValueError):
    """A user cannot be created as asked."""


class WrongPasswordError(UserError):
    """The current password given to change it is not the user's."""


def create_user(session: Session, *, email: str, password: str, role: Role, actor: str) -> User:
    """Add a staff user with a hashed password."""
    email = email.strip().lower()
    if not STAFF_EMAIL.fullmatch(email):
        raise UserError(Message("%(email)s is not an email address", email=repr(shortened(email))))
    if len(email) > EMAIL_MAX_LENGTH:
        raise UserError(Message("an email address has at most %(count)s characters", count=EMAIL_MAX_LENGTH))
    _check_new_password(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError(Message("a user %(email)s already exists", email=email))
    user = User(email=email, password_hash=generate_password_hash(password), role=role)
    session.add(user)
    session.flush()
    record(session, actor=actor, action="user.create", object_type="user", object_id=str(user.id),
           detail={"role": role.value})
    return user


def verify_password(user: User, password: str) -> bool:
    """Tell whether the password is the user's."""
    return check_password_hash(user.password_hash, password)


def generate_password() -> str:
    """Return a random password that is easy to copy."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class AdminAccount:
    """The user ``ensure_admin`` found or created, and the password it generated, if it did."""

    user: User
    created: bool
    generated_password: str | None = None


def ensure_admin(session: Session, *, email: str, password: str | None, actor: str) -> AdminAccount:
    """Return the user with this email, creating an admin if there is none (with a generated password if
    none is given). An existing user is left exactly as it is."""
    existing = session.scalar(select(User).where(User.email == email.strip().lower()))
    if existing is not None:
        return AdminAccount(existing, created=False)
    generated = None
    if password is None:
        password = generated = generate_password()
    user = create_user(session, email=email, password=password, role=Role.ADMIN, actor=actor)
    return AdminAccount(user, created=True, generated_password=generated)


# --- logging in -------------------------------------------------------------------------------


@functools.cache
def _dummy_password_hash() -> str:
    # Checked when the email is unknown, so a wrong email takes as long as a wrong password.
    return generate_password_hash(secrets.token_urlsafe(16))


def get_user(session: Session, *, user_id: int) -> User | None:
    """Return the user with this id, or None."""
    return session.get(User, user_id)


def log_in(session: Session, *, email: str, password: str, remote_addr: str | None) -> User | None:
    """Return the active user these credentials name, or None; audit the attempt either way."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_dummy_password_hash(), password)
        reason = "unknown email"
    elif not verify_password(user, password):
        reason = "wrong password"
    elif not user.is_active:
        reason = "inactive user"
    else:
        user.last_login_at = utcnow()
        record(session, actor=user.email, action="auth.login", object_type="user",
               object_id=str(user.id), detail={"remote_addr": remote_addr})
        session.flush()
        return user
    # The typed email is not kept: people type passwords into the email field.
    record(session, actor="anonymous", action="auth.login_failed", object_type="user",
           object_id=None if user is None else str(user.id),
           detail={"reason": reason, "remote_addr": remote_addr})
    session.flush()
    return None


def logged_in_lately_from(session: Session, *, email: str, remote_addr: str | None, within: timedelta) -> bool:
    """Tell whether the user with this email logged in from this address within the given time."""
    if not remote_addr or within <= timedelta(0):
        return False
    email = email.strip().lower()
    found = session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.action == "auth.login",
            AuditEntry.actor == email,
            AuditEntry.created_at >= utcnow() - within,
            AuditEntry.detail["remote_addr"].as_string() == remote_addr,
        )
        .limit(1)
    )
    return found is not None


def log_out(session: Session, *, user: User) -> None:
    """Audit that a user logged out."""
    record(session, actor=user.email, action="auth.logout", object_type="user", object_id=str(user.id))
    session.flush()


# --- managing users ---------------------------------------------------------------------------


def list_users(session: Session) -> list[User]:
    """Return every staff user, by email."""
    return list(session.scalars(select(User).order_by(User.email)))


def set_user_locale(session: Session, *, user: User, locale: str | None, actor: str) -> None:
    """Set the language a user's pages speak; None follows the browser."""
    if user.locale == locale:
        return
    record(session, actor=actor, action="user.update", object_type="user", object_id=str(user.id),
           detail={"locale": [user.locale, locale]})
    user.locale = locale
    session.flush()


def set_user_role(session: Session, *, user: User, role: Role, actor: User) -> None:
    """Change a user's role; nobody changes their own."""
    if user.id == actor.id:
        raise UserError(Message("you cannot change your own role"))
    if user.role == role:
        return
    record(session, actor=actor.email, action="user.update", object_type="user", object_id=str(user.id),
           detail={"role": [user.role.value, role.value]})
    user.role = role
    session.flush()


def set_user_active(session: Session, *, user: User, active: bool, actor: User) -> None:
    """Deactivate a user (they can no longer log in, their tokens stop working) or reactivate them."""
    if user.id == actor.id:
        raise UserError(Message("you cannot deactivate yourself"))
    if user.is_active == active:
        return
    record(session, actor=actor.email, action="user.activate" if active else "user.deactivate",
           object_type="user", object_id=str(user.id))
    user.is_active = active
    if not active:
        close_login_sessions(session, user_id=user.id)
    session.flush()


# --- passwords --------------------------------------------------------------------------------


def find_user(session: Session, *, email: str) -> User | None:
    """Return the user with this email (case and surrounding spaces ignored), or None."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            Message("the password must have at least %(count)s characters", count=MIN_PASSWORD_LENGTH)
        )


def _replace_password(session: Session, user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password)
    # Whoever is logged in with the old password is logged out (the caller logs the user in again).
    close_login_sessions(session, user_id=user.id)


def change_password(
    session: Session, *, user: User, current_password: str, new_password: str, actor: str
) -> None:
    """Replace the user's password with a new one, given the current one."""
    if not verify_password(user, current_password):
        raise WrongPasswordError(Message("this is not your current password"))
    if new_password == current_password:
        raise UserError(Message("the new password must differ from the current one"))
    _check_new_password(new_password)
    _replace_password(session, user, new_password)
    record(session, actor=actor, action="user.password_change", object_type="user", object_id=str(user.id))
    session.flush()


def set_password(session: Session, *, user: User, password: str, actor: str) -> None:
    """Give a user a new password without the current one: an administrator's reset."""
    _check_new_password(password)
    _replace_password(session, user, password)
    record(session, actor=actor, action="user.password_set", object_type="user", object_id=str(user.id))
    session.flush()


# --- API tokens -------------------------------------------------------------------------------

TOKEN_PREFIX_LENGTH = 8
# How often a token's last use is written down.
TOKEN_USE_NOTED_EVERY = timedelta(minutes=1)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, *, user: User, label: str, actor: str) -> tuple[ApiToken, str]:
    """Issue a token acting for ``user``; return the row and the token, which is never stored."""
    label = label.strip()
    if not label:
        raise UserError(Message("a token needs a label saying where it is used"))
    token = secrets.token_urlsafe(32)
    api_token = ApiToken(
        user_id=user.id, label=label[:100], token_hash=_hash_token(token), prefix=token[:TOKEN_PREFIX_LENGTH]
    )
    session.add(api_token)
    session.flush()
    record(session, actor=actor, action="api_token.create", object_type="api_token",
           object_id=str(api_token.id), detail={"user_id": user.id, "label": api_token.label})
    return api_token, token


def list_api_tokens(session: Session) -> list[ApiToken]:
    """Return every API token with its user, newest first."""
    return list(
        session.scalars(select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.id.desc()))
    )


def revoke_api_token(session: Session, *, token_id: int, actor: str) -> ApiToken | None:
    """Revoke a token for good; return it, or None if there is no such token."""
    api_token = session.get(ApiToken, token_id)
    if api_token is None or api_token.revoked_at is not None:
        return api_token
    api_token.revoked_at = utcnow()
    record(session, actor=actor, action="api_token.revoke", object_type="api_token",
           object_id=str(api_token.id))
    session.flush()
    return api_token


def authenticate_api_token(session: Session, *, token: str) -> User | None:
    """Return the active user a live token acts for, noting when it was used (to the minute); None otherwise."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _hash_token(token), ApiToken.revoked_at.is_(None), User.is_active)
    ).one_or_none()
    if row is None:
        return None
    api_token, user = row
    now = utcnow()
    # Noted to the minute, so that a station scanning all day does not make every scan write this row.
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOKEN_USE_NOTED_EVERY:
        api_token.last_used_at = now
        session.flush()
    return user
