"""Staff users and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mailer.column_types import CreatedAt, IntPK
from mailer.db import Base


class Role(StrEnum):
    """What a staff user may see and do."""

    ADMIN = "admin"
    MARKETING = "marketing"
    MAILROOM = "mailroom"


class User(Base):
    """A staff member who logs in."""

    __tablename__ = "users"

    id: Mapped[IntPK]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role]
    is_active: Mapped[bool] = mapped_column(default=True)
    # The language the staff member chose for the web pages; None follows the browser.
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[CreatedAt]
    last_login_at: Mapped[datetime | None]

    # What a login session asks of its user (Flask-Login's protocol); is_active is the column above.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """Return the id a login session keeps (which login it is, the server keeps: login_sessions)."""
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"
