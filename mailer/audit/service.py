"""Writing to the audit log and reading it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.db import execute_rows, utcnow
from mailer.pagination import DEFAULT_PAGE_SIZE, Page, keyset_page


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


def record_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Write many audit entries in one executemany, for bulk work (each a dict of record's fields)."""
    if entries:
        now = utcnow()
        # A Core statement on the table: the ORM's bulk path costs more than the database here.
        execute_rows(
            session,
            insert(AuditEntry.__table__),
            [{"object_id": None, "detail": {}, "created_at": now, **entry} for entry in entries],
        )


def list_entries(
    session: Session,
    *,
    action: str | None = None,
    after: int | None = None,
    before: int | None = None,
    size: int = DEFAULT_PAGE_SIZE,
) -> Page[AuditEntry]:
    """Return a page of the audit log, newest first, optionally of one action only."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    page = keyset_page(
        session, query, key=AuditEntry.id, after=after, before=before, size=size, descending=True,
        key_of=lambda row: row[0].id,
    )
    return page.map(lambda row: row[0])


def audit_actions(session: Session) -> list[str]:
    """Return every action the audit log holds, sorted."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
