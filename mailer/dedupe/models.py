"""The record of one customer merged into another (kept so the merge can be undone exactly), and
pairs of customers a person judged to be two different people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mailer.addresses.models import AddressValidity
from mailer.column_types import CreatedAt, IntPK
from mailer.customers.models import CustomerStatus
from mailer.db import Base


class CustomerMerge(Base):
    """A duplicate customer folded into a survivor: who, how sure, by whom, and what moved."""

    __tablename__ = "customer_merges"

    id: Mapped[IntPK]
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # The duplicate score of the pair when it was merged; None when merged without one.
    score: Mapped[float | None]
    # True when the auto-merge line merged the pair, not a person.
    automatic: Mapped[bool] = mapped_column(default=False)
    actor: Mapped[str] = mapped_column(String(254))
    # Ids of the rows moved to the survivor, by table name ({"orders": [3, 9], ...}).
    moved: Mapped[dict[str, Any]] = mapped_column(default=dict)
    merged_previous_status: Mapped[CustomerStatus]
    # The survivor takes the stricter status of the two (a do-not-mail request survives a merge).
    survivor_previous_status: Mapped[CustomerStatus]
    # The merged customer's current address, retired to history by the merge.
    retired_address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    retired_address_validity: Mapped[AddressValidity | None]
    merged_at: Mapped[CreatedAt]
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(254))

    def __repr__(self) -> str:
        return f"<CustomerMerge {self.id}: {self.merged_id} into {self.survivor_id}>"


class DismissedPair(Base):
    """Two customers a person judged to be different people, never offered as duplicates again."""

    __tablename__ = "dismissed_pairs"
    # The lower customer id first, so a pair is one row whichever way round it was dismissed.
    __table_args__ = (
        UniqueConstraint("first_id", "second_id"),
        CheckConstraint("first_id < second_id", name="canonical_order"),
    )

    id: Mapped[IntPK]
    first_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    second_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    actor: Mapped[str] = mapped_column(String(254))
    note: Mapped[str | None] = mapped_column(Text)
    dismissed_at: Mapped[CreatedAt]

    def __repr__(self) -> str:
        return f"<DismissedPair {self.id}: {self.first_id} and {self.second_id}>"


class DedupeRun(Base):
    """One stored duplicate search: when it ran, at which threshold, and what it found."""

    __tablename__ = "dedupe_runs"

    id: Mapped[IntPK]
    started_at: Mapped[CreatedAt]
    finished_at: Mapped[datetime | None]
    threshold: Mapped[float]
    customers: Mapped[int] = mapped_column(default=0)
    pairs_compared: Mapped[int] = mapped_column(default=0)
    pairs_found: Mapped[int] = mapped_column(default=0)
    households: Mapped[int] = mapped_column(default=0)
    actor: Mapped[str] = mapped_column(String(254))
    # The fitted model (m, u, prior, term frequencies by value): new and changed customers are
    # scored with it, never refitted, so their pairs weigh as the run's do.
    model: Mapped[dict[str, Any] | None]
    # When new and changed customers were last compared against the run (None: not since it ran).
    refreshed_at: Mapped[datetime | None]
    # The blocking rules whose keys ``CustomerMatchKeys.blocks`` holds, in order (None: no keys
    # stored with the run, so new customers cannot be compared without a full search).
    blocking_rules: Mapped[list[Any] | None]
    # How many pairs were ever added to the run: numbers the positions of pairs added later.
    pairs_added: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<DedupeRun {self.id}: {self.pairs_found} pairs>"


class CandidatePair(Base):
    """A pair a stored search found, with its scores and the waterfall that explains them."""

    __tablename__ = "dedupe_candidate_pairs"
    __table_args__ = (
        UniqueConstraint("run_id", "first_id", "second_id"),
        CheckConstraint("first_id < second_id", name="canonical_order"),
        # The review page reads a run's pairs in this order, a page at a time.
        Index("ix_dedupe_candidate_pairs_run_position", "run_id", "position", unique=True),
        # A customer's pairs as the second of two, in all runs or in one (first_id included, so
        # counting a merged customer's pairs reads the index alone; (run, first, second) is the
        # other way in).
        Index("ix_dedupe_candidate_pairs_second_run_first", "second_id", "run_id", "first_id"),
    )

    id: Mapped[IntPK]
    run_id: Mapped[int] = mapped_column(ForeignKey("dedupe_runs.id", ondelete="CASCADE"))
    # Where the pair is shown: its group's number times 2**32 plus the order the pair was added
    # to the run in. A full search adds its pairs best group first and, inside a group, best pair
    # first; pairs found later for a group already shown come after the group's own, and groups
    # found later after every group of the search, best first.
    position: Mapped[int] = mapped_column(BigInteger)
    # Indexed: a customer merged, erased or changed finds its pairs without reading the run.
    first_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    second_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    match_probability: Mapped[float]
    score: Mapped[float]
    name_score: Mapped[float]
    address_score: Mapped[float]
    cluster: Mapped[int]
    waterfall: Mapped[list[Any]] = mapped_column(default=list)

    def __repr__(self) -> str:
        return f"<CandidatePair {self.id}: {self.first_id} and {self.second_id}>"


class CustomerMatchKeys(Base):
    """A customer's match keys as the latest stored search computed them, so comparing new
    customers against the file reads them instead of normalizing every address again.

    Personal data in another form: erasing or merging the customer deletes the row.
    """

    __tablename__ = "dedupe_customer_keys"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    # The fields of ``mailer.dedupe.keys.MatchKeys``.
    name: Mapped[str] = mapped_column(Text)
    written_name: Mapped[str] = mapped_column(Text)
    given: Mapped[str] = mapped_column(Text)
    surname: Mapped[str] = mapped_column(Text)
    street: Mapped[str] = mapped_column(Text)
    numbers: Mapped[str] = mapped_column(Text)
    locality: Mapped[str] = mapped_column(Text)
    postal: Mapped[str] = mapped_column(Text)
    country: Mapped[str] = mapped_column(Text)
    # A 64-bit digest of each blocking rule's key, eight bytes a rule in the run's
    # ``blocking_rules`` order, zeros for no key: read for the whole file in one pass.
    blocks: Mapped[bytes] = mapped_column(LargeBinary)

    def __repr__(self) -> str:
        return f"<CustomerMatchKeys {self.customer_id}>"
