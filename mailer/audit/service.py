"""Writing to the audit log and reading it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.db import utcnow
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
        session.execute(
            insert(AuditEntry.__table__),
            [{"object_id": None, "detail": {}, "created_at": now, **entry} for entry in entries],
        )


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What the audit log is narrowed to; None leaves a filter off."""

    action: str | None = None
    actor: str | None = None
    # The object an entry is about, as stored: ("customer", "C001234").
    object_type: str | None = None
    object_id: str | None = None
    # Entries made on or after ``since`` and before ``until`` (aware datetimes).
    since: datetime | None = None
    until: datetime | None = None


def list_entries(
    session: Session,
    *,
    action: str | None = None,
    filters: AuditFilters | None = None,
    after: int | None = None,
    before: int | None = None,
    size: int = DEFAULT_PAGE_SIZE,
) -> Page[AuditEntry]:
    """Return a page of the audit log, newest first, narrowed by the filters (or one action only)."""
    filters = filters or AuditFilters(action=action)
    query = select(AuditEntry)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.actor:
        query = query.where(AuditEntry.actor == filters.actor)
    if filters.object_type:
        query = query.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEntry.object_id == filters.object_id)
    if filters.since:
        query = query.where(AuditEntry.created_at >= filters.since)
    if filters.until:
        query = query.where(AuditEntry.created_at < filters.until)
    page = keyset_page(
        session, query, key=AuditEntry.id, after=after, before=before, size=size, descending=True,
        key_of=lambda row: row[0].id,
    )
    return page.map(lambda row: row[0])


def audit_actors(session: Session) -> list[str]:
    """Return everyone the audit log names as an actor, sorted."""
    return list(session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)))


def audit_actions(session: Session) -> list[str]:
    """Return every action the audit log holds, sorted."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
