"""The BG/NBD purchase model (Fader, Hardie & Lee 2005) and its MBG/NBD variant on NumPy arrays.

A customer buys as a Poisson process with rate λ ~ gamma(r, α) while alive; after each repeat purchase
they leave for good with probability p ~ beta(a, b). Per customer we only need x (repeat purchase days),
t_x (time of the last purchase) and T (age), both measured from the first purchase.

MBG/NBD (Batislam, Denizel & Filiztekin 2007) lets the customer leave right after the first purchase
too, so a one-time buyer is not certainly alive: the same four parameters, each customer's dropout
chances counted from x + 1 purchases instead of x. ``Model`` names the two; fitting, P(alive), the
chance of no purchase within a horizon and the expected purchases take it.

Every function here takes whole arrays: a million customers is one call, not a million.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from threadpoolctl import threadpool_limits

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# The optimizer works on log-parameters; this keeps exp() finite while allowing any sensible value.
_LOG_PARAM_BOUND = 20.0


class TimeUnit(StrEnum):
    """The unit t_x, T and α are expressed in."""

    DAY = "day"
    WEEK = "week"

    @property
    def days(self) -> int:
        """Return the length of one unit in days."""
        return 7 if self is TimeUnit.WEEK else 1


def day_numbers(values: ArrayLike | date) -> IntArray:
    """Convert dates, ISO date strings, datetime64 values or day numbers to days since 1970-01-01."""
    if isinstance(values, datetime):
        values = values.date()
    array = np.asarray(values)
    if np.issubdtype(array.dtype, np.datetime64):
        return array.astype("datetime64[D]").astype(np.int64)
    if array.dtype == object or np.issubdtype(array.dtype, np.str_):
        return np.asarray(array, dtype="datetime64[D]").astype(np.int64)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64)
    raise TypeError(f"expected dates, datetime64 or integer day numbers, not {array.dtype}")


class Model(StrEnum):
    """Which purchase model: whether a customer may leave right after their first purchase."""

    BG_NBD = "bg/nbd"
    MBG_NBD = "mbg/nbd"

    @property
    def first_purchase_dropout(self) -> int:
        """Return 1 where the first purchase is a chance to leave (MBG/NBD), else 0."""
        return 1 if self is Model.MBG_NBD else 0


# The model the churn risk is scored with, picked by holdout fit on CDNOW (README.md, "Churn"):
# it ranks customers better than BG/NBD, whose one-time buyers are all certainly alive.
CHURN_MODEL: Final = Model.MBG_NBD


@dataclass(frozen=True)
class Rfm:
    """Per-customer purchase summary: repeat purchase days, recency, age and mean spend."""

    customer_ids: NDArray[np.generic]
    x: IntArray
    t_x: FloatArray
    T: FloatArray
    # Mean spend per purchase day (same-day orders summed), all purchase days included.
    monetary: FloatArray | None
    unit: TimeUnit
    as_of_day: int
    orders_used: int
    orders_after_as_of: int

    @property
    def n_customers(self) -> int:
        """Return how many customers the summary holds."""
        return int(self.x.size)


def summarize_orders(
    customer_ids: ArrayLike,
    order_days: ArrayLike,
    *,
    as_of: date | np.datetime64 | int,
    unit: TimeUnit = TimeUnit.WEEK,
    amounts: ArrayLike | None = None,
) -> Rfm:
    """Summarize orders into x, t_x and T per customer, ignoring orders after ``as_of``."""
    unit = TimeUnit(unit)
    ids = np.asarray(customer_ids)
    days = day_numbers(order_days)
    if ids.ndim != 1 or ids.shape != days.shape:
        raise ValueError("customer_ids and order_days must be 1-D arrays of the same length")
    spend = None if amounts is None else np.asarray(amounts, dtype=np.float64)
    if spend is not None and spend.shape != ids.shape:
        raise ValueError("amounts must have one value per order")
    as_of_day = int(day_numbers(as_of))

    kept = days <= as_of_day
    orders_after = int(ids.size - np.count_nonzero(kept))
    ids, days = ids[kept], days[kept]
    if spend is not None:
        spend = spend[kept]
    if ids.size == 0:
        empty = np.zeros(0)
        return Rfm(
            customer_ids=ids,
            x=np.zeros(0, dtype=np.int64),
            t_x=empty,
            T=empty.copy(),
            monetary=None if spend is None else empty.copy(),
            unit=unit,
            as_of_day=as_of_day,
            orders_used=0,
            orders_after_as_of=orders_after,
        )

    # One sortable key per (customer, day): sorting it groups customers and orders their days,
    # and dropping repeated keys drops the second order on the same day in the same step. (A plain
    # sort, not np.unique: NumPy 2.3+ hashes integers there, several times slower on keys that
    # arrive nearly sorted, as orders read by customer do.)
    unique_ids, codes = np.unique(ids, return_inverse=True)
    first_day = int(days.min())
    span = as_of_day - first_day + 1
    keys = codes.astype(np.int64) * span + (days - first_day)
    if spend is None:
        keys.sort()
        purchase_keys = keys[_first_of_runs(keys)]
        day_spend = None
    else:
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        new_day = _first_of_runs(keys)
        purchase_keys = keys[new_day]
        # Stable order keeps each day's orders in their original order, so the sums are np.unique's.
        day_spend = np.bincount(np.cumsum(new_day) - 1, weights=spend[order], minlength=purchase_keys.size)
    customer = purchase_keys // span
    day = purchase_keys % span

    starts = np.flatnonzero(np.concatenate(([True], customer[1:] != customer[:-1])))
    ends = np.concatenate((starts[1:], [customer.size])) - 1
    purchase_days = ends - starts + 1
    first = day[starts]
    return Rfm(
        customer_ids=unique_ids,
        x=(purchase_days - 1).astype(np.int64),
        t_x=(day[ends] - first) / unit.days,
        T=(span - 1 - first) / unit.days,
        monetary=None if day_spend is None else np.add.reduceat(day_spend, starts) / purchase_days,
        unit=unit,
        as_of_day=as_of_day,
        orders_used=int(ids.size),
        orders_after_as_of=orders_after,
    )


def _first_of_runs(sorted_values: NDArray[np.generic]) -> NDArray[np.bool_]:
    """Mark the first element of each run of equal values in a sorted array."""
    first = np.empty(sorted_values.size, dtype=bool)
    first[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    return first


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate ~ gamma(r, α), dropout probability ~ beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def __post_init__(self) -> None:
        for name in ("r", "alpha", "a", "b"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"BG/NBD parameter {name} must be a positive number, not {value}")

    def as_array(self) -> FloatArray:
        """Return (r, α, a, b) as an array."""
        return np.array([self.r, self.alpha, self.a, self.b], dtype=np.float64)

    def in_unit(self, old: TimeUnit, new: TimeUnit) -> BgNbdParams:
        """Return the same model with α expressed in another time unit."""
        return BgNbdParams(self.r, self.alpha * TimeUnit(old).days / TimeUnit(new).days, self.a, self.b)


@dataclass(frozen=True)
class FitResult:
    """The maximum-likelihood fit and how it went."""

    params: BgNbdParams
    log_likelihood: float
    converged: bool
    n_customers: int
    iterations: int
    message: str


@dataclass(frozen=True)
class _Prepared:
    """Validated inputs regrouped so each likelihood evaluation does as little work as possible."""

    n: int
    # Distinct x values and how many customers have each: the gamma/beta terms depend on x only.
    x_values: FloatArray
    x_counts: FloatArray
    # One entry per distinct (x, t_x, T): customers with the same history share one likelihood term,
    # counted ``weight`` times (most one-time buyers of a cohort share a handful of ages).
    x: FloatArray
    T: FloatArray
    weight: FloatArray
    weight_repeat: FloatArray
    # The customers who carry the second likelihood term (a chance to have left after their last
    # purchase): those with a repeat purchase under BG/NBD, everyone under MBG/NBD.
    repeat: NDArray[np.bool_]
    # 0 for BG/NBD, 1 for MBG/NBD: added to x wherever the dropout chances are counted.
    k: float
    x_repeat: FloatArray
    t_x_repeat: FloatArray


def _prepare(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, model: Model = Model.BG_NBD) -> _Prepared:
    x_arr = np.asarray(x)
    t_x_arr = np.asarray(t_x, dtype=np.float64)
    T_arr = np.asarray(T, dtype=np.float64)
    if not (x_arr.ndim == 1 and x_arr.shape == t_x_arr.shape == T_arr.shape):
        raise ValueError("x, t_x and T must be 1-D arrays of the same length")
    integer_typed = np.issubdtype(x_arr.dtype, np.integer)
    if not integer_typed and (not np.all(np.isfinite(x_arr)) or np.any(x_arr != np.round(x_arr))):
        raise ValueError("x must hold whole numbers of repeat purchase days")
    x_int = x_arr.astype(np.int64)
    if np.any(x_int < 0):
        raise ValueError("x must not be negative")
    if not (np.all(np.isfinite(t_x_arr)) and np.all(np.isfinite(T_arr))):
        raise ValueError("t_x and T must be finite")
    if np.any(t_x_arr < 0) or np.any(t_x_arr > T_arr):
        raise ValueError("every t_x must lie between 0 and T")
    counts = np.bincount(x_int) if x_int.size else np.zeros(0, dtype=np.int64)
    present = np.flatnonzero(counts)
    k = Model(model).first_purchase_dropout
    x_float = x_int.astype(np.float64)
    if x_int.size:
        rows, weight = np.unique(np.stack((x_float, t_x_arr, T_arr), axis=1), axis=0, return_counts=True)
        x_float, t_x_arr, T_arr = rows[:, 0].copy(), rows[:, 1].copy(), rows[:, 2].copy()
    else:
        weight = np.zeros(0, dtype=np.int64)
    repeat = (x_float > 0) | bool(k)
    return _Prepared(
        n=int(x_int.size),
        x_values=present.astype(np.float64),
        x_counts=counts[present].astype(np.float64),
        x=x_float,
        T=T_arr,
        weight=weight.astype(np.float64),
        weight_repeat=weight[repeat].astype(np.float64),
        repeat=repeat,
        x_repeat=x_float[repeat],
        t_x_repeat=t_x_arr[repeat],
        k=float(k),
    )


def _log_likelihood_and_gradient(theta: FloatArray, data: _Prepared) -> tuple[float, FloatArray]:
    """Return the total log-likelihood and its gradient with respect to (r, α, a, b)."""
    r, alpha, a, b = (float(v) for v in theta)
    xv, nv, n, k = data.x_values, data.x_counts, data.n, data.k

    # Terms that depend on x alone, summed over the distinct x values.
    per_x = special.gammaln(r + xv) - special.gammaln(r) + special.betaln(a, b + xv + k) - special.betaln(a, b)
    total = float(nv @ per_x) + n * r * math.log(alpha)

    # L = A(x) · [ (α+T)^-(r+x) + [x>0] · a/(b+x-1) · (α+t_x)^-(r+x) ]; the bracket via log-sum-exp.
    # (MBG/NBD: every customer has the second term, with a/(b+x).)
    log_alpha_T = np.log(alpha + data.T)
    log_first = -(r + data.x) * log_alpha_T
    xr = data.x_repeat
    log_alpha_tx = np.log(alpha + data.t_x_repeat)
    log_second = math.log(a) - np.log(b + xr - 1.0 + k) - (r + xr) * log_alpha_tx
    log_first_repeat = log_first[data.repeat]
    log_bracket = np.logaddexp(log_first_repeat, log_second)
    w, w_repeat = data.weight, data.weight_repeat
    total += float(w @ log_first - w_repeat @ log_first_repeat + w_repeat @ log_bracket)

    # Share of the bracket carried by the second term (0 for customers without a repeat purchase),
    # times how many customers share the history.
    w2 = np.exp(log_second - log_bracket) * w_repeat

    d_r = (
        float(nv @ (special.digamma(r + xv) - special.digamma(r)))
        + n * math.log(alpha)
        - float(w @ log_alpha_T - log_alpha_T[data.repeat] @ w2)
        - float(w2 @ log_alpha_tx)
    )
    scaled_first = (r + data.x) / (alpha + data.T)
    d_alpha = (
        n * r / alpha
        - float(w @ scaled_first - scaled_first[data.repeat] @ w2)
        - float(w2 @ ((r + xr) / (alpha + data.t_x_repeat)))
    )
    psi_ab = special.digamma(a + b)
    psi_abx = special.digamma(a + b + xv + k)
    d_a = float(nv @ (psi_ab - psi_abx)) + float(w2.sum()) / a
    d_b = float(nv @ (special.digamma(b + xv + k) - psi_abx - special.digamma(b) + psi_ab)) - float(
        w2 @ (1.0 / (b + xr - 1.0 + k))
    )
    return total, np.array([d_r, d_alpha, d_a, d_b])


def _objective(log_theta: FloatArray, data: _Prepared) -> tuple[float, FloatArray]:
    """Return the mean negative log-likelihood and its gradient in log-parameters."""
    theta = np.exp(log_theta)
    total, gradient = _log_likelihood_and_gradient(theta, data)
    return -total / data.n, -gradient * theta / data.n


def log_likelihood(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, *, model: Model = Model.BG_NBD
) -> float:
    """Return the model's log-likelihood of the customers' (x, t_x, T)."""
    data = _prepare(x, t_x, T, model)
    with _one_blas_thread():
        return _log_likelihood_and_gradient(params.as_array(), data)[0]


def _one_blas_thread() -> threadpool_limits:
    """Keep the likelihood's dot products on one BLAS thread while fitting.

    Each dot product is a few hundred microseconds of work; handing it to BLAS's threads costs
    far more in waking and waiting for them, worst on a busy machine (measured: a likelihood
    evaluation on 100,000 histories took 49 ms of CPU with two threads, 4 ms with one).
    """
    return threadpool_limits(limits=1, user_api="blas")


def _initial_guess(data: _Prepared) -> BgNbdParams:
    """Start from a purchase rate matching the data's repeat purchases per unit of age."""
    age = float(data.weight @ data.T)
    repeats = float(data.x_counts @ data.x_values)
    return BgNbdParams(r=1.0, alpha=max(age / repeats, 1e-3), a=1.0, b=1.0)


def fit(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    initial: BgNbdParams | None = None,
    max_iterations: int = 1000,
    model: Model = Model.BG_NBD,
) -> FitResult:
    """Fit the model's parameters (BG/NBD unless told) by maximum likelihood."""
    data = _prepare(x, t_x, T, model)
    if data.n == 0:
        raise ValueError("there are no customers to fit the model on")
    if not np.any(data.x > 0):
        raise ValueError("no customer has a repeat purchase, so the model cannot be fitted")
    start = initial if initial is not None else _initial_guess(data)
    # Imported here: scipy.optimize adds about 25 MB to every process that loads the app, and only
    # fitting needs it.
    from scipy import optimize

    with _one_blas_thread():
        result = optimize.minimize(
            _objective,
            np.log(start.as_array()),
            args=(data,),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-_LOG_PARAM_BOUND, _LOG_PARAM_BOUND)] * 4,
            options={"maxiter": max_iterations, "ftol": 1e-13, "gtol": 1e-9},
        )
        params = BgNbdParams(*(float(v) for v in np.exp(result.x)))
        total = _log_likelihood_and_gradient(params.as_array(), data)[0]
    at_bound = bool(np.any(np.abs(result.x) >= _LOG_PARAM_BOUND - 1e-6))
    return FitResult(
        params=params,
        log_likelihood=total,
        converged=bool(result.success) and math.isfinite(total) and not at_bound,
        n_customers=data.n,
        iterations=int(result.nit),
        message=str(result.message),
    )


def churn_log_odds(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, *, model: Model = Model.BG_NBD
) -> FloatArray:
    """Return log(P(left) / P(alive)) per customer; under BG/NBD -inf where x = 0 (it never loses them)."""
    k = Model(model).first_purchase_dropout
    x_arr = np.asarray(x, dtype=np.float64)
    t_x_arr = np.asarray(t_x, dtype=np.float64)
    T_arr = np.asarray(T, dtype=np.float64)
    # log a - log(b + x - 1 + k) + (r + x) · log((α + T) / (α + t_x)), evaluated in place: a million
    # customers take a handful of passes. Under BG/NBD x >= 1 keeps b + x - 1 positive; x = 0 is
    # masked below.
    xs = x_arr.copy() if k else np.maximum(x_arr, 1.0)
    log_odds = T_arr - t_x_arr
    log_odds /= t_x_arr + params.alpha
    np.log1p(log_odds, out=log_odds)
    log_odds *= xs + params.r
    xs += params.b - 1.0 + k
    log_odds -= np.log(xs, out=xs)
    log_odds += math.log(params.a)
    if not k:
        log_odds[x_arr <= 0] = -np.inf
    return log_odds


def p_alive(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, *, model: Model = Model.BG_NBD
) -> FloatArray:
    """Return P(alive | x, t_x, T) per customer."""
    # P(alive) is the logistic function of minus the log-odds of having left.
    log_odds = churn_log_odds(params, x, t_x, T, model=model)
    return special.expit(np.negative(log_odds, out=log_odds), out=log_odds)


def no_purchase_log_odds(
    params: BgNbdParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    horizon: float,
    model: Model = Model.BG_NBD,
) -> FloatArray:
    """Return the log-odds of no purchase in (T, T + horizon] per customer, the horizon in the unit of T.

    A customer alive at T keeps buying as a Poisson process and can only leave right after a
    purchase, so "no purchase in the horizon" means "left already, or alive and bought nothing". Alive
    at T, the posterior of λ is gamma(r + x, α + T) (the dropout chances factor out of the
    likelihood), so P(0 purchases | alive) = ((α + T) / (α + T + h))^(r + x) =: q, and

        P(none) = 1 − P(alive) · (1 − q),   odds(none) = (odds(left) + q) / (1 − q),

    the odds from P(alive) = 1 / (1 + odds(left)). In log space this stays exact for risks
    near 0 or 1, where the customers who matter most sit.
    """
    if not (math.isfinite(horizon) and horizon > 0):
        raise ValueError(f"the horizon must be a positive number, not {horizon}")
    x_arr = np.asarray(x, dtype=np.float64)
    T_arr = np.asarray(T, dtype=np.float64)
    left = churn_log_odds(params, x_arr, t_x, T_arr, model=model)
    # log q = -(r + x) · log1p(h / (α + T))
    log_q = -(params.r + x_arr) * np.log1p(horizon / (params.alpha + T_arr))
    log_one_minus_q = np.log(-np.expm1(log_q))
    return np.logaddexp(left, log_q) - log_one_minus_q


def p_no_purchase(
    params: BgNbdParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    horizon: float,
    model: Model = Model.BG_NBD,
) -> FloatArray:
    """Return P(no purchase in (T, T + horizon]) per customer, the horizon in the unit of T."""
    log_odds = no_purchase_log_odds(params, x, t_x, T, horizon=horizon, model=model)
    return special.expit(log_odds, out=log_odds)


def expected_purchases(
    params: BgNbdParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    horizon: float,
    model: Model = Model.BG_NBD,
) -> FloatArray:
    """Return the expected purchase days in (T, T + horizon] per customer (the conditional expectation).

    BG/NBD (Fader, Hardie & Lee 2005, eq. 10) and MBG/NBD (Batislam et al. 2007):
    E = P(alive) · (a + b + x − 1 + k) / (a − 1) · [1 − ((α + T)/(α + T + h))^(r + x) ·
    ₂F₁(r + x, b + x + k; a + b + x − 1 + k; h / (α + T + h))], with k = 1 for MBG/NBD.
    """
    if not (math.isfinite(horizon) and horizon > 0):
        raise ValueError(f"the horizon must be a positive number, not {horizon}")
    k = Model(model).first_purchase_dropout
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x_arr = np.asarray(x, dtype=np.float64)
    T_arr = np.asarray(T, dtype=np.float64)
    alive = p_alive(params, x_arr, t_x, T_arr, model=model)
    if abs(a - 1.0) < 1e-6:
        # The closed form divides by a - 1; a hair away from 1 gives the same expectation to many digits.
        a = 1.0 + 1e-6
    z = horizon / (alpha + T_arr + horizon)
    with np.errstate(invalid="ignore", over="ignore"):
        hyper: FloatArray = special.hyp2f1(r + x_arr, b + x_arr + k, a + b + x_arr - 1.0 + k, z)
        bracket = 1.0 - np.exp(-(r + x_arr) * np.log1p(horizon / (alpha + T_arr))) * hyper
        expected: FloatArray = alive * (a + b + x_arr - 1.0 + k) / (a - 1.0) * bracket
    # A degenerate fit (a few customers of one rhythm drive r and α to millions) leaves the
    # hypergeometric series out of reach; there the purchases a customer still alive would make at
    # their posterior mean rate stand in, an upper bound that ignores leaving later.
    unreachable = ~np.isfinite(expected)
    if unreachable.any():
        expected[unreachable] = (alive * (r + x_arr) / (alpha + T_arr) * horizon)[unreachable]
    return np.maximum(expected, 0.0)
