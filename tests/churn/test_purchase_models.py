"""MBG/NBD beside BG/NBD: the fit, the chance of no purchase within a horizon and the expected purchases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from mailer.churn import bgnbd
from mailer.churn.bgnbd import BgNbdParams, Model
from tests.churn.simulation import simulate_with_holdout

PARAMS = BgNbdParams(r=0.6, alpha=6.0, a=0.9, b=1.6)


@pytest.mark.parametrize("model", list(Model))
def test_the_gradient_matches_finite_differences(model: Model) -> None:
    rng = np.random.default_rng(3)
    x, t_x, T, _ = simulate_with_holdout(PARAMS, 2_000, rng.uniform(10, 60, 2_000), 1.0, rng)
    data = bgnbd._prepare(x, t_x, T, model)
    theta = np.array([0.7, 5.0, 1.1, 2.0])

    analytic = bgnbd._log_likelihood_and_gradient(theta, data)[1]
    numeric = optimize.approx_fprime(theta, lambda t: bgnbd._log_likelihood_and_gradient(t, data)[0], 1e-6)

    assert analytic == pytest.approx(numeric, rel=1e-4, abs=1e-3)


def test_mbg_nbd_lets_a_one_time_buyer_leave_and_the_longer_ago_the_likelier() -> None:
    x = np.array([0, 0, 0])
    t_x = np.zeros(3)
    T = np.array([2.0, 30.0, 100.0])

    bg = bgnbd.p_alive(PARAMS, x, t_x, T, model=Model.BG_NBD)
    mbg = bgnbd.p_alive(PARAMS, x, t_x, T, model=Model.MBG_NBD)

    assert bg.tolist() == [1.0, 1.0, 1.0]
    assert np.all(mbg < 1) and mbg[0] > mbg[1] > mbg[2]
    # The chance of no purchase within a year grows with the time since the only purchase, in both.
    for model in Model:
        none = bgnbd.p_no_purchase(PARAMS, x, t_x, T, horizon=52.0, model=model)
        assert none[0] < none[1] < none[2]


@pytest.mark.parametrize("model", list(Model))
def test_no_purchase_is_left_or_alive_without_a_purchase(model: Model) -> None:
    x = np.array([0, 1, 4, 12, 40])
    t_x = np.array([0.0, 3.0, 20.0, 50.0, 51.0])
    T = np.array([10.0, 30.0, 60.0, 52.0, 52.0])
    horizon = 26.0

    alive = bgnbd.p_alive(PARAMS, x, t_x, T, model=model)
    none_if_alive = ((PARAMS.alpha + T) / (PARAMS.alpha + T + horizon)) ** (PARAMS.r + x)

    expected = 1 - alive * (1 - none_if_alive)
    assert bgnbd.p_no_purchase(PARAMS, x, t_x, T, horizon=horizon, model=model) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("model", list(Model))
def test_the_horizon_figures_match_customers_drawn_from_the_model(model: Model) -> None:
    rng = np.random.default_rng(11)
    n, horizon = 60_000, 39.0
    x, t_x, T, later = simulate_with_holdout(
        PARAMS, n, rng.uniform(20, 60, n), horizon, rng, first_purchase_dropout=model is Model.MBG_NBD
    )

    none = bgnbd.p_no_purchase(PARAMS, x, t_x, T, horizon=horizon, model=model)
    expected = bgnbd.expected_purchases(PARAMS, x, t_x, T, horizon=horizon, model=model)

    # Overall and among the one-time buyers, whom BG/NBD alone would call certainly alive.
    assert none.mean() == pytest.approx(np.mean(later == 0), abs=0.01)
    once = x == 0
    assert none[once].mean() == pytest.approx(np.mean(later[once] == 0), abs=0.01)
    assert expected.sum() == pytest.approx(later.sum(), rel=0.05)
    # And by the predicted risk's quartile, so a calibrated mean is not hiding a bad ranking.
    edges = np.quantile(none, [0.25, 0.5, 0.75])
    group = np.searchsorted(edges, none)
    for g in range(4):
        assert none[group == g].mean() == pytest.approx(np.mean(later[group == g] == 0), abs=0.02)


def test_mbg_nbd_fit_recovers_the_parameters_customers_were_drawn_from() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    x, t_x, T, _ = simulate_with_holdout(PARAMS, n, rng.uniform(20, 80, n), 1.0, rng, first_purchase_dropout=True)

    fit = bgnbd.fit(x, t_x, T, model=Model.MBG_NBD)

    assert fit.converged
    assert fit.params.r == pytest.approx(PARAMS.r, rel=0.15)
    assert fit.params.alpha == pytest.approx(PARAMS.alpha, rel=0.2)
    assert fit.params.a == pytest.approx(PARAMS.a, rel=0.35)
    assert fit.params.b == pytest.approx(PARAMS.b, rel=0.35)


def test_a_degenerate_fit_still_gives_finite_expected_purchases() -> None:
    # What 30 customers with one rhythm fit to: a rate known to millions of purchases' precision.
    params = BgNbdParams(r=1.1e7, alpha=1.5e8, a=0.001, b=3.0e4)

    expected = bgnbd.expected_purchases(
        params, [1, 1], [8.0, 5.0], [12.9, 12.9], horizon=52.0, model=Model.MBG_NBD
    )

    rate = params.r / params.alpha
    assert np.all(np.isfinite(expected))
    assert expected == pytest.approx(52.0 * rate, rel=0.01)
