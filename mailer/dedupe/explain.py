"""The explanation of a pair's score: a waterfall of match weights, from the prior to the probability.

Each step is plain data (for ``--json`` and the review page): the prior odds that two customers of
the file are one person, then each field with its agreement level and weight (log2 of m/u), the
term-frequency adjustment of a rare or common value, the address cap and the household rule;
the steps add up to the pair's match weight, whose logistic is the match probability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mailer.dedupe.model import HOUSEHOLD_WEIGHT, MatchModel
from mailer.dedupe.scoring import FIELDS

if TYPE_CHECKING:
    from mailer.dedupe.search import ScoredPairs


def _bits(value: float) -> float:
    return round(float(value), 2)


def waterfalls(model: MatchModel, found: ScoredPairs) -> list[list[dict[str, Any]]]:
    """Return the steps that make each pair's match weight, each step with the running total (the
    arithmetic done for all pairs at once)."""
    count = len(found)
    if count == 0:
        return []
    steps = found.field_weights + found.tf_adjustments
    # The running totals, added in the order the steps are shown.
    totals = np.cumsum(np.column_stack([np.full(count, model.prior_weight), steps]), axis=1)
    address = np.zeros(count)
    for f, field in enumerate(FIELDS):
        if field.part == "address":
            address += steps[:, f]
    excess = np.maximum(address - model.address_cap, 0.0)
    total = totals[:, -1] - excess
    capped = total.copy()
    household = found.household.astype(bool)
    total = np.where(household, total + HOUSEHOLD_WEIGHT, total)
    probability = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
    weights = np.round(found.field_weights, 2).tolist()
    adjustments = np.round(found.tf_adjustments, 2).tolist()
    has_adjustment = (found.tf_adjustments != 0).tolist()
    running = np.round(totals, 2).tolist()
    levels = found.levels.tolist()
    cap_step = np.round(-excess, 2).tolist()
    cap_total = np.round(capped, 2).tolist()
    household_total = np.round(total, 2).tolist()
    probabilities = np.round(probability, 6).tolist()
    prior = {"step": "prior", "weight": _bits(model.prior_weight), "total": _bits(model.prior_weight)}
    names = [(field.name, field.levels) for field in FIELDS]
    household_weight = _bits(HOUSEHOLD_WEIGHT)
    out: list[list[dict[str, Any]]] = []
    for k, (k_weights, k_adjustments, k_has, k_running, k_levels) in enumerate(
        zip(weights, adjustments, has_adjustment, running, levels, strict=True)
    ):
        pair_steps: list[dict[str, Any]] = [dict(prior)]
        for f, (name, labels) in enumerate(names):
            step: dict[str, Any] = {"step": name, "level": labels[k_levels[f]], "weight": k_weights[f]}
            if k_has[f]:
                step["term_frequency"] = k_adjustments[f]
            step["total"] = k_running[f + 1]
            pair_steps.append(step)
        if excess[k] > 0:
            pair_steps.append({"step": "address_cap", "weight": cap_step[k], "total": cap_total[k]})
        if household[k]:
            pair_steps.append({"step": "household", "weight": household_weight, "total": household_total[k]})
        pair_steps.append({"step": "match_probability", "probability": probabilities[k]})
        out.append(pair_steps)
    return out
