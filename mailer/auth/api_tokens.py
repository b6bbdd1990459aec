"""API tokens: how scanning stations and integrations authenticate without a password."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.column_types import CreatedAt, IntPK
from mailer.db import Base

if TYPE_CHECKING:
    from mailer.auth.models import User


class ApiToken(Base):
    """A bearer token acting for a staff user; only its SHA-256 hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[IntPK]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    # The token is random and long, so a fast hash is enough and lets a request find its row.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, shown so staff can tell tokens apart; too short to be used.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[CreatedAt]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="raise_on_sql")

    @property
    def is_revoked(self) -> bool:
        """Tell whether the token was revoked."""
        return self.revoked_at is not None
