"""Who looked at whom: the audit rows of reading personal data, apart from those of changing it.

Opening a customer's page, searching the customer list, and every export or download of personal
data write an audit row; admins read them here by user and by customer.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.pagination import DEFAULT_PAGE_SIZE, Page, keyset_page

# Actions that read personal data: a customer's page, a search, a copy, an export, a download, a backup.
LOOK_ACTIONS = (
    "customer.view", "customer.search", "customer.export", "retention.export", "batch.download", "database.backup",
)


def list_looks(
    session: Session,
    *,
    actor: str | None = None,
    customer_no: str | None = None,
    after: int | None = None,
    before: int | None = None,
    size: int = DEFAULT_PAGE_SIZE,
) -> Page[AuditEntry]:
    """Return a page of who looked at personal data, newest first, optionally of one user or one customer."""
    query = select(AuditEntry).where(AuditEntry.action.in_(LOOK_ACTIONS))
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if customer_no:
        query = query.where(AuditEntry.object_type == "customer", AuditEntry.object_id == customer_no)
    page = keyset_page(
        session, query, key=AuditEntry.id, after=after, before=before, size=size, descending=True,
        key_of=lambda row: row[0].id,
    )
    return page.map(lambda row: row[0])


def lookers(session: Session) -> list[str]:
    """Return every user who looked at personal data, sorted."""
    return list(
        session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action.in_(LOOK_ACTIONS)).distinct().order_by(AuditEntry.actor)
        )
    )
