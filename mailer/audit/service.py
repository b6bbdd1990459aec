"""Writing to the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session."""
    entry = AuditEntry(
        actor=actor, action=action, object_type=object_type, object_id=object_id, detail=detail or {}
    )
    session.add(entry)
    return entry
