"""Customers and orders drawn from the BG/NBD generative process, for tests and benchmarks."""

from __future__ import annotations

from datetime import date

import numpy as np
from numpy.typing import ArrayLike

from mailer.churn.bgnbd import BgNbdParams, FloatArray, IntArray, TimeUnit, day_numbers


def simulate(
    params: BgNbdParams, n: int, T: ArrayLike, rng: np.random.Generator
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Draw (x, t_x, T) for ``n`` customers from the BG/NBD generative process."""
    ages = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    rate = rng.gamma(shape=params.r, scale=1.0 / params.alpha, size=n)
    dropout = np.clip(rng.beta(params.a, params.b, size=n), 1e-12, 1.0)
    # The customer leaves right after their k-th repeat purchase, k ~ geometric(p) on 1, 2, ...
    last_possible = rng.geometric(dropout)
    purchases_if_alive = rng.poisson(rate * ages)
    x = np.minimum(purchases_if_alive, last_possible).astype(np.int64)
    # Given n Poisson events in (0, T], the k-th one is T times a beta(k, n - k + 1) draw.
    repeat = x > 0
    k = np.where(repeat, x, 1)
    rest = np.where(repeat, purchases_if_alive - x + 1, 1)
    t_x = np.where(repeat, ages * rng.beta(k, rest), 0.0)
    return x, t_x, ages


def simulate_orders(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    as_of: date | np.datetime64 | int,
    unit: TimeUnit,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray]:
    """Expand (x, t_x, T) into orders: customer positions and order days since 1970-01-01.

    The first purchase falls T before ``as_of``, the last repeat purchase t_x after it and the
    others uniformly in between, as the Poisson process places them. Times are cut to whole days,
    so two purchases within a day become one purchase day.
    """
    x_arr = np.asarray(x, dtype=np.int64)
    t_x_arr = np.asarray(t_x, dtype=np.float64)
    days_per_unit = TimeUnit(unit).days
    first = int(day_numbers(as_of)) - np.floor(np.asarray(T, dtype=np.float64) * days_per_unit).astype(np.int64)
    per_customer = x_arr + 1
    customer = np.repeat(np.arange(x_arr.size), per_customer)
    starts = np.cumsum(per_customer) - per_customer
    position = np.arange(customer.size) - starts[customer]
    own_x = x_arr[customer]
    own_t_x = t_x_arr[customer]
    time = np.where(position == own_x, own_t_x, rng.uniform(size=customer.size) * own_t_x)
    time[position == 0] = 0.0
    return customer, first[customer] + np.floor(time * days_per_unit).astype(np.int64)


def simulate_with_holdout(
    params: BgNbdParams,
    n: int,
    T: ArrayLike,
    horizon: float,
    rng: np.random.Generator,
    *,
    first_purchase_dropout: bool = False,
) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """Draw (x, t_x, T) and the purchases in (T, T + horizon] purchase by purchase.

    The customer may leave right after each repeat purchase (BG/NBD), and after the first one too
    when ``first_purchase_dropout`` (MBG/NBD).
    """
    ages = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    rate = rng.gamma(shape=params.r, scale=1.0 / params.alpha, size=n)
    dropout = rng.beta(params.a, params.b, size=n)
    alive = np.ones(n, dtype=bool)
    if first_purchase_dropout:
        alive &= rng.uniform(size=n) >= dropout
    now = np.zeros(n)
    x = np.zeros(n, dtype=np.int64)
    t_x = np.zeros(n)
    later = np.zeros(n, dtype=np.int64)
    end = ages + horizon
    while True:
        active = alive & (now < end)
        if not active.any():
            break
        now[active] += rng.exponential(size=int(active.sum())) / rate[active]
        bought = active & (now <= end)
        in_calibration = bought & (now <= ages)
        x[in_calibration] += 1
        t_x[in_calibration] = now[in_calibration]
        later[bought & ~in_calibration] += 1
        alive &= ~(bought & (rng.uniform(size=n) < dropout))
        alive &= now <= end
    return x, t_x, ages, later
