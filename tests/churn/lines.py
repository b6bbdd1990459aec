"""Stored churn explanation lines of every kind, as the JSON column keeps them, for tests that say them."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from typing import Any

import numpy as np

from mailer.churn import evidence as ev
from mailer.churn import explanation
from mailer.churn.bgnbd import BgNbdParams, TimeUnit
from mailer.churn.evidence import Evidence, HistoryRule
from mailer.churn.stored_risk import add_evidence, withdraw_evidence
from returns.catalog import REASONS

AS_OF = date(2024, 6, 30)
PARAMS = BgNbdParams(r=0.8, alpha=6.0, a=0.9, b=3.0)


def _label(code: str) -> Evidence:
    return Evidence(REASONS[code].evidence_label, REASONS[code].churn_weight, AS_OF)


def _on(item: Evidence, days_ago: int) -> Evidence:
    return Evidence(item.label, item.weight, AS_OF - timedelta(days=days_ago))


def odds(p: float) -> float:
    """Return the odds of a probability."""
    return p / (1 - p)


def fixed_base(risk: float = 0.3) -> ev.BaseFigure:
    """Return a model base figure of ``risk`` for a customer with 3 repeat weeks of 52."""
    return ev.BaseFigure(
        log_odds=math.log(odds(risk)), from_prior=False, x=3, t_x=20.0, T=52.0, unit=TimeUnit.WEEK,
        interval_days=(30.0, 90.0),
    )


def returned(label: str, weight: float, days_ago: int = 0) -> Evidence:
    """Return a piece of evidence observed ``days_ago`` days before AS_OF."""
    return Evidence(label=label, weight=weight, observed_on=AS_OF - timedelta(days=days_ago))


def stored_lines() -> list[dict[str, Any]]:
    """Return lines of every kind and wording: explain()'s, the fast path's and the returns path's."""
    rule = HistoryRule(prior_risk=0.4)
    week = TimeUnit.WEEK
    stories = [
        explanation.explain(ev.base_figure(PARAMS, 4, 20.0, 52.0, unit=week), [
            Evidence("Returned mail: moved", 6.0, AS_OF - timedelta(days=200)),
            ev.self_update(AS_OF - timedelta(days=30)),
            _on(_label("TA"), 3),
            _on(_label("DEC"), 2),
            _on(_label("REF"), 1),
        ], as_of=AS_OF, half_life_days=180),
        explanation.explain(ev.base_figure(PARAMS, 0, 0.0, 6.0, unit=week, rule=rule), [
            _label("UNC"), ev.self_update(AS_OF), _on(_label("REF"), -2),
        ], as_of=AS_OF),
        explanation.explain(ev.base_figure(PARAMS, 1, 3.0, 6.0, unit=week, rule=rule), [], as_of=AS_OF),
        explanation.explain(ev.base_figure(PARAMS, 0, 0.0, 150.5, unit=week, rule=rule), [], as_of=AS_OF),
        explanation.explain(ev.base_figure(PARAMS, 0, 0.0, 0.0, unit=week, rule=rule), [], as_of=AS_OF),
        explanation.explain(ev.base_figure(PARAMS, 3, 5.0, 5.0, unit=week, horizon_days=90), [], as_of=AS_OF),
        explanation.explain(ev.base_figure_on_prior(unit=week, rule=rule, has_orders=True), [], as_of=AS_OF),
        explanation.explain(ev.base_figure(PARAMS.in_unit(week, TimeUnit.DAY), 1, 1.0, 40.0, unit=TimeUnit.DAY), [],
                   as_of=AS_OF),
        explanation.explain(ev.base_figure_without_orders(unit=week), [], as_of=AS_OF),
        explanation.explain(fixed_base(0.004), [], as_of=AS_OF),
        explanation.explain(fixed_base(0.996), [_on(_label("MLNA"), 1)], as_of=AS_OF),
    ]
    lines = [line for story in stories for line in story.to_json()]
    # The fast path of the nightly refresh, one repeat purchase day (singular) among them.
    fast = explanation.BaseOnlyExplanations(unit=week, horizon_days=365).render(
        np.array([-1.0, 2.0]), np.array([False, False]), np.array([1, 7]), np.array([1.0, 30.4]),
        np.array([40.0, 61.3]), np.array([True, True]), (np.array([10.0, 3.0]), np.array([90.0, 12.0])),
    )
    lines += [line for text in fast for line in json.loads(text)]
    # A return recorded between refreshes, for a customer never scored and a scored one, and its correction.
    first = add_evidence(None, None, _label("UNC"), as_of=AS_OF)
    lines += first.explanation
    lines += add_evidence(0.3, [], _label("ANK"), as_of=AS_OF).explanation
    scored = explanation.explain(fixed_base(0.3), [], as_of=AS_OF).to_json()
    lines += add_evidence(0.3, scored, _label("ANK"), as_of=AS_OF).explanation[1:]
    lines += withdraw_evidence(
        first.risk, first.explanation, label=REASONS["UNC"].evidence_label, risk_before=0.5, risk_after=first.risk,
        on=AS_OF,
    ).explanation[-2:]
    return json.loads(json.dumps(lines))
