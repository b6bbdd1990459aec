"""Moving a customer's stored churn risk at once when a return or a confirmation arrives.

The nightly churn refresh recomputes every risk from orders, current returns and self-updates; until
then, each new piece of evidence moves the stored risk by its weight in log-odds, faded by its age
exactly as the refresh fades it, and adds its line to the stored explanation. A customer never
scored starts from the stated prior (``DEFAULT_RULE.prior_risk``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from mailer.churn.bgnbd import TimeUnit
from mailer.churn.evidence import DEFAULT_RULE, Evidence, base_figure_without_orders
from mailer.churn.explanation import ExplanationLine, LineKind, evidence_lines, result_line
from mailer.churn.odds import log_odds_of, risk_of
from mailer.messages import Message

# The lines this module adds to a stored explanation, stored with their values like explain()'s own.
_NOT_SCORED: Final = Message("Not scored yet: starting from the stated prior churn risk of %(risk_after)s.")
_SO_FAR: Final = Message("Churn risk so far: %(risk_after)s.")
_TAKEN_BACK: Final = Message(
    "%(observed_on)s: %(label)s — corrected: taken back; churn risk %(risk_before)s → %(risk_after)s."
)


@dataclass(frozen=True, slots=True)
class ChurnUpdate:
    """A customer's churn risk and explanation after one more piece of evidence."""

    risk: float
    explanation: list[dict[str, Any]]


def _base_log_odds(risk: float | None) -> float:
    # A customer never scored starts from the stated prior, as the refresh starts one without orders.
    if risk is None:
        return base_figure_without_orders(unit=TimeUnit.WEEK).log_odds
    return log_odds_of(risk)


def _without_result(explanation: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [dict(line) for line in explanation or [] if line.get("kind") != LineKind.RESULT.value]


def horizon_of(explanation: Sequence[Mapping[str, Any]] | None) -> int | None:
    """Return the horizon a stored risk is for, as its closing line says; None for one stored without."""
    for line in explanation or []:
        if line.get("kind") == LineKind.RESULT.value:
            horizon = (line.get("values") or {}).get("horizon_days")
            return horizon if isinstance(horizon, int) else None
    return None


def add_evidence(
    risk: float | None,
    explanation: Sequence[dict[str, Any]] | None,
    item: Evidence,
    *,
    as_of: date,
) -> ChurnUpdate:
    """Return the risk moved by one piece of evidence, and the explanation with its line added."""
    horizon_days = horizon_of(explanation)
    lines = _without_result(explanation)
    if risk is None:
        prior = DEFAULT_RULE.prior_risk
        lines = [ExplanationLine.worded(LineKind.PRIOR, _NOT_SCORED, {}, risk_after=prior).to_json()]
    elif not lines:
        lines = [ExplanationLine.worded(LineKind.MODEL, _SO_FAR, {}, risk_after=risk).to_json()]
    # The lines ``explain`` writes after its base line: the stored explanation already tells the base.
    added, new_risk = evidence_lines(_base_log_odds(risk), [item], as_of=as_of)
    lines.extend(line.to_json() for line in added)
    lines.append(result_line(new_risk, horizon_days=horizon_days).to_json())
    return ChurnUpdate(risk=new_risk, explanation=lines)


def withdraw_evidence(
    risk: float | None,
    explanation: Sequence[dict[str, Any]] | None,
    *,
    label: str,
    risk_before: float | None,
    risk_after: float,
    on: date,
) -> ChurnUpdate:
    """Take back what one earlier piece of evidence did to the risk (a corrected return).

    Evidence that ended the relationship is taken back by returning to the risk before it; any
    other is taken back by its own shift in log-odds, so what came after it still counts.
    """
    current = risk if risk is not None else DEFAULT_RULE.prior_risk
    if math.isinf(log_odds_of(risk_after)) and current >= 1:
        new_risk = risk_before if risk_before is not None else DEFAULT_RULE.prior_risk
    elif 0 < current < 1:
        before = risk_before if risk_before is not None else DEFAULT_RULE.prior_risk
        shift = log_odds_of(risk_after) - log_odds_of(before)
        new_risk = risk_of(log_odds_of(current) - shift)
    else:
        new_risk = current
    line = ExplanationLine.worded(
        LineKind.EVIDENCE,
        _TAKEN_BACK,
        {"label": label, "risk_before": current},
        risk_after=new_risk,
        observed_on=on,
        label=label,
    ).to_json()
    horizon_days = horizon_of(explanation)
    lines = _without_result(explanation)
    # The closing line as explain() writes it from this risk: through log-odds and back, to the last digit.
    lines.extend((line, result_line(risk_of(log_odds_of(new_risk)), horizon_days=horizon_days).to_json()))
    return ChurnUpdate(risk=new_risk, explanation=lines)

