"""Finding duplicate customers, merging a duplicate into its survivor, undoing a merge, and
remembering pairs a person judged to be two different people (never offered again).

A merge moves every row that belongs to the merged customer (orders, addresses with their
history, mail pieces and returns: ``MOVED_WITH_CUSTOMER``) to the survivor, retires the merged
customer's current address into the survivor's history (the survivor keeps its own current
address, so it still has exactly one), and marks the merged customer ``merged`` with
``merged_into_id`` pointing at the survivor, so it is never mailed again. The ids of everything
moved are kept on the ``CustomerMerge`` row, and an undo moves exactly those rows back.

Services flush and never commit: the command or view that calls them owns the transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import Select, and_, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from mailer.addresses.lifecycle import restore_after_merge, retire_for_merge
from mailer.addresses.models import Address, AddressEvent, AddressValidity
from mailer.addresses.service import current_address
from mailer.audit.service import record
from mailer.batches.models import MailPiece
from mailer.customers.models import Customer, CustomerStatus
from mailer.db import Base, utcnow
from mailer.dedupe.blocking import DEFAULT_WINDOW
from mailer.dedupe.explain import waterfalls
from mailer.dedupe.keys import CustomerFields, KeyTable
from mailer.dedupe.model import model_from_data
from mailer.dedupe.models import CustomerMatchKeys, CustomerMerge, DedupeRun, DismissedPair
from mailer.dedupe.scoring import DEFAULT_THRESHOLD, ComparisonColumns
from mailer.dedupe.search import Matcher, ProgressCallback, ScoredPairs, SearchStats, find_pairs, fit_matcher
from mailer.messages import Message
from mailer.orders.models import Order
from returns.models import MailReturn

logger = logging.getLogger(__name__)

# Every table whose rows belong to a customer and follow them into the survivor, with the column
# naming the customer. A new per-customer table is added here and nowhere else.
MOVED_WITH_CUSTOMER: tuple[tuple[type[Base], InstrumentedAttribute[int]], ...] = (
    (Order, Order.customer_id),
    (Address, Address.customer_id),
    (AddressEvent, AddressEvent.customer_id),
    (MailPiece, MailPiece.customer_id),
    (MailReturn, MailReturn.customer_id),
)

# No line below this merges anything automatically (a score is the match probability in percent).
AUTO_MERGE_FLOOR = 95.0

# A merged pair's survivor keeps the stricter of the two statuses: a person who asked not to be
# mailed under one customer number has asked it under both.
_STATUS_STRICTNESS = {CustomerStatus.ACTIVE: 0, CustomerStatus.DO_NOT_MAIL: 1, CustomerStatus.DECEASED: 2}
_LOAD_BATCH = 20_000


def _stricter(first: CustomerStatus, second: CustomerStatus) -> CustomerStatus:
    return max(first, second, key=_STATUS_STRICTNESS.__getitem__)


class MergeError(Exception):
    """A merge or undo that cannot be done; nothing was changed."""


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    """Two customers that are likely one person.

    ``match_probability`` is the model's probability that they are one person and ``score`` the
    same in percent; ``name_score`` and ``address_score`` are the match weights (log2 odds) the
    name and the address fields add; ``cluster`` numbers the group of customers the pair belongs
    to (1 = the group with the best pair); ``waterfall`` explains the score step by step.
    """

    customer_no_a: str
    customer_no_b: str
    score: float
    name_score: float
    address_score: float
    match_probability: float
    cluster: int
    waterfall: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the pair as plain data."""
        data = asdict(self)
        data["waterfall"] = list(self.waterfall)
        return data


def duplicate_pairs(matcher: Matcher, found: ScoredPairs) -> list[DuplicatePair]:
    numbers = matcher.table.customer_nos
    pairs = []
    for a, b, probability, name_weight, address_weight, cluster, steps in zip(
        found.a.tolist(), found.b.tolist(), found.probability.tolist(), found.name_weight.tolist(),
        found.address_weight.tolist(), found.cluster.tolist(), waterfalls(matcher.model, found), strict=True,
    ):
        # The lower customer number first, so a pair reads the same in every run.
        first_no, second_no = sorted((numbers[a], numbers[b]))
        pairs.append(DuplicatePair(
            first_no, second_no, round(100 * probability, 1), round(name_weight, 1), round(address_weight, 1),
            round(probability, 6), cluster, tuple(steps),
        ))
    return pairs


@dataclass(frozen=True, slots=True)
class DuplicateSearch:
    """The pairs a search found, best first, and what the search did."""

    pairs: list[DuplicatePair]
    stats: SearchStats
    threshold: float
    # Customers left out because they have no current address to compare.
    without_address: int
    # Pairs found but left out because a person marked them as two different people.
    dismissed: int
    # The whole search: reading the customers, building their keys, blocking and scoring.
    seconds: float

    @property
    def clusters(self) -> int:
        """Return how many groups of customers the pairs shown form."""
        return len({pair.cluster for pair in self.pairs})


# --- finding ----------------------------------------------------------------------------------


def _matchable_customers() -> Select[str, str, str, str | None, str, str | None, str, str]:
    return (
        select(
            Customer.customer_no, Customer.name, Address.line1, Address.line2, Address.city,
            Address.region, Address.postal_code, Address.country,
        )
        .join(Address, and_(Address.customer_id == Customer.id, Address.is_current))
        .where(Customer.status != CustomerStatus.MERGED, Customer.erased_at.is_(None))
    )


def stream_customers(session: Session, *, customer_nos: Collection[str] | None = None) -> Iterator[CustomerFields]:
    query = _matchable_customers()
    if customer_nos is not None:
        query = query.where(Customer.customer_no.in_(customer_nos))
    result = session.execute(query.execution_options(yield_per=_LOAD_BATCH))
    for customer_no, name, line1, line2, city, region, postal_code, country in result:
        yield CustomerFields(
            customer_no=customer_no, name=name, line1=line1, line2=line2 or "", city=city,
            region=region or "", postal_code=postal_code, country=country,
        )


def find_duplicates(
    session: Session,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    window: int = DEFAULT_WINDOW,
    progress: ProgressCallback | None = None,
) -> DuplicateSearch:
    """Find pairs of customers (not already merged) whose match probability is ``threshold``+, grouped."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    began = time.perf_counter()
    table = KeyTable.from_customers(stream_customers(session))
    search = find_pairs(table, threshold=threshold, window=window, progress=progress)
    pairs = without_dismissed(duplicate_pairs(search.matcher, search.found), dismissed_numbers(session))
    counted = session.scalar(
        select(func.count()).select_from(Customer).where(Customer.status != CustomerStatus.MERGED)
    )
    return DuplicateSearch(
        pairs=pairs, stats=search.stats, threshold=threshold, without_address=int(counted or 0) - len(table),
        dismissed=len(search.found) - len(pairs), seconds=time.perf_counter() - began,
    )


def without_dismissed(pairs: list[DuplicatePair], dismissed: set[tuple[str, str]]) -> list[DuplicatePair]:
    """Return the pairs a person has not marked as two different people."""
    return [pair for pair in pairs if (pair.customer_no_a, pair.customer_no_b) not in dismissed]


def pair_score(session: Session, *, first_no: str, second_no: str) -> DuplicatePair | None:
    """Score two customers; None if either lacks an address.

    With the model of the latest stored search (it was fitted on the file; scoring one pair needs
    no refit); without a stored search, the model is fitted on the current file.
    """
    if first_no == second_no:
        return None
    stored = session.scalar(
        select(DedupeRun.model)
        .where(DedupeRun.finished_at.is_not(None), DedupeRun.model.is_not(None))
        .order_by(DedupeRun.id.desc()).limit(1)
    )
    if stored is not None:
        table = KeyTable.from_customers(stream_customers(session, customer_nos=(first_no, second_no)))
        columns = ComparisonColumns.of(table)
        matcher = Matcher(table=table, columns=columns, model=model_from_data(stored, columns))
    else:
        table = KeyTable.from_customers(stream_customers(session))
        matcher = None
    index = {no: i for i, no in enumerate(table.customer_nos)}
    if first_no not in index or second_no not in index:
        return None
    if matcher is None:
        matcher, _, _ = fit_matcher(table)
    a, b = sorted((index[first_no], index[second_no]))
    scored = matcher.score_pairs(np.array([a], dtype=np.int64), np.array([b], dtype=np.int64))
    return duplicate_pairs(matcher, scored)[0]


# --- merging ----------------------------------------------------------------------------------


def _customer_for_update(session: Session, customer_no: str) -> Customer:
    customer = session.scalar(
        select(Customer).where(Customer.customer_no == customer_no).with_for_update()
    )
    if customer is None:
        raise MergeError(Message("no customer %(customer_no)s", customer_no=customer_no))
    return customer


def merge_customers(
    session: Session,
    *,
    survivor_no: str,
    merged_no: str,
    actor: str,
    score: float | None = None,
    automatic: bool = False,
) -> CustomerMerge:
    """Merge customer ``merged_no`` into ``survivor_no``; return the record that can undo it."""
    if survivor_no == merged_no:
        raise MergeError(Message("cannot merge customer %(customer_no)s into itself", customer_no=merged_no))
    survivor = _customer_for_update(session, survivor_no)
    merged = _customer_for_update(session, merged_no)
    for customer in (survivor, merged):
        if customer.status == CustomerStatus.MERGED:
            raise MergeError(
                Message("customer %(customer_no)s is already merged into another customer",
                        customer_no=customer.customer_no)
            )
    dismissed = _find_dismissed(session, (survivor.id, merged.id))
    if dismissed is not None:
        # Someone decided these are two people; a merge has to take that decision back first.
        raise MergeError(
            Message("customers %(first)s and %(second)s are marked as different people (by %(actor)s); "
                    "take that mark back before merging them",
                    first=survivor_no, second=merged_no, actor=dismissed.actor)
        )
    note = Message("customer %(merged)s merged into %(survivor)s", merged=merged_no, survivor=survivor_no)

    retired = current_address(session, customer_id=merged.id)
    # The survivor keeps its own current address; the duplicate's joins its history.
    retired_validity = (
        retire_for_merge(session, address=retired, actor=actor, note=note) if retired is not None else None
    )

    moved: dict[str, list[int]] = {}
    for model, column in MOVED_WITH_CUSTOMER:
        ids = sorted(session.scalars(select(model.id).where(column == merged.id)))  # type: ignore[attr-defined]
        if ids:
            session.execute(
                update(model).where(model.id.in_(ids)).values({column.key: survivor.id}),  # type: ignore[attr-defined]
                execution_options={"synchronize_session": "fetch"},
            )
        moved[model.__tablename__] = ids

    survivor_status = survivor.status
    survivor.status = _stricter(survivor.status, merged.status)
    merged_status = merged.status
    merged.status = CustomerStatus.MERGED
    merged.merged_into_id = survivor.id
    # Never compared again while merged; an undo changes the customer, so the next comparison of
    # new and changed customers stores its keys again.
    session.execute(delete(CustomerMatchKeys).where(CustomerMatchKeys.customer_id == merged.id))

    merge = CustomerMerge(
        survivor_id=survivor.id, merged_id=merged.id, score=score, automatic=automatic, actor=actor,
        moved=moved, merged_previous_status=merged_status, survivor_previous_status=survivor_status,
        retired_address_id=retired.id if retired is not None else None,
        retired_address_validity=retired_validity,
    )
    session.add(merge)
    session.flush()
    record(
        session, actor=actor, action="customer.merge", object_type="customer", object_id=merged_no,
        detail={
            "merge_id": merge.id, "survivor": survivor_no, "score": score, "automatic": automatic,
            "moved": {table: len(ids) for table, ids in moved.items()},
            "survivor_status": [survivor_status.value, survivor.status.value],
        },
    )
    logger.info(
        "merged customer %s into %s (merge %s%s)", merged_no, survivor_no, merge.id,
        ", automatic" if automatic else "",
    )
    return merge


def undo_merge(session: Session, *, merge_id: int, actor: str) -> CustomerMerge:
    """Undo a merge: move back exactly the rows it moved and restore both customers' statuses."""
    merge = session.get(CustomerMerge, merge_id, with_for_update=True)
    if merge is None:
        raise MergeError(Message("no merge %(merge_id)s", merge_id=merge_id))
    if merge.undone_at is not None:
        raise MergeError(Message("merge %(merge_id)s was already undone", merge_id=merge_id))
    survivor = session.get(Customer, merge.survivor_id, with_for_update=True)
    merged = session.get(Customer, merge.merged_id, with_for_update=True)
    assert survivor is not None and merged is not None  # foreign keys
    later = session.scalar(
        select(CustomerMerge.id).where(
            CustomerMerge.merged_id == survivor.id, CustomerMerge.undone_at.is_(None)
        )
    )
    if later is not None:
        raise MergeError(
            f"customer {survivor.customer_no} was itself merged later (merge {later}); undo that first"
        )
    if merged.status != CustomerStatus.MERGED or merged.merged_into_id != survivor.id:
        raise MergeError(
            Message("customer %(merged)s is no longer merged into %(survivor)s",
                    merged=merged.customer_no, survivor=survivor.customer_no)
        )

    models = {model.__tablename__: (model, column) for model, column in MOVED_WITH_CUSTOMER}
    returned: dict[str, int] = {}
    for table, ids in merge.moved.items():
        model, column = models[table]
        if not ids:
            returned[table] = 0
            continue
        # Only rows still with the survivor go back; a row deleted since stays deleted.
        result = session.execute(
            update(model)
            .where(model.id.in_(ids), column == survivor.id)  # type: ignore[attr-defined]
            .values({column.key: merged.id}),
            execution_options={"synchronize_session": "fetch"},
        )
        returned[table] = result.rowcount  # type: ignore[attr-defined]

    note = Message(
        "merge %(merge_id)s of customer %(merged)s into %(survivor)s undone",
        merge_id=merge.id, merged=merged.customer_no, survivor=survivor.customer_no,
    )
    restored_address = False
    if merge.retired_address_id is not None and current_address(session, customer_id=merged.id) is None:
        address = session.get(Address, merge.retired_address_id)
        if address is not None and address.customer_id == merged.id:
            restore_after_merge(
                session, address=address, validity=merge.retired_address_validity or AddressValidity.UNVERIFIED,
                actor=actor, note=note,
            )
            restored_address = True

    merged.status = merge.merged_previous_status
    merged.merged_into_id = None
    if survivor.status == _stricter(merge.survivor_previous_status, merge.merged_previous_status):
        # Only the merge's own change is reverted; a status set since then stays.
        survivor.status = merge.survivor_previous_status
    merge.undone_at = utcnow()
    merge.undone_by = actor
    session.flush()
    record(
        session, actor=actor, action="customer.merge_undo", object_type="customer",
        object_id=merged.customer_no,
        detail={"merge_id": merge.id, "survivor": survivor.customer_no, "returned": returned,
                "address_restored": restored_address},
    )
    logger.info("undid merge %s of customer %s into %s", merge.id, merged.customer_no,
                survivor.customer_no)
    return merge


def auto_merge(
    session: Session,
    *,
    min_score: float,
    actor: str,
    window: int = DEFAULT_WINDOW,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> list[tuple[DuplicatePair, CustomerMerge | None]]:
    """Merge every pair scoring at least ``min_score``; the older customer survives.

    Pairs are taken best first. A customer already merged in this run is represented by its
    survivor, so a cluster of three folds into its oldest member; two clusters holding a pair
    marked as not duplicates are never folded together. With ``dry_run`` nothing is merged and
    each pair comes back with None.
    """
    if not AUTO_MERGE_FLOOR <= min_score <= 100:
        raise MergeError(
            Message("the auto-merge line must lie between %(floor)g and 100, got %(score)g",
                    floor=AUTO_MERGE_FLOOR, score=min_score)
        )
    search = find_duplicates(session, threshold=min_score / 100, window=window, progress=progress)
    numbers = {no for pair in search.pairs for no in (pair.customer_no_a, pair.customer_no_b)}
    # Customer ids grow with time: the lower id is the older customer.
    age = {
        customer_no: customer_id
        for customer_no, customer_id in session.execute(
            select(Customer.customer_no, Customer.id).where(Customer.customer_no.in_(numbers))
        )
    }
    survivor_of: dict[str, str] = {}
    members: dict[str, set[str]] = {}
    dismissed = dismissed_numbers(session)

    def root(customer_no: str) -> str:
        while customer_no in survivor_of:
            customer_no = survivor_of[customer_no]
        return customer_no

    def kept_apart(first: str, second: str) -> bool:
        # Folding clusters together must not join two customers a person said are different.
        return any(
            tuple(sorted((x, y))) in dismissed
            for x in members.get(first, {first}) for y in members.get(second, {second})
        )

    done: list[tuple[DuplicatePair, CustomerMerge | None]] = []
    for pair in search.pairs:
        first, second = root(pair.customer_no_a), root(pair.customer_no_b)
        if first == second or kept_apart(first, second):
            continue
        survivor_no, merged_no = sorted((first, second), key=lambda no: age[no])
        survivor_of[merged_no] = survivor_no
        members[survivor_no] = members.pop(survivor_no, {survivor_no}) | members.pop(merged_no, {merged_no})
        if dry_run:
            done.append((pair, None))
            continue
        merge = merge_customers(
            session, survivor_no=survivor_no, merged_no=merged_no, actor=actor, score=pair.score,
            automatic=True,
        )
        done.append((pair, merge))
    return done


def list_merges(session: Session, *, limit: int = 50) -> list[tuple[CustomerMerge, str, str]]:
    """Return the latest merges, newest first, with the survivor's and merged customer's numbers."""
    survivor = select(Customer.customer_no).where(Customer.id == CustomerMerge.survivor_id).scalar_subquery()
    merged = select(Customer.customer_no).where(Customer.id == CustomerMerge.merged_id).scalar_subquery()
    rows = session.execute(
        select(CustomerMerge, survivor, merged).order_by(CustomerMerge.id.desc()).limit(limit)
    )
    return [(merge, survivor_no, merged_no) for merge, survivor_no, merged_no in rows]


# --- pairs that are not duplicates ------------------------------------------------------------


def _customer_ids(session: Session, first_no: str, second_no: str) -> tuple[int, int]:
    if first_no == second_no:
        raise MergeError(
            Message("customer %(customer_no)s cannot be paired with itself", customer_no=first_no)
        )
    # Locked like a merge's customers, so two people dismissing one pair at once write one row.
    first, second = _customer_for_update(session, first_no), _customer_for_update(session, second_no)
    return first.id, second.id


def _find_dismissed(session: Session, ids: tuple[int, int]) -> DismissedPair | None:
    low, high = sorted(ids)
    return session.scalar(
        select(DismissedPair).where(DismissedPair.first_id == low, DismissedPair.second_id == high)
    )


def dismiss_pair(
    session: Session, *, first_no: str, second_no: str, actor: str, note: str | None = None
) -> tuple[DismissedPair, bool]:
    """Mark two customers as different people; return the record and whether it is new.

    A pair already marked is left as it is (its note and who marked it stay).
    """
    ids = _customer_ids(session, first_no, second_no)
    existing = _find_dismissed(session, ids)
    if existing is not None:
        return existing, False
    low, high = sorted(ids)
    dismissed = DismissedPair(first_id=low, second_id=high, actor=actor, note=(note or "").strip() or None)
    session.add(dismissed)
    session.flush()
    record(
        session, actor=actor, action="customer.pair_dismiss", object_type="customer", object_id=first_no,
        detail={"dismissed_id": dismissed.id, "other": second_no, "note": dismissed.note},
    )
    logger.info("marked customers %s and %s as not duplicates", first_no, second_no)
    return dismissed, True


def restore_pair(session: Session, *, first_no: str, second_no: str, actor: str) -> None:
    """Take back a "not a duplicate" mark, so the pair may be offered as duplicates again."""
    ids = _customer_ids(session, first_no, second_no)
    dismissed = _find_dismissed(session, ids)
    if dismissed is None:
        raise MergeError(
            Message("customers %(first)s and %(second)s are not marked as different people",
                    first=first_no, second=second_no)
        )
    record(
        session, actor=actor, action="customer.pair_restore", object_type="customer", object_id=first_no,
        detail={"dismissed_id": dismissed.id, "other": second_no, "dismissed_by": dismissed.actor,
                "dismissed_at": dismissed.dismissed_at.isoformat(), "note": dismissed.note},
    )
    session.delete(dismissed)
    session.flush()
    logger.info("took back the not-duplicates mark of customers %s and %s", first_no, second_no)


def dismissed_numbers(session: Session) -> set[tuple[str, str]]:
    """Return every pair marked as different people, as customer numbers, the lower first."""
    first, second = aliased(Customer), aliased(Customer)
    rows = session.execute(
        select(first.customer_no, second.customer_no)
        .select_from(DismissedPair)
        .join(first, first.id == DismissedPair.first_id)
        .join(second, second.id == DismissedPair.second_id)
    )
    return {(a, b) if a < b else (b, a) for a, b in rows}


def list_dismissed(session: Session, *, limit: int = 50) -> list[tuple[DismissedPair, str, str]]:
    """Return the latest pairs marked as different people, newest first, with both customer numbers."""
    first = select(Customer.customer_no).where(Customer.id == DismissedPair.first_id).scalar_subquery()
    second = select(Customer.customer_no).where(Customer.id == DismissedPair.second_id).scalar_subquery()
    rows = session.execute(
        select(DismissedPair, first, second).order_by(DismissedPair.id.desc()).limit(limit)
    )
    return [(dismissed, first_no, second_no) for dismissed, first_no, second_no in rows]
