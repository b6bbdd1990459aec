"""What a churn refresh reads, as arrays by customer position: customers and merges, purchase histories, evidence."""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Final, cast

import numpy as np
from numpy.typing import NDArray
from scipy import special
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.models import AddressEvent, ChangeSource
from mailer.churn import bgnbd, evidence
from mailer.churn.bgnbd import FitResult, TimeUnit
from mailer.churn.columns import IntArray, epoch_day, read_int_columns
from mailer.churn.evidence import HistoryRule
from mailer.customers.models import Customer, CustomerStatus
from mailer.messages import Message
from returns.catalog import REASONS
from returns.models import MailReturn

logger = logging.getLogger(__name__)

EPOCH: Final = date(1970, 1, 1)
# Longest merged_into_id chain followed to a survivor; a longer chain (or a cycle) counts for no one.
MAX_MERGE_DEPTH: Final = 32
DECEASED_STATUS_LABEL: Final = Message("Customer record marked deceased")
# Evidence kinds in the flat evidence arrays: a return reason's index in _REASON_CODES, or one of these.
_SELF_UPDATE: Final = -1
_DECEASED_STATUS: Final = -2
_REASON_CODES: Final = tuple(REASONS)


@dataclass(frozen=True)
class Customers:
    """Every customer by position (ids ascending), and where each one's history counts."""

    ids: IntArray
    # The position whose score this customer's orders and evidence feed: itself, a merged customer's
    # survivor, or -1 where no survivor is found.
    owner: IntArray
    deceased: NDArray[np.bool_]

    @property
    def size(self) -> int:
        """Return how many customers there are."""
        return int(self.ids.size)

    @property
    def scored(self) -> NDArray[np.bool_]:
        """Tell, per position, whether the customer gets a risk of their own (merged ones do not)."""
        # numpy types an array comparison as Any.
        return cast(NDArray[np.bool_], self.owner == np.arange(self.size))

    def positions(self, customer_ids: IntArray) -> IntArray:
        """Return the positions of these customer ids, -1 for an id not read (added meanwhile)."""
        at = np.searchsorted(self.ids, customer_ids)
        at[at >= self.size] = 0
        return np.where(self.ids[at] == customer_ids, at, -1) if self.size else np.full(customer_ids.size, -1)

    def owner_of(self, customer_ids: IntArray) -> IntArray:
        """Return the scored position each customer id's history counts for, -1 for none."""
        at = self.positions(customer_ids)
        return np.where(at >= 0, self.owner[at], -1)


def read_customers(session: Session, *, expected: int) -> Customers:
    (ids,) = read_int_columns(session, select(Customer.id).order_by(Customer.id), expected_rows=expected)
    customers = Customers(ids=ids, owner=np.arange(ids.size), deceased=np.zeros(ids.size, dtype=bool))
    special_rows = session.execute(
        select(Customer.id, Customer.status, Customer.merged_into_id).where(
            Customer.status.in_([CustomerStatus.DECEASED, CustomerStatus.MERGED])
        )
    ).all()
    deceased = np.array([row.id for row in special_rows if row.status is CustomerStatus.DECEASED], dtype=np.int64)
    customers.deceased[customers.positions(deceased)] = True
    merged = [row for row in special_rows if row.status is CustomerStatus.MERGED]
    if not merged:
        return customers
    merged_at = customers.positions(np.array([row.id for row in merged], dtype=np.int64))
    target_ids = np.array([row.merged_into_id or 0 for row in merged], dtype=np.int64)
    owner = customers.owner.copy()
    owner[merged_at] = customers.positions(target_ids)
    is_merged = np.zeros(ids.size, dtype=bool)
    is_merged[merged_at] = True
    for _ in range(MAX_MERGE_DEPTH):
        step = np.where(owner >= 0, owner[np.maximum(owner, 0)], -1)
        if np.array_equal(step, owner):
            break
        owner = step
    # A chain that never reaches an unmerged customer (a cycle, or too long) has no survivor.
    owner[(owner >= 0) & is_merged[np.maximum(owner, 0)]] = -1
    return Customers(ids=ids, owner=owner, deceased=customers.deceased)


@dataclass(frozen=True)
class History:
    """Each customer's purchase summary by position (zeros without orders)."""

    x: IntArray
    t_x: NDArray[np.float64]
    T: NDArray[np.float64]
    has_orders: NDArray[np.bool_]
    # The last order's day (days since 1970-01-01, -1 without orders) and the total spend in cents.
    last_day: IntArray
    spent_cents: IntArray
    unit: TimeUnit
    orders_used: int

    @classmethod
    def of(
        cls, people: Customers, order_customer: IntArray, order_day: IntArray, order_cents: IntArray, *,
        as_of_day: int, unit: TimeUnit,
    ) -> History:
        """Summarize the orders, each counted for its customer's scored position (a merged one's survivor)."""
        owner = people.owner_of(order_customer)
        kept = owner >= 0
        owner, day = owner[kept], order_day[kept]
        summary = bgnbd.summarize_orders(owner, day, as_of=as_of_day, unit=unit)
        n = people.size
        last_day = np.full(n, -1, dtype=np.int64)
        np.maximum.at(last_day, owner, day)
        # Float sums are exact below 2**53 cents.
        spent = np.rint(np.bincount(owner, weights=order_cents[kept], minlength=n)).astype(np.int64)
        history = cls(
            x=np.zeros(n, dtype=np.int64), t_x=np.zeros(n), T=np.zeros(n), has_orders=np.zeros(n, dtype=bool),
            last_day=last_day, spent_cents=spent, unit=unit, orders_used=int(kept.sum()),
        )
        at = summary.customer_ids.astype(np.int64)
        history.x[at], history.t_x[at], history.T[at], history.has_orders[at] = summary.x, summary.t_x, summary.T, True
        return history

    @property
    def purchase_days(self) -> IntArray:
        """Return each customer's days with an order (several orders on one day are one purchase)."""
        return np.where(self.has_orders, self.x + 1, 0)

    def base_log_odds(
        self, fit: FitResult | None, *, rule: HistoryRule, horizon_days: int
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Return each customer's churn log-odds before evidence, and where the stated prior stands in."""
        base = np.full(self.x.size, special.logit(rule.prior_risk))
        from_prior = np.ones(self.x.size, dtype=bool)
        if fit is not None:
            with_orders = self.has_orders
            base[with_orders] = evidence.base_log_odds(
                fit.params, self.x[with_orders], self.t_x[with_orders], self.T[with_orders], unit=self.unit,
                horizon_days=horizon_days,
            )
            from_prior[with_orders] = False
        return base, from_prior

    def order_intervals(self, fit: FitResult | None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the days between orders customers like each one usually take (quartiles); nan on the prior."""
        fast = np.full(self.x.size, np.nan)
        slow = np.full(self.x.size, np.nan)
        if fit is not None:
            with_orders = self.has_orders
            fast[with_orders], slow[with_orders] = evidence.order_interval_days(
                fit.params, self.x[with_orders], self.T[with_orders], unit=self.unit
            )
        return fast, slow


@dataclass(frozen=True)
class EvidenceItems:
    """Dated evidence on or before the as-of day as flat arrays, one entry per item."""

    customer: IntArray  # scored position
    weight: NDArray[np.float64]
    day: IntArray  # days since 1970-01-01
    kind: IntArray  # index into _REASON_CODES, or _SELF_UPDATE / _DECEASED_STATUS
    after_as_of: int
    unknown_reasons: int

    def used_by_reason(self) -> dict[str, int]:
        """Return how many returns of each reason code were used."""
        counts = Counter(_REASON_CODES[k] for k in self.kind[self.kind >= 0].tolist())
        return dict(sorted(counts.items()))

    def self_updates(self) -> int:
        """Return how many self-service address updates were used."""
        return int(np.count_nonzero(self.kind == _SELF_UPDATE))

    def label(self, index: int) -> str:
        """Return the words for one item."""
        kind = int(self.kind[index])
        if kind == _SELF_UPDATE:
            return evidence.self_update(EPOCH).label
        if kind == _DECEASED_STATUS:
            return DECEASED_STATUS_LABEL
        return REASONS[_REASON_CODES[kind]].evidence_label


def read_evidence(session: Session, *, people: Customers, as_of_day: int) -> EvidenceItems:
    returns = session.execute(
        select(MailReturn.customer_id, MailReturn.reason, epoch_day(MailReturn.returned_at)).where(
            MailReturn.is_current
        )
    ).all()
    code_index = {code: index for index, code in enumerate(_REASON_CODES)}
    return_customer = np.array([row[0] for row in returns], dtype=np.int64)
    return_kind = np.array([code_index.get(row[1], -9) for row in returns], dtype=np.int64)
    return_day = np.array([row[2] for row in returns], dtype=np.int64)
    unknown = return_kind == -9
    if unknown.any():
        logger.warning("churn refresh skipped %d returns with a reason not in the catalog", int(unknown.sum()))
    weights = np.array([reason.churn_weight for reason in REASONS.values()])

    # One self-service update per customer and day: a new address and its superseded predecessor
    # are two history rows of one act.
    update_customer, update_day = read_int_columns(
        session,
        select(AddressEvent.customer_id, epoch_day(AddressEvent.created_at))
        .where(AddressEvent.source == ChangeSource.CUSTOMER)
        .distinct(),
        expected_rows=0,
    )
    customer = np.concatenate((return_customer[~unknown], update_customer))
    kind = np.concatenate((return_kind[~unknown], np.full(update_customer.size, _SELF_UPDATE)))
    day = np.concatenate((return_day[~unknown], update_day))
    weight = np.where(kind >= 0, weights[np.maximum(kind, 0)], evidence.SELF_UPDATE_WEIGHT)

    owner = people.owner_of(customer)
    counted = (owner >= 0) & (day <= as_of_day)
    after_as_of = int(np.count_nonzero((owner >= 0) & (day > as_of_day)))
    customer, kind, day, weight = owner[counted], kind[counted], day[counted], weight[counted]

    # A customer recorded as deceased without a deceased return: the record itself ends it.
    ended = np.zeros(people.size, dtype=bool)
    ended[customer[np.isposinf(weight)]] = True
    by_status = np.flatnonzero(people.deceased & people.scored & ~ended)
    return EvidenceItems(
        customer=np.concatenate((customer, by_status)),
        weight=np.concatenate((weight, np.full(by_status.size, math.inf))),
        day=np.concatenate((day, np.full(by_status.size, as_of_day))),
        kind=np.concatenate((kind, np.full(by_status.size, _DECEASED_STATUS))),
        after_as_of=after_as_of,
        unknown_reasons=int(unknown.sum()),
    )
