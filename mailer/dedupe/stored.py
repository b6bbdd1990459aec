"""Stored duplicate searches: a search run once (a command or a queued job) and read by the review page.

``store_search`` runs the search and keeps its candidate pairs (with their waterfalls) as the
latest run, replacing the previous one; ``stored_pairs`` reads a page of them, leaving out pairs
whose customers were merged since or that a person marked as not duplicates since.

Services flush and never commit: the command, view or job that calls them owns the transaction.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from mailer.addresses.models import Address
from mailer.customers.models import Customer, CustomerStatus
from mailer.db import utcnow
from mailer.dedupe.blocking import DEFAULT_WINDOW
from mailer.dedupe.keys import KeyTable
from mailer.dedupe.models import CandidatePair, DedupeRun, DismissedPair
from mailer.dedupe.scoring import DEFAULT_THRESHOLD
from mailer.dedupe.search import ProgressCallback, compare_rows
from mailer.dedupe.service import (
    DuplicatePair,
    dismissed_numbers,
    duplicate_pairs,
    find_duplicates,
    stream_customers,
)
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
        rows.append(_row(run.id, first_id, second_id, pair))
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
    run.model = search.model
    run.finished_at = utcnow()
    session.flush()
    logger.info("%s stored duplicate search %s: %d pairs", actor, run.id, len(rows))
    return run


class IncrementalError(ValueError):
    """New customers cannot be compared: there is no stored search (with its model) to compare against."""


@dataclass(frozen=True, slots=True)
class Refresh:
    """What comparing the new and changed customers against a stored run did."""

    run: DedupeRun
    customers: int  # new and changed customers compared
    pairs_compared: int
    pairs_found: int  # their pairs now stored (replacing their old ones)
    seconds: float


def _changed_customers(session: Session, since: datetime) -> dict[str, int]:
    """Return the customers (number: id) created or changed since ``since``, their current address included."""
    changed = select(Customer.customer_no, Customer.id).where(
        or_(Customer.created_at >= since, Customer.updated_at >= since)
    )
    moved = (
        select(Customer.customer_no, Customer.id)
        .join(Address, and_(Address.customer_id == Customer.id, Address.is_current))
        .where(or_(Address.created_at >= since, Address.updated_at >= since))
    )
    return {
        customer_no: customer_id
        for query in (changed, moved)
        for customer_no, customer_id in session.execute(query)
    }


def compare_new_customers(session: Session, *, actor: str, window: int = DEFAULT_WINDOW) -> Refresh:
    """Compare customers created or changed since the latest run (or its last refresh) against the file.

    They are scored with the run's stored model (never refitted, so the other customers' pairs are
    not scored again), their old pairs are dropped and their pairs at the run's threshold added to
    the run: joining the group of a customer already grouped, or a new group.
    """
    began_clock = time.perf_counter()
    run = latest_run(session)
    if run is None or run.model is None:
        raise IncrementalError("no stored duplicate search to compare new customers against: run a full search first")
    began = utcnow()
    since = run.refreshed_at or run.started_at
    changed = _changed_customers(session, since)
    table = KeyTable.from_customers(stream_customers(session))
    rows = [i for i, customer_no in enumerate(table.customer_nos) if customer_no in changed]
    matcher, found, compared = compare_rows(table, rows, model=run.model, threshold=run.threshold, window=window)
    changed_ids = list(changed.values())
    for start in range(0, len(changed_ids), _INSERT_BATCH):
        chunk = changed_ids[start : start + _INSERT_BATCH]
        session.execute(delete(CandidatePair).where(
            CandidatePair.run_id == run.id, or_(CandidatePair.first_id.in_(chunk), CandidatePair.second_id.in_(chunk))
        ))
    dismissed = dismissed_numbers(session)
    pairs = [pair for pair in duplicate_pairs(matcher, found)
             if (pair.customer_no_a, pair.customer_no_b) not in dismissed]
    numbers = {no for pair in pairs for no in (pair.customer_no_a, pair.customer_no_b)}
    ids = {
        customer_no: customer_id
        for customer_no, customer_id in session.execute(
            select(Customer.customer_no, Customer.id).where(Customer.customer_no.in_(numbers))
        )
    }
    cluster_of: dict[int, int] = {}
    for first_id, second_id, cluster in session.execute(
        select(CandidatePair.first_id, CandidatePair.second_id, CandidatePair.cluster).where(
            CandidatePair.run_id == run.id,
            or_(CandidatePair.first_id.in_(ids.values()), CandidatePair.second_id.in_(ids.values())),
        )
    ):
        cluster_of.setdefault(first_id, cluster)
        cluster_of.setdefault(second_id, cluster)
    next_cluster = (session.scalar(select(func.max(CandidatePair.cluster)).where(CandidatePair.run_id == run.id))
                    or 0) + 1
    rows_out = []
    for pair in sorted(pairs, key=lambda pair: -pair.match_probability):
        first_id, second_id = sorted((ids[pair.customer_no_a], ids[pair.customer_no_b]))
        known = cluster_of.get(first_id) or cluster_of.get(second_id)
        if known is None:
            known, next_cluster = next_cluster, next_cluster + 1
        cluster_of[first_id] = cluster_of[second_id] = known
        rows_out.append(_row(run.id, first_id, second_id, replace(pair, cluster=known)))
    for start in range(0, len(rows_out), _INSERT_BATCH):
        session.execute(insert(CandidatePair), rows_out[start : start + _INSERT_BATCH])
    run.customers = len(table)
    run.pairs_found = session.scalar(
        select(func.count()).select_from(CandidatePair).where(CandidatePair.run_id == run.id)
    ) or 0
    run.refreshed_at = began
    session.flush()
    logger.info("%s compared %d new or changed customers against duplicate search %s: %d pairs",
                actor, len(rows), run.id, len(rows_out))
    return Refresh(run=run, customers=len(rows), pairs_compared=compared, pairs_found=len(rows_out),
                   seconds=time.perf_counter() - began_clock)


def _row(run_id: int, first_id: int, second_id: int, pair: DuplicatePair) -> dict[str, Any]:
    return {
        "run_id": run_id, "first_id": first_id, "second_id": second_id,
        "match_probability": pair.match_probability, "score": pair.score, "name_score": pair.name_score,
        "address_score": pair.address_score, "cluster": pair.cluster, "waterfall": list(pair.waterfall),
    }


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
            first.erased_at.is_(None), second.erased_at.is_(None),
        )
    )
    total = open_pair_count(session, run)
    page = keyset_page(
        session, open_pairs, key=CandidatePair.id, after=after, before=before, size=size,
        key_of=lambda row: int(row[0].id),
    )
    dismissed = session.scalar(
        select(func.count()).select_from(DismissedPair).join(
            CandidatePair,
            and_(DismissedPair.first_id == CandidatePair.first_id, DismissedPair.second_id == CandidatePair.second_id),
        ).where(CandidatePair.run_id == run.id)
    )
    return StoredPage(run=run, page=page.map(_pair_of), total=total, dismissed=int(dismissed or 0))


def open_pair_count(session: Session, run: DedupeRun) -> int:
    """Return how many of the run's pairs are still open.

    Counted as all pairs less those that dropped out, found from the few merged or erased
    customers and dismissed pairs by index: joining every stored pair to its customers would read
    them all on each visit.
    """
    gone = select(Customer.id).where(or_(Customer.status == CustomerStatus.MERGED, Customer.erased_at.is_not(None)))
    stored = session.scalar(select(func.count()).select_from(CandidatePair).where(CandidatePair.run_id == run.id))
    # Two counts, each read through its own index (an OR of the two would read every pair).
    dropped = sum(
        session.scalar(select(func.count()).select_from(CandidatePair).where(CandidatePair.run_id == run.id, *where))
        or 0
        for where in (
            (CandidatePair.first_id.in_(gone),),
            (CandidatePair.second_id.in_(gone), CandidatePair.first_id.not_in(gone)),
        )
    )
    first, second = aliased(Customer), aliased(Customer)
    dismissed_open = session.scalar(
        select(func.count()).select_from(DismissedPair)
        .join(CandidatePair, and_(
            CandidatePair.run_id == run.id, DismissedPair.first_id == CandidatePair.first_id,
            DismissedPair.second_id == CandidatePair.second_id,
        ))
        .join(first, first.id == DismissedPair.first_id)
        .join(second, second.id == DismissedPair.second_id)
        .where(
            first.status != CustomerStatus.MERGED, second.status != CustomerStatus.MERGED,
            first.erased_at.is_(None), second.erased_at.is_(None),
        )
    )
    return int(stored or 0) - int(dropped or 0) - int(dismissed_open or 0)


def _pair_of(row: Row[Any]) -> DuplicatePair:
    values: tuple[Any, ...] = tuple(row)
    candidate, first_no, second_no = values
    low, high = sorted((first_no, second_no))
    return DuplicatePair(
        low, high, candidate.score, candidate.name_score, candidate.address_score, candidate.match_probability,
        candidate.cluster, tuple(candidate.waterfall),
    )
