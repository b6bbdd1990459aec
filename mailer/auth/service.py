"""Creating staff users."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from mailer.audit.service import record
from mailer.auth.models import Role, User

MIN_PASSWORD_LENGTH = 10


class UserError(ValueError):
    """A user cannot be created as asked."""


def create_user(session: Session, *, email: str, password: str, role: Role, actor: str) -> User:
    """Add a staff user with a hashed password."""
    email = email.strip().lower()
    if "@" not in email:
        raise UserError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError(f"a user {email} already exists")
    user = User(email=email, password_hash=generate_password_hash(password), role=role)
    session.add(user)
    session.flush()
    record(session, actor=actor, action="user.create", object_type="user", object_id=str(user.id),
           detail={"role": role.value})  # fmt: skip
    return user


def verify_password(user: User, password: str) -> bool:
    """Tell whether the password is the user's."""
    return check_password_hash(user.password_hash, password)


def generate_password() -> str:
    """Return a random password that is easy to copy."""
    return secrets.token_urlsafe(12)


def ensure_admin(
    session: Session, *, email: str, password: str | None, actor: str
) -> tuple[User, str | None]:
    """Return the admin with this email, creating it if missing; the password is returned if generated."""
    existing = session.scalar(select(User).where(User.email == email.strip().lower()))
    if existing is not None:
        return existing, None
    generated = None
    if password is None:
        password = generated = generate_password()
    return create_user(session, email=email, password=password, role=Role.ADMIN, actor=actor), generated
