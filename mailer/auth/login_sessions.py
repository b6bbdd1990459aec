"""Login sessions kept on the server, so that logging out ends a session for good.

The session cookie is only signed: a copy taken before logging out would otherwise go on working.
Each login stores the hash of a random key that the cookie carries; a request counts as logged in
only while that row exists and is younger than the maximum age. Logging out deletes the row; a
password change deletes the user's other rows; deactivating a user deletes all of them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mailer.column_types import CreatedAt, IntPK
from mailer.db import Base, utcnow


class LoginSession(Base):
    """One logged-in browser of a staff user; only the SHA-256 hash of its key is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[IntPK]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The key is random and long, so a fast hash is enough and lets a request find its row.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[CreatedAt] = mapped_column(index=True)


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_login_session(session: Session, *, user_id: int, max_age: timedelta) -> str:
    """Start a login session for a user; return its key, for the cookie only.

    Sessions of anyone that outlived the maximum age are cleared away on the way.
    """
    session.execute(delete(LoginSession).where(LoginSession.created_at < utcnow() - max_age))
    key = secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user_id, key_hash=_hash_key(key)))
    session.flush()
    return key


def login_session_is_open(session: Session, *, user_id: int, key: str, max_age: timedelta) -> bool:
    """Tell whether this key names an open login session of this user, younger than the maximum age."""
    return (
        session.scalar(
            select(LoginSession.id).where(
                LoginSession.key_hash == _hash_key(key),
                LoginSession.user_id == user_id,
                LoginSession.created_at >= utcnow() - max_age,
            )
        )
        is not None
    )


def close_login_session(session: Session, *, key: str) -> None:
    """End the login session this key names (logging out)."""
    session.execute(delete(LoginSession).where(LoginSession.key_hash == _hash_key(key)))


def close_login_sessions(session: Session, *, user_id: int, keep: str | None = None) -> None:
    """End every login session of a user, but the one whose key is ``keep``."""
    statement = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(LoginSession.key_hash != _hash_key(keep))
    session.execute(statement)
