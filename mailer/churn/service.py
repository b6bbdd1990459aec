"""Refreshing every customer's churn risk from the stored orders, returned mail and address updates.

The churn risk is the chance of no order within the horizon (``horizon_days``) after the as-of day.
One pass, vectorized with NumPy: the orders are streamed into integer arrays (no ORM objects), the
MBG/NBD purchase model is fitted on them and every customer gets a base figure at once; the evidence is the
current returned-mail rows, weighted by the reason catalog, and the customers' own address updates
(self-service, ``ChangeSource.CUSTOMER``), both faded by their age at the as-of day. Evidence dated
after the as-of day does not count. Only the customers with evidence get a full ``explain``; the
others' explanations come from shared templates. Every customer is written back with one
``UPDATE ... WHERE id = ?`` executed for many rows at a time: the risk and its explanation, the
purchase history scored (last order day, purchase days, total spend), the spend expected within the
horizon (purchase model × Gamma-Gamma spend model) and the spend at stake, risk × expected spend,
which the retention list sorts by. Last, the same risk is backtested on the stored orders (fitted up
to one horizon before the as-of day, scored on the horizon that followed) and the refresh is kept
as a ``ChurnRun`` with that backtest, its horizon and its currency.

Decisions:

- No orders at all, or too few repeat buyers in the whole file to fit a model: the stated prior
  (``evidence.HistoryRule``) stands in for the model, and the explanation says so. A one-time buyer
  is scored by the model like anyone else.
- Deceased customers score 1.0. A current deceased return is the evidence; a customer whose record
  says deceased without such a return gets the status itself as terminal evidence, dated the as-of day.
- Merged customers are the same person as the customer they were merged into (followed through
  ``merged_into_id`` to the survivor): their orders and evidence count for the survivor, and the
  merged record keeps no risk of its own (risk, explanation, purchase history, spend at stake and
  scoring time are cleared), so no person is scored or listed twice.
- The expected spend and the spend at stake are stored in whole cents of the refresh's currency
  (the orders carry none of their own), rounded, so the retention list pages through exact integer
  keys and never ranks amounts of two currencies against each other.
- Scoring is not an edit of the customer: ``updated_at`` is left as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.audit.service import record
from mailer.churn import bgnbd, evidence, spend
from mailer.churn.backtest import Backtest, BacktestError, run_backtest
from mailer.churn.bgnbd import CHURN_MODEL, FitResult, TimeUnit
from mailer.churn.columns import IntArray, epoch_day, read_int_columns
from mailer.churn.evidence import DEFAULT_HALF_LIFE_DAYS, DEFAULT_HORIZON_DAYS, DEFAULT_RULE, HistoryRule
from mailer.churn.models import ChurnRun
from mailer.churn.population import EPOCH, Customers, History, read_customers, read_evidence
from mailer.churn.score_writing import Explanations, timed, write_scores
from mailer.churn.spend import SpendFit
from mailer.customers.models import Customer
from mailer.customers.service import RISK_BAND_BOUNDS, RiskBand
from mailer.imports import ProgressCallback
from mailer.orders.models import Order

logger = logging.getLogger(__name__)

# The fewest customers with a repeat purchase the population's BG/NBD fit is made from.
MIN_REPEAT_CUSTOMERS = 20

# The risk from which a customer counts as high risk, as the customer pages band it.
HIGH_RISK: Final = RISK_BAND_BOUNDS[RiskBand.HIGH][0]


class RefreshError(ValueError):
    """The churn risks cannot be refreshed; nothing was written."""


class FitDidNotConverge(RefreshError):
    """The model fit did not converge, so its risks are not trusted; nothing was written."""

    def __init__(self, fit: FitResult) -> None:
        super().__init__(f"the {CHURN_MODEL.value.upper()} fit did not converge: {fit.message}")
        self.fit = fit


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh did: the fit, how each customer's base figure came about, the evidence used."""

    as_of: date
    unit: TimeUnit
    half_life_days: float
    # The churn risk is the chance of no order within this many days after as_of.
    horizon_days: int
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
    # The currency of the stored amounts, the spend model (None: each customer's own mean amount
    # stands in) and the backtest on the stored orders (None: the note says why not).
    currency: str = "USD"
    spend_fit: SpendFit | None = None
    backtest: Backtest | None = None
    backtest_note: str | None = None
    # Wall and CPU seconds (this process) per step; the CPU time is what a busy machine does not inflate.
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (the audit row's detail)."""
        fit = self.fit
        return {
            "as_of": self.as_of.isoformat(),
            "unit": self.unit.value,
            "half_life_days": self.half_life_days,
            "horizon_days": self.horizon_days,
            "model": CHURN_MODEL.value,
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
            "currency": self.currency,
            "spend_params": None
            if self.spend_fit is None
            else {"p": self.spend_fit.params.p, "q": self.spend_fit.params.q, "gamma": self.spend_fit.params.gamma},
            "backtest": None
            if self.backtest is None
            else {
                "calibration_end": self.backtest.as_dict()["calibration_end"],
                "customers": self.backtest.customers,
                "auc": self.backtest.risk.auc,
                "brier": self.backtest.risk.brier,
                "base_rate": self.backtest.base_rate,
                "best_baseline": self.backtest.best_baseline.as_dict(),
            },
            "backtest_note": self.backtest_note,
            "seconds": {step: round(value, 3) for step, value in self.seconds.items()},
            "cpu_seconds": {step: round(value, 3) for step, value in self.cpu_seconds.items()},
        }


def refresh_churn(
    session: Session,
    *,
    as_of: date,
    actor: str,
    unit: TimeUnit = TimeUnit.WEEK,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    currency: str = "USD",
    rule: HistoryRule = DEFAULT_RULE,
    progress: ProgressCallback | None = None,
) -> RefreshReport:
    """Fit the model on the stored orders and write every customer's churn risk and explanation.

    The churn risk is the chance of no order within ``horizon_days`` after ``as_of``.
    """
    unit = TimeUnit(unit)
    evidence.decay(0.0, half_life_days)  # refuses a bad half-life before any work
    evidence.check_horizon(horizon_days)
    as_of_day = (as_of - EPOCH).days
    seconds: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}
    customers_total = session.scalar(select(func.count()).select_from(Customer)) or 0
    orders_total = session.scalar(select(func.count()).select_from(Order).where(Order.ordered_on <= as_of)) or 0
    work = orders_total + customers_total
    tick: Callable[[int], None] | None = None if progress is None else (lambda n: progress(n, work))

    with timed(seconds, "read_customers", cpu_seconds):
        people = read_customers(session, expected=customers_total)
    with timed(seconds, "read_orders", cpu_seconds):
        order_customer, order_day, order_cents = read_int_columns(
            session,
            select(Order.customer_id, epoch_day(Order.ordered_on), Order.amount_cents).where(
                Order.ordered_on <= as_of
            ),
            expected_rows=orders_total,
            progress=tick,
        )
        orders_after = session.scalar(select(func.count()).select_from(Order).where(Order.ordered_on > as_of)) or 0
    with timed(seconds, "summarize", cpu_seconds):
        history = History.of(people, order_customer, order_day, order_cents, as_of_day=as_of_day, unit=unit)
    with timed(seconds, "fit", cpu_seconds):
        fit = _fit(history, people.scored)
    with timed(seconds, "score", cpu_seconds):
        base, from_prior = history.base_log_odds(fit, rule=rule, horizon_days=horizon_days)
        interval_days = history.order_intervals(fit)
    with timed(seconds, "read_evidence", cpu_seconds):
        items = read_evidence(session, people=people, as_of_day=as_of_day)
    with timed(seconds, "score", cpu_seconds):
        risk = evidence.combine(
            base,
            evidence_customer=items.customer,
            evidence_weight=items.weight,
            evidence_age_days=as_of_day - items.day,
            half_life_days=half_life_days,
        )
    with timed(seconds, "spend", cpu_seconds):
        spend_fit, expected_spend_cents = _expected_spend(history, fit, people.scored, horizon_days=horizon_days)
    explanations = Explanations(
        items=items, history=history, base=base, from_prior=from_prior, rule=rule, as_of=as_of,
        half_life_days=half_life_days, horizon_days=horizon_days, interval_days=interval_days,
    )
    write_scores(
        session, people=people, risk=risk, history=history, expected_spend_cents=expected_spend_cents,
        explanations=explanations, seconds=seconds, tick=tick, cpu_seconds=cpu_seconds,
    )
    with timed(seconds, "backtest", cpu_seconds):
        backtest, backtest_note = _backtest(
            people, order_customer, order_day, as_of_day=as_of_day, horizon_days=horizon_days, unit=unit
        )
    session.add(
        ChurnRun(
            as_of=as_of, horizon_days=horizon_days, model=CHURN_MODEL.value,
            params=None if fit is None else _params(fit), currency=currency,
            backtest=None if backtest is None else backtest.as_dict(), backtest_note=backtest_note,
        )
    )

    scored = people.scored
    report = RefreshReport(
        as_of=as_of,
        unit=unit,
        half_life_days=float(half_life_days),
        horizon_days=horizon_days,
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
        self_updates=items.self_updates(),
        evidence_after_as_of=items.after_as_of,
        unknown_reasons=items.unknown_reasons,
        high_risk=int(np.count_nonzero(scored & (risk >= HIGH_RISK))),
        currency=currency,
        spend_fit=spend_fit,
        backtest=backtest,
        backtest_note=backtest_note,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
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


def _fit(history: History, scored: NDArray[np.bool_]) -> FitResult | None:
    """Fit the purchase model on the scored customers with orders; None when too few have a repeat purchase."""
    fitted = history.has_orders & scored
    if np.count_nonzero(history.x[fitted] > 0) < MIN_REPEAT_CUSTOMERS:
        # Everyone stands on the prior: a handful of repeat buyers gives a fit that calls everybody
        # gone (two customers with two days each fitted b = 0), precision the data does not have.
        return None
    fit = bgnbd.fit(history.x[fitted], history.t_x[fitted], history.T[fitted], model=CHURN_MODEL)
    if not fit.converged:
        raise FitDidNotConverge(fit)
    return fit


def _params(fit: FitResult) -> dict[str, float]:
    p = fit.params
    return {"r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b}


def _expected_spend(
    history: History, fit: FitResult | None, scored: NDArray[np.bool_], *, horizon_days: int
) -> tuple[SpendFit | None, IntArray]:
    """Return the spend model and each customer's spend expected within the horizon, in whole cents.

    Expected purchase days (the purchase model) × expected amount per purchase day (Gamma-Gamma).
    Without a purchase model the total spend so far stands in, as the list ranked before; a spend
    model that cannot be fitted (or does not converge) leaves each customer's own mean amount.
    """
    if fit is None:
        return None, history.spent_cents.copy()
    days = history.purchase_days
    with_orders = history.has_orders & scored
    mean_amount = np.zeros(days.size)
    mean_amount[with_orders] = history.spent_cents[with_orders] / days[with_orders] / 100.0
    spend_fit: SpendFit | None
    try:
        spend_fit = spend.fit(days[with_orders], mean_amount[with_orders])
    except ValueError:
        spend_fit = None
    if spend_fit is not None and not spend_fit.converged:
        spend_fit = None
    per_order = mean_amount.copy()
    if spend_fit is not None:
        per_order[with_orders] = spend.expected_amount(spend_fit.params, days[with_orders], mean_amount[with_orders])
    purchases = np.zeros(days.size)
    purchases[with_orders] = bgnbd.expected_purchases(
        fit.params, history.x[with_orders], history.t_x[with_orders], history.T[with_orders],
        horizon=horizon_days / history.unit.days, model=CHURN_MODEL,
    )
    return spend_fit, np.rint(purchases * per_order * 100.0).astype(np.int64)


def _backtest(
    people: Customers, order_customer: IntArray, order_day: IntArray, *, as_of_day: int, horizon_days: int,
    unit: TimeUnit,
) -> tuple[Backtest | None, str | None]:
    """Backtest the risk on the stored orders: fitted up to one horizon before the as-of day, scored on the last."""
    owner = people.owner_of(order_customer)
    kept = owner >= 0
    end_day = as_of_day - horizon_days
    try:
        return run_backtest(
            owner[kept], order_day[kept], calibration_end_day=end_day, horizon_days=horizon_days, unit=unit
        ), None
    except BacktestError as error:
        end = EPOCH + timedelta(days=end_day)
        return None, f"no backtest with orders up to {end}: {error}"
