"""The Gamma-Gamma spend model: the fit, and the expected amount per order between the customer and the population."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from mailer.churn import spend
from mailer.churn.spend import GammaGammaParams

TRUE = GammaGammaParams(p=6.0, q=4.0, gamma=15.0)


def _draw(n_customers: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw customers' order counts and mean amounts from the Gamma-Gamma process."""
    purchases = rng.integers(1, 8, n_customers)
    nu = rng.gamma(TRUE.q, 1.0 / TRUE.gamma, n_customers)
    amounts = [rng.gamma(TRUE.p, 1.0 / nu[i], purchases[i]).mean() for i in range(n_customers)]
    return purchases.astype(float), np.array(amounts)


def test_the_gradient_matches_finite_differences() -> None:
    n, m = _draw(500, np.random.default_rng(1))
    theta = np.array([5.0, 3.0, 12.0])

    analytic = spend._log_likelihood_and_gradient(theta, n, m)[1]
    numeric = optimize.approx_fprime(theta, lambda t: spend._log_likelihood_and_gradient(t, n, m)[0], 1e-6)

    assert analytic == pytest.approx(numeric, rel=1e-4)


def test_the_fit_recovers_the_parameters_the_amounts_were_drawn_from() -> None:
    n, m = _draw(8_000, np.random.default_rng(2))
    m[:20] = 0.0  # spent nothing: left out of the fit

    fitted = spend.fit(n, m)

    assert fitted.converged and fitted.n_customers == 7_980
    assert fitted.params.population_mean == pytest.approx(TRUE.population_mean, rel=0.05)
    assert fitted.params.q == pytest.approx(TRUE.q, rel=0.2)


def test_the_expected_amount_leans_on_the_customer_the_more_orders_they_have() -> None:
    population = TRUE.population_mean  # 30.0

    once, often = spend.expected_amount(TRUE, [1, 20], [100.0, 100.0])

    assert population < once < often < 100.0
    # p (γ + n m) / (p n + q − 1), by hand for one order of 100.
    assert once == pytest.approx(6.0 * (15.0 + 100.0) / (6.0 + 3.0))


def test_without_a_finite_population_mean_each_customer_keeps_their_own() -> None:
    heavy_tailed = GammaGammaParams(p=2.0, q=0.8, gamma=5.0)

    assert spend.expected_amount(heavy_tailed, [1, 3], [40.0, 7.5]).tolist() == [40.0, 7.5]


def test_too_few_spenders_are_refused() -> None:
    with pytest.raises(ValueError, match="fewer than two customers spent"):
        spend.fit([1, 2, 3], [0.0, 0.0, 12.0])


def test_a_fit_whose_line_search_stalls_at_the_optimum_is_converged(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    purchases, amounts = rng.integers(1, 10, 300).astype(float), rng.gamma(3, 20, 300)
    minimize = optimize.minimize

    def stalled(*args: object, **kwargs: object) -> optimize.OptimizeResult:
        # What SciPy reports when its line search finds no decrease left to make.
        result = minimize(*args, **kwargs)  # type: ignore[call-overload]
        result.success, result.message = False, "ABNORMAL: "
        return result

    monkeypatch.setattr(optimize, "minimize", stalled)
    assert spend.fit(purchases, amounts).converged
    # Stopped short of the optimum, it is not.
    monkeypatch.setattr(
        optimize, "minimize", lambda *args, **kwargs: stalled(*args, **{**kwargs, "options": {"maxiter": 1}})
    )
    assert not spend.fit(purchases, amounts).converged
