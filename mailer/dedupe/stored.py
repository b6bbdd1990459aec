"""Stored duplicate searches: a search run once (a command or a queued job) and read by the review page.

``store_search`` runs the search and keeps its candidate pairs (with their waterfalls) as the
latest run, replacing the previous one; ``stored_pairs`` reads a page of them, leaving out pairs
whose customers were merged since or that a person marked as not duplicates since.

Services flush and never commit: the command, view or job that calls them owns the transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Row, Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from mailer.addresses.models import Address
from mailer.customers.models import Customer, CustomerStatus
from mailer.db import execute_rows, larger_sqlite_cache, utcnow
from mailer.dedupe.blocking import DEFAULT_WINDOW, RULES, block_digests, digest_array, pairs_with_stored
from mailer.dedupe.keys import KeyTable
from mailer.dedupe.model import model_as_data, model_from_data
from mailer.dedupe.models import CandidatePair, CustomerMatchKeys, DedupeRun, DismissedPair
from mailer.dedupe.scoring import DEFAULT_THRESHOLD, ComparisonColumns
from mailer.dedupe.search import Matcher, PairSearch, ProgressCallback, ScoredPairs, find_pairs
from mailer.dedupe.service import (
    DuplicatePair,
    dismissed_numbers,
    duplicate_pairs,
    stream_customers,
    without_dismissed,
)
from mailer.pagination import DEFAULT_PAGE_SIZE, Page, keyset_page

logger = logging.getLogger(__name__)
_INSERT_BATCH = 5_000
# SQLite's page cache while a search is stored, in KiB.
_SQLITE_CACHE_KIB = 256 * 1024
_RULE_NAMES = [rule.name for rule in RULES]
# A pair's position: its group in the high bits, the order it was added in below (see CandidatePair).
_GROUP_SHIFT = 32


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
    """Search every customer and store the pairs found as the latest run (the previous one is dropped),
    with every customer's match keys, so new customers are later compared against them."""
    run = DedupeRun(threshold=threshold, actor=actor)
    session.add(run)
    session.flush()
    table = KeyTable.from_customers(stream_customers(session))
    search = find_pairs(table, threshold=threshold, progress=progress)
    ids = _customer_ids(session, table.customer_nos)
    # The pairs and keys move index entries all over their tables: SQLite's default 2 MB cache would
    # read and write those pages again and again.
    with larger_sqlite_cache(session, kib=_SQLITE_CACHE_KIB):
        stored = _insert_pairs(session, run, search, ids)
        # Only the latest run is read: older ones and their pairs go.
        older = select(DedupeRun.id).where(DedupeRun.id != run.id).scalar_subquery()
        session.execute(delete(CandidatePair).where(CandidatePair.run_id.in_(older)))
        session.execute(delete(DedupeRun).where(DedupeRun.id != run.id))
        session.execute(delete(CustomerMatchKeys))
        run.model = model_as_data(search.matcher.model, search.matcher.columns)
        stats, blocks = search.stats, search.blocks
        # The comparison columns and the pairs are no longer needed: their memory goes before the keys are written.
        del search
        insert_match_keys(session, table, [ids[no] for no in table.customer_nos], blocks)
    run.customers = stats.customers
    run.pairs_compared = stats.pairs_compared
    run.pairs_found = stored
    run.pairs_added = stored
    run.households = stats.households
    run.blocking_rules = _RULE_NAMES
    run.finished_at = utcnow()
    session.flush()
    logger.info("%s stored duplicate search %s: %d pairs", actor, run.id, stored)
    return run


def _insert_pairs(session: Session, run: DedupeRun, search: PairSearch, ids: dict[str, int]) -> int:
    """Store the pairs a search found (but those a person marked as not duplicates) in ``run``; return how many."""
    dismissed = dismissed_numbers(session)
    stored = 0
    # A batch of pairs at a time: at a million customers the pairs found, each with its waterfall,
    # would take gigabytes held all at once.
    for start in range(0, len(search.found), _INSERT_BATCH):
        batch = search.found.take(slice(start, start + _INSERT_BATCH))
        rows: list[dict[str, Any]] = []
        for pair in without_dismissed(duplicate_pairs(search.matcher, batch), dismissed):
            first_id, second_id = sorted((ids[pair.customer_no_a], ids[pair.customer_no_b]))
            rows.append(_row(run.id, first_id, second_id, pair, position=stored + len(rows)))
        execute_rows(session, insert(CandidatePair.__table__), rows)
        stored += len(rows)
    return stored


def _customer_ids(session: Session, customer_nos: Collection[str]) -> dict[str, int]:
    """Return the ids of customers by number (all of them when there are many)."""
    query = select(Customer.customer_no, Customer.id)
    if len(customer_nos) <= _INSERT_BATCH:
        query = query.where(Customer.customer_no.in_(customer_nos))
    return {customer_no: customer_id for customer_no, customer_id in session.execute(query)}


def insert_match_keys(session: Session, table: KeyTable, ids: list[int], blocks: np.ndarray | None = None) -> None:
    """Store the match keys of a table's customers (``ids`` aligned with its rows), with their blocking
    digests (``blocks``, when the search already made them)."""
    blocks = blocks if blocks is not None else block_digests(table)
    for start in range(0, len(table), _INSERT_BATCH):
        execute_rows(session, insert(CustomerMatchKeys.__table__), [
            {
                "customer_id": ids[i], "name": table.names[i], "written_name": table.written_names[i],
                "given": table.givens[i], "surname": table.surnames[i], "street": table.streets[i],
                "numbers": table.numbers[i], "locality": table.localities[i], "postal": table.postals[i],
                "country": table.countries[i], "blocks": blocks[i].tobytes(),
            }
            for i in range(start, min(start + _INSERT_BATCH, len(table)))
        ])


@dataclass(frozen=True, slots=True)
class StoredKeys:
    """The stored match keys of the file, with each customer's id and blocking digests."""

    table: KeyTable
    ids: np.ndarray
    blocks: np.ndarray


def stored_keys(session: Session, *, leaving_out: Collection[int] = ()) -> StoredKeys:
    """Read the stored match keys of every customer still compared (not merged, not erased), by id."""
    query = (
        select(
            CustomerMatchKeys.customer_id, Customer.customer_no, CustomerMatchKeys.name,
            CustomerMatchKeys.written_name, CustomerMatchKeys.given, CustomerMatchKeys.surname,
            CustomerMatchKeys.street, CustomerMatchKeys.numbers, CustomerMatchKeys.locality,
            CustomerMatchKeys.postal, CustomerMatchKeys.country, CustomerMatchKeys.blocks,
        )
        .join(Customer, Customer.id == CustomerMatchKeys.customer_id)
        .where(Customer.status != CustomerStatus.MERGED, Customer.erased_at.is_(None))
        .order_by(CustomerMatchKeys.customer_id)
    )
    left_out = set(leaving_out)
    # A million rows: read through the connection, without the ORM's result handling.
    rows = session.connection().execute(query).all()
    if left_out:
        rows = [row for row in rows if row[0] not in left_out]
    columns: list[list[Any]] = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(12)]
    table = KeyTable(*columns[1:11])
    return StoredKeys(
        table=table, ids=np.array(columns[0], dtype=np.int64), blocks=digest_array(columns[11]),
    )


@dataclass(frozen=True, slots=True)
class StoredComparison:
    """New customers compared against a stored file: the table of them and their block mates
    (``ids`` aligned with its rows), the matcher, the pairs found and how many were compared."""

    table: KeyTable
    ids: np.ndarray
    matcher: Matcher
    found: ScoredPairs
    pairs_compared: int
    block_mates: int


def compare_with_stored(
    stored: StoredKeys, new: KeyTable, new_ids: np.ndarray, *, model: dict[str, Any], threshold: float,
    window: int = DEFAULT_WINDOW,
) -> StoredComparison:
    """Compare new customers against a stored file with a stored model, reading only their block mates.

    The pairs and scores are those ``compare_rows`` finds on the whole file in customer id order:
    blocking reads every key group of a new customer, or its neighbours in a large one
    (``pairs_with_stored``), and term frequencies come from the model by value, not from the table.
    """
    a, b = pairs_with_stored(stored.table, stored.blocks, stored.ids, new, block_digests(new), new_ids,
                             window=window)
    # The table of the customers paired, and every new one, in customer id order: a pair is
    # compared the way round the whole file in that order compares it.
    offset = len(stored.table)
    used = np.union1d(np.concatenate((a, b)), np.arange(offset, offset + len(new), dtype=np.int64))
    ids = np.concatenate((stored.ids, new_ids))[used]
    by_id = np.argsort(ids, kind="stable")
    used, ids = used[by_id], ids[by_id]
    rows = used.tolist()
    table = KeyTable(*(
        [values[w] for w in rows] for values in (
            stored_column + new_column for stored_column, new_column in zip(
                _columns(stored.table), _columns(new), strict=True
            )
        )
    ))
    row_of = np.empty(offset + len(new), dtype=np.int64)
    row_of[used] = np.arange(used.size, dtype=np.int64)
    first, second = row_of[a], row_of[b]
    columns = ComparisonColumns.of(table)
    matcher = Matcher(table=table, columns=columns, model=model_from_data(model, columns))
    scored = matcher.score_pairs(np.minimum(first, second), np.maximum(first, second))
    return StoredComparison(
        table=table, ids=ids, matcher=matcher, found=scored.take(scored.probability >= threshold),
        pairs_compared=int(a.size), block_mates=int(np.count_nonzero(used < offset)),
    )


def _columns(table: KeyTable) -> list[list[str]]:
    """Return a key table's lists in the order its fields are declared."""
    return [getattr(table, name) for name in KeyTable.__dataclass_fields__]


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
    # Stored customers read as block mates of the new ones (compared with them by some rule).
    block_mates: int = 0


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


def comparable(run: DedupeRun) -> bool:
    """Return whether new customers can be compared against a stored run: it kept its model and the
    match keys of the file under the blocking rules in use (a run stored before either cannot)."""
    return run.model is not None and run.blocking_rules == _RULE_NAMES


def compare_new_customers(session: Session, *, actor: str, window: int = DEFAULT_WINDOW) -> Refresh:
    """Compare customers created or changed since the latest run (or its last refresh) against the file.

    Only their match keys are built; the file's are read as the run stored them, and only the
    stored customers a blocking rule puts with a new one are compared (``pairs_with_stored``), with
    the run's stored model (never refitted, so the other customers' pairs are not scored again).
    Their old pairs are dropped and their pairs at the run's threshold added to the run: joining
    the group of a customer already grouped (shown after the group's own pairs), or a new group
    (after every group of the run). Their stored keys are replaced by the new ones.
    """
    began_clock = time.perf_counter()
    run = latest_run(session)
    if run is None or run.model is None or not comparable(run):
        raise IncrementalError("no stored duplicate search to compare new customers against: run a full search first")
    began = utcnow()
    since = run.refreshed_at or run.started_at
    changed = _changed_customers(session, since)
    changed_ids = list(changed.values())
    new = KeyTable.from_customers(stream_customers(session, customer_nos=changed)) if changed else KeyTable()
    new_ids = np.array([changed[no] for no in new.customer_nos], dtype=np.int64)
    pairs: list[DuplicatePair] = []
    ids: dict[str, int] = {}
    compared = mates = 0
    if len(new):
        stored = stored_keys(session, leaving_out=changed_ids)
        result = compare_with_stored(stored, new, new_ids, model=run.model, threshold=run.threshold, window=window)
        pairs = without_dismissed(duplicate_pairs(result.matcher, result.found), dismissed_numbers(session))
        ids = dict(zip(result.table.customer_nos, result.ids.tolist(), strict=True))
        compared, mates = result.pairs_compared, result.block_mates
        del stored, result
    dropped = 0
    for start in range(0, len(changed_ids), _INSERT_BATCH):
        chunk = changed_ids[start : start + _INSERT_BATCH]
        deleted = session.execute(delete(CandidatePair).where(
            CandidatePair.run_id == run.id, or_(CandidatePair.first_id.in_(chunk), CandidatePair.second_id.in_(chunk))
        ))
        dropped += _rowcount(deleted)
        session.execute(delete(CustomerMatchKeys).where(CustomerMatchKeys.customer_id.in_(chunk)))
    insert_match_keys(session, new, new_ids.tolist())
    paired = list({ids[no] for pair in pairs for no in (pair.customer_no_a, pair.customer_no_b)})
    cluster_of: dict[int, int] = {}
    for start in range(0, len(paired), _INSERT_BATCH):
        chunk = paired[start : start + _INSERT_BATCH]
        for first_id, second_id, cluster in session.execute(
            select(CandidatePair.first_id, CandidatePair.second_id, CandidatePair.cluster).where(
                CandidatePair.run_id == run.id,
                or_(CandidatePair.first_id.in_(chunk), CandidatePair.second_id.in_(chunk)),
            )
        ):
            cluster_of.setdefault(first_id, cluster)
            cluster_of.setdefault(second_id, cluster)
    next_cluster = (session.scalar(select(func.max(CandidatePair.cluster)).where(CandidatePair.run_id == run.id))
                    or 0) + 1
    rows_out: list[dict[str, Any]] = []
    for pair in sorted(pairs, key=lambda pair: -pair.match_probability):
        first_id, second_id = sorted((ids[pair.customer_no_a], ids[pair.customer_no_b]))
        known = cluster_of.get(first_id) or cluster_of.get(second_id)
        if known is None:
            known, next_cluster = next_cluster, next_cluster + 1
        cluster_of[first_id] = cluster_of[second_id] = known
        rows_out.append(_row(run.id, first_id, second_id, replace(pair, cluster=known),
                             position=run.pairs_added + len(rows_out)))
    for start in range(0, len(rows_out), _INSERT_BATCH):
        execute_rows(session, insert(CandidatePair.__table__), rows_out[start : start + _INSERT_BATCH])
    run.customers = session.scalar(select(func.count()).select_from(CustomerMatchKeys)) or 0
    run.pairs_found = run.pairs_found - dropped + len(rows_out)
    run.pairs_added += len(rows_out)
    run.refreshed_at = began
    session.flush()
    logger.info("%s compared %d new or changed customers against duplicate search %s: %d pairs",
                actor, len(new), run.id, len(rows_out))
    return Refresh(run=run, customers=len(new), pairs_compared=compared, pairs_found=len(rows_out),
                   seconds=time.perf_counter() - began_clock, block_mates=mates)


def forget_customer(session: Session, *, customer_id: int) -> None:
    """Delete a customer's stored pairs and match keys (erasure), keeping the runs' counts of pairs."""
    for run_id, count in session.execute(
        select(CandidatePair.run_id, func.count())
        .where(or_(CandidatePair.first_id == customer_id, CandidatePair.second_id == customer_id))
        .group_by(CandidatePair.run_id)
    ).all():
        session.execute(
            update(DedupeRun).where(DedupeRun.id == run_id).values(pairs_found=DedupeRun.pairs_found - count)
        )
    session.execute(
        delete(CandidatePair).where(or_(CandidatePair.first_id == customer_id, CandidatePair.second_id == customer_id))
    )
    session.execute(delete(CustomerMatchKeys).where(CustomerMatchKeys.customer_id == customer_id))


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _row(run_id: int, first_id: int, second_id: int, pair: DuplicatePair, *, position: int) -> dict[str, Any]:
    return {
        "run_id": run_id, "first_id": first_id, "second_id": second_id,
        "position": (pair.cluster << _GROUP_SHIFT) + position,
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

    Pages go by the pairs' positions (``CandidatePair.position``): the search's groups best first,
    each group's pairs best first, then pairs and groups found since by comparing new customers.
    """
    page = keyset_page(
        session, open_pairs(run), key=CandidatePair.position, after=after, before=before, size=size,
        key_of=lambda row: int(row[0].position),
    )
    dismissed = _dismissed_pairs(run)
    return StoredPage(
        run=run, page=page.map(_pair_of), total=open_pair_count(session, run),
        dismissed=int(session.scalar(select(func.count()).select_from(dismissed.subquery())) or 0),
    )


def open_pairs(run: DedupeRun) -> Select[CandidatePair, str, str]:
    """Return the query of a run's open pairs with both customer numbers (unordered: pages order it)."""
    first, second = aliased(Customer), aliased(Customer)
    return (
        select(CandidatePair, first.customer_no, second.customer_no)
        .join(first, first.id == CandidatePair.first_id)
        .join(second, second.id == CandidatePair.second_id)
        .where(
            CandidatePair.run_id == run.id,
            # NOT EXISTS, which PostgreSQL plans as an anti join and so walks the run's positions
            # (an outer join tested for NULL was estimated to leave one row, and read the whole run).
            ~select(DismissedPair.id).where(
                DismissedPair.first_id == CandidatePair.first_id, DismissedPair.second_id == CandidatePair.second_id
            ).exists(),
            first.status != CustomerStatus.MERGED, second.status != CustomerStatus.MERGED,
            first.erased_at.is_(None), second.erased_at.is_(None),
        )
    )


def _dismissed_pairs(run: DedupeRun) -> Select[int, int]:
    """Return the run's pairs a person marked as not duplicates, read from the few marked pairs by index."""
    return select(DismissedPair.first_id, DismissedPair.second_id).where(
        select(CandidatePair.id).where(
            CandidatePair.run_id == run.id, CandidatePair.first_id == DismissedPair.first_id,
            CandidatePair.second_id == DismissedPair.second_id,
        ).exists()
    )


def open_pair_count(session: Session, run: DedupeRun) -> int:
    """Return how many of the run's pairs are still open.

    The run counts its stored pairs (``pairs_found``, kept as pairs are added and deleted); less
    those that dropped out since, found from the few merged customers and dismissed pairs by
    index. Erased customers have no stored pairs left (``forget_customer``).
    """
    merged = select(Customer.id).where(Customer.status == CustomerStatus.MERGED)
    # Two counts, each read through its own index (an OR of the two would read every pair).
    dropped = sum(
        session.scalar(select(func.count()).select_from(CandidatePair).where(CandidatePair.run_id == run.id, *where))
        or 0
        for where in (
            (CandidatePair.first_id.in_(merged),),
            (CandidatePair.second_id.in_(merged), CandidatePair.first_id.not_in(merged)),
        )
    )
    dismissed = _dismissed_pairs(run).subquery()
    dismissed_open = session.scalar(
        select(func.count()).select_from(dismissed).where(
            dismissed.c.first_id.not_in(merged), dismissed.c.second_id.not_in(merged)
        )
    )
    return run.pairs_found - int(dropped) - int(dismissed_open or 0)


def _pair_of(row: Row[Any]) -> DuplicatePair:
    values: tuple[Any, ...] = tuple(row)
    candidate, first_no, second_no = values
    low, high = sorted((first_no, second_no))
    return DuplicatePair(
        low, high, candidate.score, candidate.name_score, candidate.address_score, candidate.match_probability,
        candidate.cluster, tuple(candidate.waterfall),
    )
