"""Base-only explanations at the edges of their rounding: each text is still exactly what explain writes."""

from __future__ import annotations

import json
import math

import numpy as np

from mailer.churn import explanation
from mailer.churn.bgnbd import TimeUnit
from mailer.churn.evidence import BaseFigure
from mailer.churn.explanation import explain
from tests.churn.lines import AS_OF


def _explained(log_odds: float, x: int, t_x: float, T: float, interval: tuple[float, float], unit: TimeUnit) -> str:
    base = BaseFigure(
        log_odds=log_odds, from_prior=False, x=x, t_x=t_x, T=T, unit=unit, has_orders=True, horizon_days=365,
        interval_days=interval,
    )
    return json.dumps(explain(base, [], as_of=AS_OF).to_json())


def test_intervals_spans_and_percents_on_their_rounding_edges_read_as_explain_writes_them() -> None:
    # Interval ends on each unit's threshold, on half units (rounded half to even), beyond the
    # "or longer" limit and endless; spans on half days; risks on half percents and near the ends.
    edges = [0.04, 0.05, 0.96, 3.5, 7.0, 10.5, 13.95, 14.0, 14.05, 17.5, 45.65, 69.95, 70.0, 729.9, 730.0,
             913.1, 7305.0, 7305.1, 9999.0]
    pairs = [(low, high) for low in edges for high in edges if low <= high] + [(3.0, math.inf)]
    rng = np.random.default_rng(3)
    n = len(pairs)
    risks = np.array([0.005, 0.0049, 0.125, 0.135, 0.5, 0.985, 0.995, 0.9951, 1e-12, 1 - 1e-12])
    log_odds = np.log(risks / (1 - risks))[np.arange(n) % risks.size]
    x = rng.integers(0, 5, n)
    days = np.where(np.arange(n) % 3 == 0, 0, rng.integers(0, 900, n))
    T = (days + rng.integers(0, 400, n) + np.array([0.5, 0.0])[np.arange(n) % 2]) / 7
    t_x = np.where(x > 0, np.minimum(days / 7 + 0.5 / 7, T), 0.0)
    fast = np.array([low for low, _ in pairs])
    slow = np.array([high for _, high in pairs])
    no = np.zeros(n, dtype=bool)

    templates = explanation.BaseOnlyExplanations(unit=TimeUnit.WEEK, horizon_days=365)
    # Twice: the second call reuses the words the first one built.
    for _ in range(2):
        texts = templates.render(log_odds, no, x, t_x, T, ~no, (fast, slow))
        for i in range(n):
            expected = _explained(float(log_odds[i]), int(x[i]), float(t_x[i]), float(T[i]),
                                  (float(fast[i]), float(slow[i])), TimeUnit.WEEK)
            assert texts[i] == expected, (i, pairs[i])
