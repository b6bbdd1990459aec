"""The BG/NBD model: summary of orders, likelihood, fit, P(alive) and simulation."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from mailer.churn import bgnbd
from mailer.churn.bgnbd import BgNbdParams, TimeUnit
from tests.churn.simulation import simulate


def _day(iso: str) -> int:
    return (date.fromisoformat(iso) - date(1970, 1, 1)).days


# --- summarize_orders ---------------------------------------------------------------------------


def test_summary_counts_repeat_purchase_days_from_the_first_purchase() -> None:
    ids = np.array(["C2", "C1", "C1", "C1", "C1", "C2", "C3"])
    days = np.array(
        [
            "2024-01-10",
            "2024-01-01",
            "2024-01-15",
            "2024-01-15",  # a second order the same day is not a second purchase day
            "2024-02-26",
            "2024-03-01",  # after as_of: ignored
            "2024-02-19",
        ],
        dtype="datetime64[D]",
    )
    amounts = np.array([10.0, 20.0, 5.0, 7.0, 30.0, 99.0, 40.0])

    summary = bgnbd.summarize_orders(ids, days, as_of=date(2024, 2, 26), amounts=amounts)

    assert summary.customer_ids.tolist() == ["C1", "C2", "C3"]
    assert summary.x.tolist() == [2, 0, 0]
    # C1: first 1 Jan, last 26 Feb = day 56 = 8 weeks; age 8 weeks too.
    assert summary.t_x.tolist() == [8.0, 0.0, 0.0]
    assert summary.T.tolist() == pytest.approx([8.0, 47 / 7, 1.0])
    # C1 spent 20, 5 + 7 and 30 on three purchase days.
    assert summary.monetary is not None
    assert summary.monetary.tolist() == pytest.approx([62 / 3, 10.0, 40.0])
    assert summary.orders_used == 6
    assert summary.orders_after_as_of == 1
    assert summary.unit is TimeUnit.WEEK


def test_summary_in_days_takes_integer_days_and_integer_ids() -> None:
    ids = np.array([7, 7, 7, 3])
    days = np.array([_day("2024-01-01"), _day("2024-01-03"), _day("2024-01-08"), _day("2024-01-05")])

    summary = bgnbd.summarize_orders(ids, days, as_of=np.datetime64("2024-01-10"), unit="day")

    assert summary.customer_ids.tolist() == [3, 7]
    assert summary.x.tolist() == [0, 2]
    assert summary.t_x.tolist() == [0.0, 7.0]
    assert summary.T.tolist() == [5.0, 9.0]
    assert summary.monetary is None


def test_day_numbers_reads_every_kind_of_date() -> None:
    expected = [_day("2024-02-29"), _day("1969-12-31")]

    assert bgnbd.day_numbers([date(2024, 2, 29), date(1969, 12, 31)]).tolist() == expected
    assert bgnbd.day_numbers(np.array(["2024-02-29", "1969-12-31"])).tolist() == expected
    assert (
        bgnbd.day_numbers(np.array(["2024-02-29T10:00", "1969-12-31T23:59"], dtype="datetime64[m]")).tolist()
        == expected
    )
    assert bgnbd.day_numbers(np.array(expected)).tolist() == expected
    assert int(bgnbd.day_numbers(date(2024, 2, 29))) == expected[0]
    with pytest.raises(TypeError):
        bgnbd.day_numbers(np.array([1.5]))


def test_summary_of_orders_all_after_as_of_is_empty() -> None:
    summary = bgnbd.summarize_orders(
        np.array([1, 2]),
        np.array(["2025-01-01", "2025-02-01"], dtype="datetime64[D]"),
        as_of=date(2024, 1, 1),
    )

    assert summary.n_customers == 0
    assert summary.orders_after_as_of == 2


# --- P(alive) -----------------------------------------------------------------------------------


def test_p_alive_matches_hand_computed_cases() -> None:
    params = BgNbdParams(r=1.0, alpha=4.0, a=1.0, b=2.0)
    x = np.array([2, 1, 0])
    t_x = np.array([4.0, 6.0, 0.0])
    T = np.array([8.0, 6.0, 8.0])

    # x = 2: a / (b + x - 1) = 1/3; ((α + T) / (α + t_x))^(r + x) = (12 / 8)^3 = 3.375.
    first = 1 / (1 + (1 / 3) * 3.375)  # = 1 / 2.125 = 8/17
    # x = 1, bought on the last day: the ratio is 1, so P = 1 / (1 + a/b) = b / (a + b) = 2/3.
    second = 1 / (1 + 1 / 2)
    # x = 0: BG/NBD never loses a customer before a repeat purchase.
    third = 1.0

    assert bgnbd.p_alive(params, x, t_x, T) == pytest.approx([first, second, third], rel=1e-12)
    assert first == pytest.approx(8 / 17)


def test_p_alive_is_quiet_where_b_minus_one_is_negative() -> None:
    params = BgNbdParams(r=0.5, alpha=2.0, a=0.5, b=0.3)

    p = bgnbd.p_alive(params, np.array([0, 1]), np.array([0.0, 1.0]), np.array([10.0, 10.0]))

    assert p[0] == 1.0
    assert 0 < p[1] < 1


def test_p_alive_falls_the_longer_a_frequent_buyer_stays_away() -> None:
    params = BgNbdParams(r=0.8, alpha=6.0, a=0.9, b=3.0)
    T = np.array([20.0, 40.0, 80.0, 400.0])

    p = bgnbd.p_alive(params, np.full(4, 10), np.full(4, 20.0), T)

    assert p[0] > p[1] > p[2] > p[3] >= 0
    assert p[0] == pytest.approx(1 / (1 + 0.9 / 12))


# --- likelihood -----------------------------------------------------------------------------------


def _integrated_likelihood(params: BgNbdParams, x: int, t_x: float, T: float) -> float:
    """Integrate the individual-level likelihood over gamma(λ) and beta(p) numerically."""
    rate = stats.gamma(a=params.r, scale=1 / params.alpha)
    dropout = stats.beta(params.a, params.b)

    def over_rate(t: float) -> float:
        return integrate.quad(lambda lam: lam**x * math.exp(-lam * t) * rate.pdf(lam), 0, np.inf)[0]

    alive = integrate.quad(lambda p: (1 - p) ** x * dropout.pdf(p), 0, 1)[0] * over_rate(T)
    if x == 0:
        return alive
    left = integrate.quad(lambda p: p * (1 - p) ** (x - 1) * dropout.pdf(p), 0, 1)[0] * over_rate(t_x)
    return alive + left


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 30.0), (1, 12.5, 30.0), (4, 29.0, 39.0)])
def test_log_likelihood_matches_numerical_integration(x: int, t_x: float, T: float) -> None:
    params = BgNbdParams(r=1.3, alpha=5.0, a=1.5, b=3.0)

    closed_form = bgnbd.log_likelihood(params, np.array([x]), np.array([t_x]), np.array([T]))

    assert closed_form == pytest.approx(math.log(_integrated_likelihood(params, x, t_x, T)), rel=1e-6)


def test_log_likelihood_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(7)
    x, t_x, T = simulate(BgNbdParams(0.8, 6.0, 0.9, 3.0), 500, rng.uniform(10, 60, 500), rng)
    data = bgnbd._prepare(x, t_x, T)
    at = np.log([0.5, 3.0, 1.2, 2.0])

    error = optimize.check_grad(lambda v: bgnbd._objective(v, data)[0], lambda v: bgnbd._objective(v, data)[1], at)

    assert error < 1e-5


def test_changing_the_time_unit_scales_alpha_and_shifts_the_log_likelihood() -> None:
    weeks = BgNbdParams(r=0.8, alpha=6.0, a=0.9, b=3.0)
    days = weeks.in_unit(TimeUnit.WEEK, TimeUnit.DAY)
    x = np.array([0, 2, 5])
    t_x = np.array([0.0, 10.0, 30.5])
    T = np.array([12.0, 20.0, 31.0])

    # The density of purchase times picks up one factor 1/7 per repeat purchase.
    expected = bgnbd.log_likelihood(weeks, x, t_x, T) - x.sum() * math.log(7)

    assert days.alpha == 42.0
    assert bgnbd.log_likelihood(days, x, 7 * t_x, 7 * T) == pytest.approx(expected, rel=1e-12)


# --- simulation and fit ---------------------------------------------------------------------------


def test_simulation_respects_the_model_bounds() -> None:
    rng = np.random.default_rng(3)
    x, t_x, T = simulate(BgNbdParams(0.8, 6.0, 0.9, 3.0), 10_000, 52.0, rng)

    assert np.all(T == 52.0)
    assert np.all(t_x[x == 0] == 0)
    assert np.all((t_x[x > 0] > 0) & (t_x[x > 0] <= 52.0))
    # With p ~ beta(0.9, 3), more than half of the buyers come back at least once.
    assert 0.5 < np.mean(x > 0) < 1


@pytest.mark.parametrize(
    ("true", "rate_tolerance", "dropout_tolerance"),
    [
        (BgNbdParams(r=0.8, alpha=6.0, a=0.9, b=3.0), 0.08, 0.15),
        # The CDNOW estimates of the paper: rare buyers, so a and b are known less well.
        (BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426), 0.08, 0.30),
    ],
)
def test_fit_recovers_the_parameters_of_simulated_customers(
    true: BgNbdParams, rate_tolerance: float, dropout_tolerance: float
) -> None:
    rng = np.random.default_rng(20240601)
    n = 30_000
    x, t_x, T = simulate(true, n, rng.uniform(20, 80, n), rng)

    result = bgnbd.fit(x, t_x, T)

    assert result.converged, result.message
    assert result.n_customers == n
    fitted = result.params
    assert fitted.r == pytest.approx(true.r, rel=rate_tolerance)
    assert fitted.alpha == pytest.approx(true.alpha, rel=rate_tolerance)
    assert fitted.a == pytest.approx(true.a, rel=dropout_tolerance)
    assert fitted.b == pytest.approx(true.b, rel=dropout_tolerance)
    # The maximum is a maximum: no worse than the truth, and what log_likelihood reports.
    assert result.log_likelihood >= bgnbd.log_likelihood(true, x, t_x, T)
    assert result.log_likelihood == pytest.approx(bgnbd.log_likelihood(fitted, x, t_x, T))


def test_fit_from_a_poor_start_lands_on_the_same_maximum() -> None:
    rng = np.random.default_rng(11)
    x, t_x, T = simulate(BgNbdParams(0.8, 6.0, 0.9, 3.0), 5_000, 52.0, rng)

    default = bgnbd.fit(x, t_x, T)
    far = bgnbd.fit(x, t_x, T, initial=BgNbdParams(r=20.0, alpha=0.1, a=10.0, b=0.1))

    assert far.converged
    assert far.log_likelihood == pytest.approx(default.log_likelihood, abs=1e-4)
    assert far.params.as_array() == pytest.approx(default.params.as_array(), rel=1e-3)


def test_fit_refuses_data_without_any_repeat_purchase() -> None:
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        bgnbd.fit(np.zeros(3, dtype=int), np.zeros(3), np.full(3, 10.0))


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1, -1], [1.0, 0.0], [2.0, 2.0], "negative"),
        ([1.5], [1.0], [2.0], "whole numbers"),
        ([1], [3.0], [2.0], "between 0 and T"),
        ([1], [1.0], [np.nan], "finite"),
        ([1, 2], [1.0], [2.0], "same length"),
    ],
)
def test_fit_names_what_is_wrong_with_its_input(x: list[float], t_x: list[float], T: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bgnbd.fit(np.array(x), np.array(t_x), np.array(T))


def test_parameters_must_be_positive() -> None:
    with pytest.raises(ValueError, match="alpha"):
        BgNbdParams(r=1.0, alpha=0.0, a=1.0, b=1.0)
