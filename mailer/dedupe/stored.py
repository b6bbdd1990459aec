"""Stored duplicate searches: a search run once (a command or a queued job) and read by the review page.

``store_search`` runs the search and keeps its candidate pairs (with their waterfalls) as the
latest run, replacing the previous one; ``stored_pairs`` reads a page of them, leaving out pairs
whose customers were merged since or that a person marked as not duplicates since.

Services flush and never commit: the command, view or job that calls them owns the transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, select
from sqlalchemy.orm import Session, aliased

from mailer.customers.models import Customer, CustomerStatus
from mailer.db import utcnow
from mailer.dedupe.models import CandidatePair, DedupeRun, DismissedPair
from mailer.dedupe.scoring import DEFAULT_THRESHOLD
from mailer.dedupe.search import ProgressCallback
from mailer.dedupe.service import DuplicatePair, find_duplicates
from mailer.pagination import DEFAULT_PAGE_SIZE, Page, keyset_page

logger = logging.getLogger(__name__)
_INSERT_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class StoredPage:
    """One page of a stored run's pairs, how many pairs the run holds in all (still open), and how
    many of its pairs are left out because a person marked them as not duplicates."""

    run: DedupeRun
    page: Page[DuplicatePair]
    total: int
    dismissed: int = 0


def store_search(
    session: Session, *, actor: str, threshold: float = DEFAULT_THRESHOLD, progress: ProgressCallback | None = None
) -> DedupeRun:
    """Search every customer and store the pairs found as the latest run (the previous one is dropped)."""
    run = DedupeRun(threshold=threshold, actor=actor)
    session.add(run)
    session.flush()
    search = find_duplicates(session, threshold=threshold, progress=progress)
    numbers = {no for pair in search.pairs for no in (pair.customer_no_a, pair.customer_no_b)}
    ids = {
        customer_no: customer_id
        for customer_no, customer_id in session.execute(
            select(Customer.customer_no, Customer.id).where(Customer.customer_no.in_(numbers))
        )
    }
    rows = []
    for pair in search.pairs:
        first_id, second_id = sorted((ids[pair.customer_no_a], ids[pair.customer_no_b]))
        rows.append({
            "run_id": run.id, "first_id": first_id, "second_id": second_id,
            "match_probability": pair.match_probability, "score": pair.score, "name_score": pair.name_score,
            "address_score": pair.address_score, "cluster": pair.cluster, "waterfall": list(pair.waterfall),
        })
    for start in range(0, len(rows), _INSERT_BATCH):
        session.execute(insert(CandidatePair), rows[start : start + _INSERT_BATCH])
    # Only the latest run is read: older ones and their pairs go.
    older = select(DedupeRun.id).where(DedupeRun.id != run.id).scalar_subquery()
    session.execute(delete(CandidatePair).where(CandidatePair.run_id.in_(older)))
    session.execute(delete(DedupeRun).where(DedupeRun.id != run.id))
    run.customers = search.stats.customers
    run.pairs_compared = search.stats.pairs_compared
    run.pairs_found = len(rows)
    run.households = search.stats.households
    run.finished_at = utcnow()
    session.flush()
    logger.info("%s stored duplicate search %s: %d pairs", actor, run.id, len(rows))
    return run


def latest_run(session: Session) -> DedupeRun | None:
    """Return the latest finished stored search, or None."""
    return session.scalar(
        select(DedupeRun).where(DedupeRun.finished_at.is_not(None)).order_by(DedupeRun.id.desc()).limit(1)
    )


def stored_pairs(
    session: Session, *, run: DedupeRun, after: int | None = None, before: int | None = None,
    size: int = DEFAULT_PAGE_SIZE,
) -> StoredPage:
    """Return a page of a run's pairs, best group first, without merged customers or dismissed pairs.

    Pairs are stored in the search's order (best group first), so their ids page in that order.
    """
    first, second = aliased(Customer), aliased(Customer)
    open_pairs = (
        select(CandidatePair, first.customer_no, second.customer_no)
        .join(first, first.id == CandidatePair.first_id)
        .join(second, second.id == CandidatePair.second_id)
        .outerjoin(
            DismissedPair,
            and_(DismissedPair.first_id == CandidatePair.first_id, DismissedPair.second_id == CandidatePair.second_id),
        )
        .where(
            CandidatePair.run_id == run.id, DismissedPair.id.is_(None),
            first.status != CustomerStatus.MERGED, second.status != CustomerStatus.MERGED,
        )
    )
    total = session.scalar(select(func.count()).select_from(open_pairs.subquery())) or 0
    page = keyset_page(
        session, open_pairs, key=CandidatePair.id, after=after, before=before, size=size,
        key_of=lambda row: int(row[0].id),
    )
    dismissed = session.scalar(
        select(func.count()).select_from(CandidatePair).join(
            DismissedPair,
            and_(DismissedPair.first_id == CandidatePair.first_id, DismissedPair.second_id == CandidatePair.second_id),
        ).where(CandidatePair.run_id == run.id)
    )
    return StoredPage(run=run, page=page.map(_pair_of), total=int(total), dismissed=int(dismissed or 0))


def _pair_of(row: Row[Any]) -> DuplicatePair:
    values: tuple[Any, ...] = tuple(row)
    candidate, first_no, second_no = values
    low, high = sorted((first_no, second_no))
    return DuplicatePair(
        low, high, candidate.score, candidate.name_score, candidate.address_score, candidate.match_probability,
        candidate.cluster, tuple(candidate.waterfall),
    )
