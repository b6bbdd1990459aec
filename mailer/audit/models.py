"""The audit log entry model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mailer.column_types import CreatedAt, IntPK
from mailer.db import Base


class AuditEntry(Base):
    """A record of one action on personal data or the system: actor, action, object, time."""

    __tablename__ = "audit_log"
    # The audit page lists what happened to one customer (or batch, user) by its stored number.
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[IntPK]
    actor: Mapped[str] = mapped_column(String(254), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    # Counts, field names and the like; never a customer's address.
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[CreatedAt] = mapped_column(index=True)
