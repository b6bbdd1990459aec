"""Churn risk: the model's base figure moved by dated evidence.

The churn risk is the chance of no purchase within the horizon (365 days unless told) after the
scoring day; the purchase model (``bgnbd.CHURN_MODEL``) gives the base figure. Everything is in
log-odds of churn. A piece of evidence with likelihood ratio w, observed d days ago,
adds log(w) · 0.5^(d / half-life): fresh evidence multiplies the odds of churn by w, and one half-life
later by √w. A terminal piece (a deceased return, w = ∞) makes the risk exactly 1. Evidence dated after
the as-of day does not count yet.

``combine`` scores whole arrays for the nightly refresh; ``mailer.churn.explanation`` tells one
customer's story and always lands on the same number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from mailer.churn.bgnbd import CHURN_MODEL, BgNbdParams, Model, TimeUnit, no_purchase_log_odds
from mailer.churn.odds import risk_of
from mailer.churn.wording import WORDINGS, Wording

FloatArray = NDArray[np.float64]

DEFAULT_HALF_LIFE_DAYS: Final = 365.0
# A customer who gives us their new address themselves is very likely still with us: odds of churn ÷4.
SELF_UPDATE_WEIGHT: Final = 0.25


@dataclass(frozen=True)
class HistoryRule:
    """The stated prior: the churn risk of a customer the purchase model cannot score.

    That is a customer with no order on record (say, from a rented list), or everyone when too few
    customers have bought twice for a model to be fitted. Every customer with an order is scored by
    the model, a one-time buyer too: the purchase model lets them leave, so a one-time buyer from two
    years ago is riskier than one from last month.
    """

    prior_risk: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.prior_risk < 1:
            raise ValueError("prior_risk must lie strictly between 0 and 1")


DEFAULT_RULE: Final = HistoryRule()
DEFAULT_HORIZON_DAYS: Final = 365
# Quartiles of the rate a customer like this buys at (while still buying): "usually every 1-2 weeks".
_INTERVAL_QUARTILES: Final = (0.25, 0.75)


def check_horizon(horizon_days: int) -> None:
    """Refuse a horizon that is not a whole number of days from 1 to 3650."""
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or not 1 <= horizon_days <= 3650:
        raise ValueError(f"horizon_days must be a whole number of days from 1 to 3650, not {horizon_days!r}")


def base_log_odds(
    params: BgNbdParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    unit: TimeUnit,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    model: Model = CHURN_MODEL,
) -> FloatArray:
    """Return each customer's log-odds of no purchase within the horizon, before evidence."""
    check_horizon(horizon_days)
    return no_purchase_log_odds(params, x, t_x, T, horizon=horizon_days / TimeUnit(unit).days, model=model)


def order_interval_days(
    params: BgNbdParams, x: ArrayLike, T: ArrayLike, *, unit: TimeUnit
) -> tuple[FloatArray, FloatArray]:
    """Return the days between orders that customers like each one usually take: the quartiles, shortest first.

    While still buying, a customer's purchase rate given x repeat purchases in an age T is
    gamma(r + x, α + T); the interval is its inverse, so the rate's upper quartile gives the short end.
    """
    x_arr = np.asarray(x, dtype=np.float64)
    days_per_unit = TimeUnit(unit).days
    # The quantiles depend on x alone: one evaluation per distinct x.
    values, at = np.unique(x_arr, return_inverse=True)
    low_q, high_q = _INTERVAL_QUARTILES
    fast = special.gammaincinv(params.r + values, high_q)[at]
    slow = special.gammaincinv(params.r + values, low_q)[at]
    scale = (params.alpha + np.asarray(T, dtype=np.float64)) * days_per_unit
    return scale / fast, scale / slow


def check_half_life(half_life_days: float) -> None:
    """Refuse a half-life that is not a positive number of days."""
    if not (math.isfinite(half_life_days) and half_life_days > 0):
        raise ValueError("half_life_days must be a positive number of days")


def decay(age_days: ArrayLike, half_life_days: float) -> FloatArray:
    """Return how much of an effect is left after ``age_days``; evidence from the future counts 0."""
    check_half_life(half_life_days)
    age = np.asarray(age_days, dtype=np.float64)
    return np.where(age >= 0, np.exp2(-np.maximum(age, 0.0) / half_life_days), 0.0)


def combine(
    base: ArrayLike,
    *,
    evidence_customer: ArrayLike,
    evidence_weight: ArrayLike,
    evidence_age_days: ArrayLike,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> FloatArray:
    """Return each customer's churn risk: base log-odds plus their faded evidence.

    Evidence comes as flat arrays, one entry per item: the customer's position in ``base``, the
    likelihood ratio (``inf`` for terminal) and its age in days at the as-of day.
    """
    base_arr = np.asarray(base, dtype=np.float64)
    customer = np.asarray(evidence_customer, dtype=np.int64)
    weight = np.asarray(evidence_weight, dtype=np.float64)
    age = np.asarray(evidence_age_days, dtype=np.float64)
    if not (customer.shape == weight.shape == age.shape and customer.ndim == 1):
        raise ValueError("evidence arrays must be 1-D and of the same length")
    if customer.size and (customer.min() < 0 or customer.max() >= base_arr.size):
        raise ValueError("evidence_customer must index into base")
    if np.any(np.isnan(weight)) or np.any(weight <= 0):
        raise ValueError("evidence weights must be positive likelihood ratios (inf for terminal)")

    factor = decay(age, half_life_days)
    terminal = np.isposinf(weight) & (age >= 0)
    finite = ~np.isposinf(weight)
    shift = np.zeros(weight.shape)
    shift[finite] = np.log(weight[finite]) * factor[finite]
    log_odds = base_arr + np.bincount(customer, weights=shift, minlength=base_arr.size)
    risk = special.expit(log_odds)
    risk[np.bincount(customer[terminal], minlength=base_arr.size) > 0] = 1.0
    return risk


@dataclass(frozen=True)
class Evidence:
    """One dated piece of evidence: a likelihood ratio of churn and the words that name it."""

    # A Message keeps the label translatable in the stored explanation; plain words are kept as they are.
    label: str
    # Above 1 raises the odds of churn, below 1 lowers them, math.inf ends the relationship.
    weight: float
    observed_on: date

    def __post_init__(self) -> None:
        if math.isnan(self.weight) or self.weight <= 0:
            raise ValueError(f"evidence weight must be a positive likelihood ratio, not {self.weight}")

    @property
    def is_terminal(self) -> bool:
        """Tell whether this evidence ends the customer relationship outright."""
        return math.isinf(self.weight)


def self_update(observed_on: date, *, weight: float = SELF_UPDATE_WEIGHT) -> Evidence:
    """Return the evidence of a customer updating their own address."""
    return Evidence(label=WORDINGS[Wording.SELF_UPDATE], weight=weight, observed_on=observed_on)


@dataclass(frozen=True)
class BaseFigure:
    """One customer's churn log-odds before evidence, with what it rests on."""

    log_odds: float
    from_prior: bool
    x: int
    t_x: float
    T: float
    unit: TimeUnit
    rule: HistoryRule = DEFAULT_RULE
    # False for a customer with no order on record at all (say, from a rented list).
    has_orders: bool = True
    horizon_days: int = DEFAULT_HORIZON_DAYS
    # The days between orders customers like this usually take (quartiles); None on the prior.
    interval_days: tuple[float, float] | None = None

    @property
    def risk(self) -> float:
        """Return the churn risk before evidence."""
        return risk_of(self.log_odds)


def base_figure(
    params: BgNbdParams,
    x: int,
    t_x: float,
    T: float,
    *,
    unit: TimeUnit,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    rule: HistoryRule = DEFAULT_RULE,
) -> BaseFigure:
    """Return one customer's base figure, exactly as ``base_log_odds`` scores it."""
    log_odds = base_log_odds(params, [x], [t_x], [T], unit=unit, horizon_days=horizon_days)
    fast, slow = order_interval_days(params, [x], [T], unit=unit)
    return BaseFigure(
        log_odds=float(log_odds[0]),
        from_prior=False,
        x=int(x),
        t_x=float(t_x),
        T=float(T),
        unit=TimeUnit(unit),
        rule=rule,
        horizon_days=horizon_days,
        interval_days=(float(fast[0]), float(slow[0])),
    )


def base_figure_on_prior(
    *,
    unit: TimeUnit,
    rule: HistoryRule = DEFAULT_RULE,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    has_orders: bool = False,
) -> BaseFigure:
    """Return the base figure of a customer the model does not score: the stated prior."""
    return BaseFigure(
        log_odds=float(special.logit(rule.prior_risk)),
        from_prior=True,
        x=0,
        t_x=0.0,
        T=0.0,
        unit=TimeUnit(unit),
        rule=rule,
        has_orders=has_orders,
        horizon_days=horizon_days,
    )


def base_figure_without_orders(
    *, unit: TimeUnit, rule: HistoryRule = DEFAULT_RULE, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> BaseFigure:
    """Return the base figure of a customer with no order on record: the stated prior."""
    return base_figure_on_prior(unit=unit, rule=rule, horizon_days=horizon_days)
