"""Checking stored addresses against the reference data again: after a migration or a reference update."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressVerification
from mailer.addresses.verification import verify_address
from mailer.db import update_by_id
from mailer.messages import stored
from mailer.reference.store import reference_in_use

CHUNK_SIZE = 5000
_FIELDS = (Address.line1, Address.line2, Address.city, Address.region, Address.postal_code, Address.country)


def reverify_addresses(
    session: Session, *, only_unchecked: bool, progress: Callable[[int, int], None] | None = None
) -> Counter[AddressVerification]:
    """Verify current addresses (only those never checked, unless told all); return how many got each outcome."""
    reference = reference_in_use()
    query = select(Address.id).where(Address.is_current).order_by(Address.id)
    if only_unchecked:
        query = query.where(Address.verification_reason.is_(None))
    ids = list(session.scalars(query))
    outcomes: Counter[AddressVerification] = Counter()
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start : start + CHUNK_SIZE]
        rows = session.execute(select(Address.id, *_FIELDS).where(Address.id.in_(chunk))).all()
        updates = []
        for row in rows:
            found = verify_address(dict(row._mapping), reference)
            outcomes[found.status] += 1
            updates.append({
                "id": row.id, "verification": found.status, "verification_reason": found.reason,
                "verification_phrase": stored(found.reason),
                "verification_suggestion": found.suggestion or None,
            })
        update_by_id(session, Address, updates)
        if progress:
            progress(len(chunk), len(ids))
    session.flush()
    return outcomes
