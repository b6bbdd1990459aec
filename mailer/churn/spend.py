"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV") on NumPy arrays.

Each order's amount is gamma(p, ν) around the customer's own mean p/ν, and ν is gamma(q, γ) across
customers. Given n orders averaging m, the customer's expected amount per order is

    E[amount | n, m] = p (γ + n m) / (p n + q − 1),

a weighted mean of the population's mean p γ / (q − 1) and the customer's own m, which leans on m
the more orders there are. Here n counts purchase days (same-day orders summed), all of them: a
one-time buyer's single amount says something too. Customers whose amounts average 0 carry no
information about the spread and are left out of the fit, not of the scoring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

FloatArray = NDArray[np.float64]
# The largest gradient (of the mean log-likelihood, by log parameter) still read as an optimum: moving a
# parameter by a factor e changes a customer's log-likelihood by less than this. (Where customers' means
# hardly differ, q and gamma grow together along a flat ridge: every point of it fits alike.)
_STATIONARY_GRADIENT = 1e-4
_LOG_PARAM_BOUND = 20.0


@dataclass(frozen=True)
class GammaGammaParams:
    """Amount per order ~ gamma(p, ν), ν ~ gamma(q, γ)."""

    p: float
    q: float
    gamma: float

    def __post_init__(self) -> None:
        for name in ("p", "q", "gamma"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"Gamma-Gamma parameter {name} must be a positive number, not {value}")

    @property
    def population_mean(self) -> float:
        """Return the mean amount per order across customers (infinite for q ≤ 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else math.inf


@dataclass(frozen=True)
class SpendFit:
    """The maximum-likelihood fit and how it went."""

    params: GammaGammaParams
    log_likelihood: float
    converged: bool
    n_customers: int
    message: str


def _log_likelihood_and_gradient(theta: FloatArray, n: FloatArray, m: FloatArray) -> tuple[float, FloatArray]:
    p, q, g = (float(v) for v in theta)
    pn = p * n
    g_nm = g + n * m
    log_g_nm = np.log(g_nm)
    log_m = np.log(m)
    log_n = np.log(n)
    total = float(
        np.sum(
            special.gammaln(pn + q) - special.gammaln(pn) + (pn - 1) * log_m + pn * log_n - (pn + q) * log_g_nm
        )
        + n.size * (q * math.log(g) - special.gammaln(q))
    )
    psi_pnq = special.digamma(pn + q)
    d_p = float(np.sum(n * (psi_pnq - special.digamma(pn) + log_m + log_n - log_g_nm)))
    d_q = float(np.sum(psi_pnq - log_g_nm)) + n.size * (math.log(g) - float(special.digamma(q)))
    d_g = n.size * q / g - float(np.sum((pn + q) / g_nm))
    return total, np.array([d_p, d_q, d_g])


def fit(purchases: ArrayLike, mean_amount: ArrayLike, *, max_iterations: int = 1000) -> SpendFit:
    """Fit the Gamma-Gamma parameters by maximum likelihood on customers with a positive mean amount."""
    n_all = np.asarray(purchases, dtype=np.float64)
    m_all = np.asarray(mean_amount, dtype=np.float64)
    if n_all.shape != m_all.shape or n_all.ndim != 1:
        raise ValueError("purchases and mean_amount must be 1-D arrays of the same length")
    used = (n_all >= 1) & (m_all > 0) & np.isfinite(m_all)
    n, m = n_all[used], m_all[used]
    if n.size < 2:
        raise ValueError("fewer than two customers spent anything: the spend model cannot be fitted")
    # Start from the moments of the amounts: mean and spread across customers.
    mean = float(m.mean())
    start = np.log([2.0, 3.0, mean])
    from scipy import optimize

    def objective(log_theta: FloatArray) -> tuple[float, FloatArray]:
        theta = np.exp(log_theta)
        total, gradient = _log_likelihood_and_gradient(theta, n, m)
        return -total / n.size, -gradient * theta / n.size

    result = optimize.minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=[(-_LOG_PARAM_BOUND, _LOG_PARAM_BOUND)] * 3,
        options={"maxiter": max_iterations, "ftol": 1e-13, "gtol": 1e-9},
    )
    params = GammaGammaParams(*(float(v) for v in np.exp(result.x)))
    total = _log_likelihood_and_gradient(np.exp(result.x), n, m)[0]
    at_bound = bool(np.any(np.abs(result.x) >= _LOG_PARAM_BOUND - 1e-6))
    # At the optimum the line search may give up on rounding noise (SciPy reports "ABNORMAL") with the
    # gradient already nil: that is an optimum too.
    stationary = bool(np.max(np.abs(result.jac)) <= _STATIONARY_GRADIENT)
    return SpendFit(
        params=params, log_likelihood=total,
        converged=(bool(result.success) or stationary) and not at_bound and math.isfinite(total),
        n_customers=int(n.size), message=str(result.message),
    )


def expected_amount(params: GammaGammaParams, purchases: ArrayLike, mean_amount: ArrayLike) -> FloatArray:
    """Return each customer's expected amount per order; their own mean where q ≤ 1 leaves no finite prior."""
    n = np.asarray(purchases, dtype=np.float64)
    m = np.asarray(mean_amount, dtype=np.float64)
    if params.q <= 1:
        return m.copy()
    expected: FloatArray = params.p * (params.gamma + n * m) / (params.p * n + params.q - 1)
    return expected
