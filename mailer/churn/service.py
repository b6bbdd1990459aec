"""Refreshing every customer's churn risk from the stored orders, returned mail and address updates.

One pass, vectorized with NumPy: the orders are streamed into integer arrays (no ORM objects), the
BG/NBD model is fitted on them and every customer gets a base figure at once; the evidence is the
current returned-mail rows, weighted by the reason catalog, and the customers' own address updates
(self-service, ``ChangeSource.CUSTOMER``), both faded by their age at the as-of day. Evidence dated
after the as-of day does not count. Only the customers with evidence get a full ``explain``; the
others' explanations come from shared templates. Every customer is written back with one
``UPDATE ... WHERE id = ?`` executed for many rows at a time: the risk and its explanation, the
purchase history scored (last order day, purchase days, total spend) and the spend at stake,
risk × total spend, which the retention list sorts by.

Decisions:

- Too little history (see ``evidence.HistoryRule``) or no orders at all: the stated prior stands in
  for the model, and the explanation says so.
- Deceased customers score 1.0. A current deceased return is the evidence; a customer whose record
  says deceased without such a return gets the status itself as terminal evidence, dated the as-of day.
- Merged customers are the same person as the customer they were merged into (followed through
  ``merged_into_id`` to the survivor): their orders and evidence count for the survivor, and the
  merged record keeps no risk of its own (risk, explanation, purchase history, spend at stake and
  scoring time are cleared), so no person is scored or listed twice.
- The spend at stake is stored in whole cents, rounded, so the retention list pages through exact
  integer keys.
- Scoring is not an edit of the customer: ``updated_at`` is left as it was.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from scipy import special
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from mailer.addresses.models import AddressEvent, ChangeSource
from mailer.audit.service import record
from mailer.churn import bgnbd, evidence, explanation
from mailer.churn.bgnbd import FitResult, TimeUnit
from mailer.churn.columns import IntArray, epoch_day, read_int_columns
from mailer.churn.evidence import DEFAULT_HALF_LIFE_DAYS, DEFAULT_RULE, BaseFigure, Evidence, HistoryRule
from mailer.customers.models import Customer, CustomerStatus
from mailer.customers.service import RISK_BAND_BOUNDS, RiskBand
from mailer.db import utcnow
from mailer.imports import ProgressCallback
from mailer.messages import Message
from mailer.orders.models import Order
from returns.catalog import REASONS
from returns.models import MailReturn

logger = logging.getLogger(__name__)

EPOCH: Final = date(1970, 1, 1)
# The fewest customers with a repeat purchase the population's BG/NBD fit is made from.
MIN_REPEAT_CUSTOMERS = 20
# Customers written back per executemany; also the unit of explanation work between progress reports.
WRITE_CHUNK: Final = 20_000
# SQLite page cache while writing scores, in KiB (a negative cache_size means KiB).
SQLITE_CACHE_KIB: Final = 256 * 1024
# Longest merged_into_id chain followed to a survivor; a longer chain (or a cycle) counts for no one.
MAX_MERGE_DEPTH: Final = 32
DECEASED_STATUS_LABEL: Final = Message("Customer record marked deceased")

# The risk from which a customer counts as high risk, as the customer pages band it.
HIGH_RISK: Final = RISK_BAND_BOUNDS[RiskBand.HIGH][0]
# Evidence kinds in the flat evidence arrays: a return reason's index in _REASON_CODES, or one of these.
_SELF_UPDATE: Final = -1
_DECEASED_STATUS: Final = -2
_REASON_CODES: Final = tuple(REASONS)


class RefreshError(ValueError):
    """The churn risks cannot be refreshed; nothing was written."""


class FitDidNotConverge(RefreshError):
    """The model fit did not converge, so its risks are not trusted; nothing was written."""

    def __init__(self, fit: FitResult) -> None:
        super().__init__(f"the BG/NBD fit did not converge: {fit.message}")
        self.fit = fit


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh did: the fit, how each customer's base figure came about, the evidence used."""

    as_of: date
    unit: TimeUnit
    half_life_days: float
    # None when fewer than MIN_REPEAT_CUSTOMERS have a repeat purchase: then everyone stands on the stated prior.
    fit: FitResult | None
    scored: int
    from_model: int
    # Customers with orders but too little history for the model.
    from_prior: int
    without_orders: int
    with_evidence: int
    deceased: int
    merged: int
    orders_used: int
    orders_after_as_of: int
    # Current returns used, by reason code; self-service updates (one per customer and day).
    returns_used: dict[str, int]
    self_updates: int
    evidence_after_as_of: int
    unknown_reasons: int
    high_risk: int
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (the audit row's detail)."""
        fit = self.fit
        return {
            "as_of": self.as_of.isoformat(),
            "unit": self.unit.value,
            "half_life_days": self.half_life_days,
            "params": None
            if fit is None
            else {"r": fit.params.r, "alpha": fit.params.alpha, "a": fit.params.a, "b": fit.params.b},
            "log_likelihood": None if fit is None else fit.log_likelihood,
            "fit_iterations": None if fit is None else fit.iterations,
            "fit_customers": None if fit is None else fit.n_customers,
            "scored": self.scored,
            "from_model": self.from_model,
            "from_prior": self.from_prior,
            "without_orders": self.without_orders,
            "with_evidence": self.with_evidence,
            "deceased": self.deceased,
            "merged": self.merged,
            "orders_used": self.orders_used,
            "orders_after_as_of": self.orders_after_as_of,
            "returns_used": dict(self.returns_used),
            "self_updates": self.self_updates,
            "evidence_after_as_of": self.evidence_after_as_of,
            "unknown_reasons": self.unknown_reasons,
            "high_risk": self.high_risk,
            "seconds": {step: round(value, 3) for step, value in self.seconds.items()},
        }


def refresh_churn(
    session: Session,
    *,
    as_of: date,
    actor: str,
    unit: TimeUnit = TimeUnit.WEEK,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    rule: HistoryRule = DEFAULT_RULE,
    progress: ProgressCallback | None = None,
) -> RefreshReport:
    """Fit the model on the stored orders and write every customer's churn risk and explanation."""
    unit = TimeUnit(unit)
    evidence.decay(0.0, half_life_days)  # refuses a bad half-life before any work
    as_of_day = (as_of - EPOCH).days
    seconds: dict[str, float] = {}
    customers_total = session.scalar(select(func.count()).select_from(Customer)) or 0
    orders_total = session.scalar(select(func.count()).select_from(Order).where(Order.ordered_on <= as_of)) or 0
    work = orders_total + customers_total
    tick: Callable[[int], None] | None = None if progress is None else (lambda n: progress(n, work))

    with _timed(seconds, "read_customers"):
        people = _read_customers(session, expected=customers_total)
    with _timed(seconds, "read_orders"):
        order_customer, order_day, order_cents = read_int_columns(
            session,
            select(Order.customer_id, epoch_day(Order.ordered_on), Order.amount_cents).where(
                Order.ordered_on <= as_of
            ),
            expected_rows=orders_total,
            progress=tick,
        )
        orders_after = session.scalar(select(func.count()).select_from(Order).where(Order.ordered_on > as_of)) or 0
    with _timed(seconds, "summarize"):
        history = _History.of(people, order_customer, order_day, order_cents, as_of_day=as_of_day, unit=unit)
    with _timed(seconds, "fit"):
        fit = history.fit(people.scored)
    with _timed(seconds, "score"):
        base, from_prior = history.base_log_odds(fit, rule=rule)
    with _timed(seconds, "read_evidence"):
        items = _read_evidence(session, people=people, as_of_day=as_of_day)
    with _timed(seconds, "score"):
        risk = evidence.combine(
            base,
            evidence_customer=items.customer,
            evidence_weight=items.weight,
            evidence_age_days=as_of_day - items.day,
            half_life_days=half_life_days,
        )
    explanations = _Explanations(
        items=items, history=history, base=base, from_prior=from_prior, rule=rule, as_of=as_of,
        half_life_days=half_life_days,
    )
    _write_scores(
        session, people=people, risk=risk, history=history, explanations=explanations, seconds=seconds, tick=tick
    )

    scored = people.scored
    report = RefreshReport(
        as_of=as_of,
        unit=unit,
        half_life_days=float(half_life_days),
        fit=fit,
        scored=int(scored.sum()),
        from_model=int((scored & ~from_prior).sum()),
        from_prior=int((scored & from_prior & history.has_orders).sum()),
        without_orders=int((scored & ~history.has_orders).sum()),
        with_evidence=int(np.unique(items.customer).size),
        deceased=int(people.deceased.sum()),
        merged=int((~scored).sum()),
        orders_used=history.orders_used,
        orders_after_as_of=int(orders_after),
        returns_used=items.used_by_reason(),
        self_updates=int(np.count_nonzero(items.kind == _SELF_UPDATE)),
        evidence_after_as_of=items.after_as_of,
        unknown_reasons=items.unknown_reasons,
        high_risk=int(np.count_nonzero(scored & (risk >= HIGH_RISK))),
        seconds=seconds,
    )
    record(
        session, actor=actor, action="churn.refresh", object_type="churn_model", object_id=as_of.isoformat(),
        detail=report.as_dict(),
    )
    session.flush()
    logger.info(
        "refreshed the churn risk of %d customers as of %s (%d with evidence)",
        report.scored, as_of, report.with_evidence,
    )
    return report


@contextmanager
def _timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - started


# --- customers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Customers:
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
        return self.owner == np.arange(self.size)

    def positions(self, customer_ids: IntArray) -> IntArray:
        """Return the positions of these customer ids, -1 for an id not read (added meanwhile)."""
        at = np.searchsorted(self.ids, customer_ids)
        at[at >= self.size] = 0
        return np.where(self.ids[at] == customer_ids, at, -1) if self.size else np.full(customer_ids.size, -1)

    def owner_of(self, customer_ids: IntArray) -> IntArray:
        """Return the scored position each customer id's history counts for, -1 for none."""
        at = self.positions(customer_ids)
        return np.where(at >= 0, self.owner[at], -1)


def _read_customers(session: Session, *, expected: int) -> _Customers:
    (ids,) = read_int_columns(session, select(Customer.id).order_by(Customer.id), expected_rows=expected)
    customers = _Customers(ids=ids, owner=np.arange(ids.size), deceased=np.zeros(ids.size, dtype=bool))
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
    return _Customers(ids=ids, owner=owner, deceased=customers.deceased)


# --- purchase history and the model -------------------------------------------------------------


@dataclass(frozen=True)
class _History:
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
        cls, people: _Customers, order_customer: IntArray, order_day: IntArray, order_cents: IntArray, *,
        as_of_day: int, unit: TimeUnit,
    ) -> _History:
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

    def fit(self, scored: NDArray[np.bool_]) -> FitResult | None:
        """Fit BG/NBD on the scored customers with orders; None when too few have a repeat purchase."""
        fitted = self.has_orders & scored
        if np.count_nonzero(self.x[fitted] > 0) < MIN_REPEAT_CUSTOMERS:
            # Everyone stands on the prior: a handful of repeat buyers gives a fit that calls everybody
            # gone (two customers with two days each fitted b = 0), precision the data does not have.
            return None
        fit = bgnbd.fit(self.x[fitted], self.t_x[fitted], self.T[fitted])
        if not fit.converged:
            raise FitDidNotConverge(fit)
        return fit

    def base_log_odds(
        self, fit: FitResult | None, *, rule: HistoryRule
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Return each customer's churn log-odds before evidence, and where the stated prior stands in."""
        base = np.full(self.x.size, special.logit(rule.prior_risk))
        from_prior = np.ones(self.x.size, dtype=bool)
        if fit is not None:
            with_orders = self.has_orders
            base[with_orders], from_prior[with_orders] = evidence.base_log_odds(
                fit.params, self.x[with_orders], self.t_x[with_orders], self.T[with_orders], unit=self.unit, rule=rule
            )
        return base, from_prior


# --- evidence -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EvidenceItems:
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

    def label(self, index: int) -> str:
        """Return the words for one item."""
        kind = int(self.kind[index])
        if kind == _SELF_UPDATE:
            return evidence.self_update(EPOCH).label
        if kind == _DECEASED_STATUS:
            return DECEASED_STATUS_LABEL
        return REASONS[_REASON_CODES[kind]].evidence_label


def _read_evidence(session: Session, *, people: _Customers, as_of_day: int) -> _EvidenceItems:
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
    return _EvidenceItems(
        customer=np.concatenate((customer, by_status)),
        weight=np.concatenate((weight, np.full(by_status.size, math.inf))),
        day=np.concatenate((day, np.full(by_status.size, as_of_day))),
        kind=np.concatenate((kind, np.full(by_status.size, _DECEASED_STATUS))),
        after_as_of=after_as_of,
        unknown_reasons=int(unknown.sum()),
    )


# --- explanations and writing ---------------------------------------------------------------------


@dataclass
class _Explanations:
    """Explanation JSON text per position: ``explain`` where there is evidence, templates elsewhere."""

    items: _EvidenceItems
    history: _History
    base: NDArray[np.float64]
    from_prior: NDArray[np.bool_]
    rule: HistoryRule
    as_of: date
    half_life_days: float

    def __post_init__(self) -> None:
        order = np.argsort(self.items.customer, kind="stable")
        self._order = order
        self._item_customer = self.items.customer[order]
        self._templates = explanation.BaseOnlyExplanations(unit=self.history.unit, rule=self.rule)

    def for_range(self, chunk: slice) -> list[str]:
        """Return the explanations of the positions in ``chunk``."""
        positions = np.arange(chunk.start, chunk.stop)
        history = self.history
        texts = self._templates.render(
            self.base[chunk], self.from_prior[chunk], history.x[chunk], history.t_x[chunk], history.T[chunk],
            history.has_orders[chunk],
        )
        first = np.searchsorted(self._item_customer, chunk.start)
        last = np.searchsorted(self._item_customer, chunk.stop)
        if first == last:
            return texts
        holders, starts = np.unique(self._item_customer[first:last], return_index=True)
        bounds = np.append(starts, last - first) + first
        for position, begin, end in zip(holders.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            texts[position - positions[0]] = json.dumps(self.explain(position, self._order[begin:end]).to_json())
        return texts

    def explain(self, position: int, item_indexes: IntArray) -> explanation.Assessment:
        """Return one customer's assessment from their base figure and evidence items."""
        history = self.history
        base = BaseFigure(
            log_odds=float(self.base[position]),
            from_prior=bool(self.from_prior[position]),
            x=int(history.x[position]),
            t_x=float(history.t_x[position]),
            T=float(history.T[position]),
            unit=history.unit,
            rule=self.rule,
            has_orders=bool(history.has_orders[position]),
        )
        items = [
            Evidence(
                label=self.items.label(i),
                weight=float(self.items.weight[i]),
                observed_on=EPOCH + timedelta(days=int(self.items.day[i])),
            )
            for i in item_indexes.tolist()
        ]
        return explanation.explain(base, items, as_of=self.as_of, half_life_days=self.half_life_days)


def _write_scores(
    session: Session,
    *,
    people: _Customers,
    risk: NDArray[np.float64],
    history: _History,
    explanations: _Explanations,
    seconds: dict[str, float],
    tick: Callable[[int], None] | None,
) -> None:
    """Write every customer's risk, explanation, purchase history and spend at stake, a chunk at a time."""
    writer = _ScoreWriter(session, scored_at=utcnow())
    scored = people.scored
    purchase_days = history.purchase_days
    value_at_risk = np.rint(risk * history.spent_cents).astype(np.int64)
    with _larger_sqlite_cache(session):
        for start in range(0, people.size, WRITE_CHUNK):
            chunk = slice(start, min(start + WRITE_CHUNK, people.size))
            with _timed(seconds, "explain"):
                texts = explanations.for_range(chunk)
            with _timed(seconds, "write"):
                ids, keep = people.ids[chunk], scored[chunk]
                kept = np.arange(chunk.start, chunk.stop)[keep]
                kept_texts = texts if keep.all() else [t for t, k in zip(texts, keep.tolist(), strict=True) if k]
                writer.write(
                    ids=ids[keep].tolist(),
                    risks=risk[kept].tolist(),
                    explanations=kept_texts,
                    last_ordered_on=_iso_days(history.last_day[kept]),
                    purchase_days=purchase_days[kept].tolist(),
                    spent_cents=history.spent_cents[kept].tolist(),
                    value_at_risk_cents=value_at_risk[kept].tolist(),
                )
                writer.clear(ids[~keep].tolist())
            if tick is not None:
                tick(ids.size)


def _iso_days(days: IntArray) -> list[str | None]:
    """Return day numbers as YYYY-MM-DD (how SQLite stores a date, and what PostgreSQL reads as one); -1 as None."""
    texts = np.datetime_as_string(days.astype("datetime64[D]")).tolist()
    if np.all(days >= 0):
        return texts
    return [text if day >= 0 else None for text, day in zip(texts, days.tolist(), strict=True)]


class _ScoreWriter:
    """Writes scores by customer id: ``UPDATE customers ... WHERE id = ?``, executed for many rows at once.

    The statement is compiled once and run through the driver's executemany: the rows are numbers
    and text already in the form the database stores, so SQLAlchemy's per-row parameter handling
    (which costs as much as SQLite's own work here) is skipped. Merged customers' scores are
    cleared by a second statement.
    """

    def __init__(self, session: Session, *, scored_at: datetime) -> None:
        table = Customer.__table__
        self.connection = session.connection()
        dialect = self.connection.dialect
        # Scoring is not an edit of the customer record: updated_at keeps its value.
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                churn_risk=bindparam("b_risk"),
                churn_explanation=bindparam("b_explanation"),
                churn_scored_at=bindparam("b_scored_at"),
                churn_last_ordered_on=bindparam("b_last_ordered_on"),
                churn_purchase_days=bindparam("b_purchase_days"),
                churn_spent_cents=bindparam("b_spent_cents"),
                churn_value_at_risk_cents=bindparam("b_value_at_risk_cents"),
                updated_at=table.c.updated_at,
            )
        )
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup or ()) if compiled.positional else None
        scored_at_type = table.c.churn_scored_at.type.dialect_impl(dialect)
        to_database = scored_at_type.bind_processor(dialect)
        self.scored_at = to_database(scored_at) if to_database else scored_at
        self.cleared = (
            update(table)
            .where(table.c.id.in_(bindparam("b_ids", expanding=True)))
            .values(
                churn_risk=None, churn_explanation=None, churn_scored_at=None, churn_last_ordered_on=None,
                churn_purchase_days=None, churn_spent_cents=None, churn_value_at_risk_cents=None,
                updated_at=table.c.updated_at,
            )
        )

    def write(
        self,
        *,
        ids: list[int],
        risks: list[float],
        explanations: list[str],
        last_ordered_on: list[str | None],
        purchase_days: list[int],
        spent_cents: list[int],
        value_at_risk_cents: list[int],
    ) -> None:
        """Store each customer's risk, explanation (JSON text), purchase history, spend at stake and scoring time."""
        if not ids:
            return
        values = {
            "b_id": ids,
            "b_risk": risks,
            "b_explanation": explanations,
            "b_scored_at": itertools.repeat(self.scored_at, len(ids)),
            "b_last_ordered_on": last_ordered_on,
            "b_purchase_days": purchase_days,
            "b_spent_cents": spent_cents,
            "b_value_at_risk_cents": value_at_risk_cents,
        }
        if self.names is not None:
            rows: list[Any] = list(zip(*(values[name] for name in self.names), strict=False))
        else:
            names = tuple(values)
            rows = [dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=False)]
        self.connection.exec_driver_sql(self.sql, rows)

    def clear(self, ids: list[int]) -> None:
        """Clear the scores of these customers."""
        if ids:
            self.connection.execute(self.cleared, {"b_ids": ids})


@contextmanager
def _larger_sqlite_cache(session: Session) -> Iterator[None]:
    """On SQLite, give this connection a page cache that holds the customers table while writing.

    Every score moves an entry of the churn_risk index; with SQLite's default 2 MB cache those
    index pages are read and written again and again (measured: the write takes half as long).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB:d}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous):d}")
