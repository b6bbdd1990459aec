"""How well the churn risk predicts: fit on the orders up to a day, predict the holdout, score it.

The churn risk is the chance of no purchase within the horizon. A backtest fits the purchase model
on the orders up to the calibration end, takes every customer who had bought by then and predicts
"no purchase in (end, end + horizon]"; the orders in that window say what happened. It reports:

- AUC: the chance that a customer who did not buy again was given a higher risk than one who did
  (ties count half); how well the list is ranked.
- Brier score: the mean squared gap between the risk and what happened (0 or 1), beside the Brier
  score of saying the holdout's base rate to everyone, base rate × (1 − base rate).
- Calibration by decile of the predicted risk: the mean prediction against the observed share, and
  the decile where they lie furthest apart.

Beside it, in the same run, the baselines: recency alone (time since the last purchase), frequency
alone (fewer purchase days, riskier), BG/NBD's 1 − P(alive) (the figure the churn risk used to be)
and each candidate purchase model's chance of no purchase, so the choice of model can be checked on
any file. Recency and frequency are rankings, not probabilities: they have an AUC and no Brier score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from mailer.churn import bgnbd
from mailer.churn.bgnbd import CHURN_MODEL, BgNbdParams, FitResult, Model, TimeUnit

DECILES: Final = 10
# The fewest customers with a repeat purchase a model is fitted on (as the refresh requires).
MIN_REPEAT_CUSTOMERS: Final = 20


class BacktestError(ValueError):
    """The orders cannot be backtested as asked; the message says why."""


@dataclass(frozen=True)
class Score:
    """How well one score predicts the holdout: AUC, and the Brier score where it is a probability."""

    name: str
    auc: float
    brier: float | None

    def as_dict(self) -> dict[str, Any]:
        """Return the score as JSON-ready data."""
        return {"name": self.name, "auc": self.auc, "brier": self.brier}


@dataclass(frozen=True)
class CalibrationBin:
    """One decile of the predicted risk: its customers, their mean risk and the share who did not buy."""

    decile: int
    customers: int
    predicted: float
    observed: float

    @property
    def gap(self) -> float:
        """Return observed minus predicted share."""
        return self.observed - self.predicted

    def as_dict(self) -> dict[str, Any]:
        """Return the decile as JSON-ready data."""
        return {"decile": self.decile, "customers": self.customers, "predicted": self.predicted,
                "observed": self.observed}


@dataclass(frozen=True)
class Backtest:
    """A backtest's figures: the churn risk's, its calibration and the baselines of the same run."""

    calibration_end_day: int
    horizon_days: int
    model: Model
    params: BgNbdParams
    customers: int
    # The share of customers with no purchase in the holdout.
    base_rate: float
    risk: Score
    calibration: tuple[CalibrationBin, ...]
    baselines: tuple[Score, ...]
    # Repeat purchase days in the holdout: as the chosen model expects them, and as they were.
    expected_purchases: float
    observed_purchases: int

    @property
    def base_rate_brier(self) -> float:
        """Return the Brier score of saying the base rate to every customer."""
        return self.base_rate * (1.0 - self.base_rate)

    @property
    def worst_bin(self) -> CalibrationBin:
        """Return the decile whose prediction lies furthest from what happened."""
        return max(self.calibration, key=lambda b: abs(b.gap))

    @property
    def best_baseline(self) -> Score:
        """Return the baseline with the highest AUC."""
        return max(self.baselines, key=lambda s: s.auc)

    def as_dict(self) -> dict[str, Any]:
        """Return the backtest as JSON-ready data."""
        epoch = np.datetime64("1970-01-01", "D")
        worst = self.worst_bin
        return {
            "calibration_end": str(epoch + self.calibration_end_day),
            "horizon_days": self.horizon_days,
            "model": self.model.value,
            "params": {"r": self.params.r, "alpha": self.params.alpha, "a": self.params.a, "b": self.params.b},
            "customers": self.customers,
            "base_rate": self.base_rate,
            "base_rate_brier": self.base_rate_brier,
            "auc": self.risk.auc,
            "brier": self.risk.brier,
            "calibration": [b.as_dict() for b in self.calibration],
            "worst_decile": worst.decile,
            "worst_gap": worst.gap,
            "baselines": [s.as_dict() for s in self.baselines],
            "expected_purchases": self.expected_purchases,
            "observed_purchases": self.observed_purchases,
        }


def auc(score: ArrayLike, positive: ArrayLike) -> float:
    """Return the AUC of ``score`` for ``positive`` (Mann-Whitney, ties counted half); nan without both classes."""
    values = np.asarray(score, dtype=np.float64)
    labels = np.asarray(positive, dtype=bool)
    n_positive = int(labels.sum())
    n_negative = labels.size - n_positive
    if n_positive == 0 or n_negative == 0:
        return math.nan
    ranks = stats.rankdata(values)
    return float((ranks[labels].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def brier(predicted: ArrayLike, positive: ArrayLike) -> float:
    """Return the mean squared gap between predicted probabilities and what happened."""
    p = np.asarray(predicted, dtype=np.float64)
    return float(np.mean((p - np.asarray(positive, dtype=np.float64)) ** 2))


def calibration(predicted: ArrayLike, positive: ArrayLike, *, bins: int = DECILES) -> tuple[CalibrationBin, ...]:
    """Return the mean prediction and observed share per decile of the prediction (equal counts)."""
    p = np.asarray(predicted, dtype=np.float64)
    y = np.asarray(positive, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    return tuple(
        CalibrationBin(decile=i + 1, customers=int(part.size), predicted=float(p[part].mean()),
                       observed=float(y[part].mean()))
        for i, part in enumerate(np.array_split(order, bins))
        if part.size
    )


def run_backtest(
    customer_keys: ArrayLike,
    order_days: ArrayLike,
    *,
    calibration_end_day: int,
    horizon_days: int,
    unit: TimeUnit = TimeUnit.WEEK,
    model: Model = CHURN_MODEL,
) -> Backtest:
    """Fit on the orders up to the calibration end and score the churn risk on the holdout that follows."""
    if horizon_days < 1:
        raise BacktestError("the horizon must be at least one day")
    unit = TimeUnit(unit)
    keys = np.asarray(customer_keys)
    days = bgnbd.day_numbers(order_days)
    holdout_end = calibration_end_day + horizon_days
    if days.size == 0 or int(days.min()) > calibration_end_day:
        raise BacktestError("no orders on or before the calibration end")
    summary = bgnbd.summarize_orders(keys, days, as_of=calibration_end_day, unit=unit)
    if int(np.count_nonzero(summary.x > 0)) < MIN_REPEAT_CUSTOMERS:
        raise BacktestError(
            f"fewer than {MIN_REPEAT_CUSTOMERS} customers bought on a second day before the calibration end:"
            " too few to fit a purchase model"
        )
    # Each calibration customer's repeat purchase days in the holdout (same-day orders are one).
    in_holdout = (days > calibration_end_day) & (days <= holdout_end)
    position = np.searchsorted(summary.customer_ids, keys[in_holdout])
    position[position >= summary.n_customers] = 0
    known = summary.customer_ids[position] == keys[in_holdout]
    pairs = np.unique(np.stack((position[known], days[in_holdout][known])), axis=1)
    later = np.bincount(pairs[0], minlength=summary.n_customers)
    churned = later == 0

    horizon = horizon_days / unit.days
    x, t_x, T = summary.x, summary.t_x, summary.T
    fits = {candidate: _fit(x, t_x, T, candidate) for candidate in Model}
    chosen = fits[model]
    risk = bgnbd.p_no_purchase(chosen.params, x, t_x, T, horizon=horizon, model=model)
    baselines = [
        Score("recency", auc(T - t_x, churned), None),
        Score("frequency", auc(-x, churned), None),
    ]
    p_left = 1.0 - bgnbd.p_alive(fits[Model.BG_NBD].params, x, t_x, T, model=Model.BG_NBD)
    baselines.append(Score("bg/nbd 1 - p_alive", auc(p_left, churned), brier(p_left, churned)))
    for candidate, fit in fits.items():
        if candidate is model:
            continue
        other = bgnbd.p_no_purchase(fit.params, x, t_x, T, horizon=horizon, model=candidate)
        baselines.append(Score(f"{candidate.value} no purchase", auc(other, churned), brier(other, churned)))
    expected = bgnbd.expected_purchases(chosen.params, x, t_x, T, horizon=horizon, model=model)
    return Backtest(
        calibration_end_day=int(calibration_end_day),
        horizon_days=int(horizon_days),
        model=model,
        params=chosen.params,
        customers=summary.n_customers,
        base_rate=float(churned.mean()),
        risk=Score(f"{model.value} no purchase", auc(risk, churned), brier(risk, churned)),
        calibration=calibration(risk, churned),
        baselines=tuple(baselines),
        expected_purchases=float(expected.sum()),
        observed_purchases=int(later.sum()),
    )


def _fit(x: NDArray[np.int64], t_x: NDArray[np.float64], T: NDArray[np.float64], model: Model) -> FitResult:
    fit = bgnbd.fit(x, t_x, T, model=model)
    if not fit.converged:
        raise BacktestError(f"the {model.value} fit did not converge: {fit.message}")
    return fit
