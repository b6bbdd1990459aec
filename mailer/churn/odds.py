"""Churn risk and its log-odds for one customer, on scipy's logistic functions like the array code."""

from __future__ import annotations

from typing import Any

from scipy import special


def risk_of(log_odds: float) -> float:
    """Return the churn risk whose log-odds of churn is ``log_odds``."""
    return float(special.expit(log_odds))


def log_odds_of(risk: Any) -> float:
    """Return the log-odds of a churn risk: -inf at 0 and inf at 1; -inf for a risk not on record."""
    # Stored explanations may hold no risk (None) on a line: it counts as no risk at all.
    if not isinstance(risk, int | float):
        return float("-inf")
    return float(special.logit(risk))
