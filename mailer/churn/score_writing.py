"""Writing a churn refresh back: explanations built a chunk at a time, one executemany UPDATE per chunk."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from mailer.churn import explanation
from mailer.churn.columns import IntArray
from mailer.churn.evidence import BaseFigure, Evidence, HistoryRule
from mailer.churn.population import EPOCH, Customers, EvidenceItems, History
from mailer.customers.models import Customer
from mailer.db import larger_sqlite_cache, utcnow

# Customers written back per executemany; also the unit of explanation work between progress reports.
WRITE_CHUNK: Final = 20_000
# SQLite page cache while writing scores, in KiB (a negative cache_size means KiB).
SQLITE_CACHE_KIB: Final = 256 * 1024


@contextmanager
def timed(seconds: dict[str, float], step: str, cpu_seconds: dict[str, float] | None = None) -> Iterator[None]:
    """Add the time the block takes to ``seconds[step]``, and the process's CPU time to ``cpu_seconds[step]``."""
    started = time.perf_counter()
    cpu_started = time.process_time()
    try:
        yield
    finally:
        seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - started
        if cpu_seconds is not None:
            cpu_seconds[step] = cpu_seconds.get(step, 0.0) + time.process_time() - cpu_started


@dataclass
class Explanations:
    """Explanation JSON text per position: ``explain`` where there is evidence, templates elsewhere."""

    items: EvidenceItems
    history: History
    base: NDArray[np.float64]
    from_prior: NDArray[np.bool_]
    rule: HistoryRule
    as_of: date
    half_life_days: float
    horizon_days: int
    # The days between orders customers like each one usually take (quartiles), nan on the prior.
    interval_days: tuple[NDArray[np.float64], NDArray[np.float64]]

    def __post_init__(self) -> None:
        order = np.argsort(self.items.customer, kind="stable")
        self._order = order
        self._item_customer = self.items.customer[order]
        self._templates = explanation.BaseOnlyExplanations(
            unit=self.history.unit, rule=self.rule, horizon_days=self.horizon_days
        )

    def for_range(self, chunk: slice) -> list[str]:
        """Return the explanations of the positions in ``chunk``."""
        positions = np.arange(chunk.start, chunk.stop)
        history = self.history
        texts = self._templates.render(
            self.base[chunk], self.from_prior[chunk], history.x[chunk], history.t_x[chunk], history.T[chunk],
            history.has_orders[chunk], (self.interval_days[0][chunk], self.interval_days[1][chunk]),
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
            horizon_days=self.horizon_days,
            interval_days=None
            if self.from_prior[position]
            else (float(self.interval_days[0][position]), float(self.interval_days[1][position])),
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


def write_scores(
    session: Session,
    *,
    people: Customers,
    risk: NDArray[np.float64],
    history: History,
    expected_spend_cents: IntArray,
    explanations: Explanations,
    seconds: dict[str, float],
    tick: Callable[[int], None] | None,
    cpu_seconds: dict[str, float] | None = None,
) -> None:
    """Write every customer's risk, explanation, purchase history, expected spend and spend at stake, by chunks."""
    writer = _ScoreWriter(session, scored_at=utcnow())
    scored = people.scored
    purchase_days = history.purchase_days
    value_at_risk = np.rint(risk * expected_spend_cents).astype(np.int64)
    # Every score moves an entry of the churn_risk index; with SQLite's default 2 MB cache those index
    # pages are read and written again and again (measured: the write takes half as long).
    with larger_sqlite_cache(session, kib=SQLITE_CACHE_KIB):
        for start in range(0, people.size, WRITE_CHUNK):
            chunk = slice(start, min(start + WRITE_CHUNK, people.size))
            with timed(seconds, "explain", cpu_seconds):
                texts = explanations.for_range(chunk)
            with timed(seconds, "write", cpu_seconds):
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
                    expected_spend_cents=expected_spend_cents[kept].tolist(),
                    value_at_risk_cents=value_at_risk[kept].tolist(),
                )
                writer.clear(ids[~keep].tolist())
            if tick is not None:
                tick(ids.size)


def _iso_days(days: IntArray) -> list[str | None]:
    """Return day numbers as YYYY-MM-DD (how SQLite stores a date, and what PostgreSQL reads as one); -1 as None."""
    texts: list[str | None] = np.datetime_as_string(days.astype("datetime64[D]")).tolist()
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
                churn_expected_spend_cents=bindparam("b_expected_spend_cents"),
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
                churn_purchase_days=None, churn_spent_cents=None, churn_expected_spend_cents=None,
                churn_value_at_risk_cents=None,
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
        expected_spend_cents: list[int],
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
            "b_expected_spend_cents": expected_spend_cents,
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
