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


def waterfall(model: MatchModel, found: ScoredPairs, k: int) -> list[dict[str, Any]]:
    """Return the steps that make pair ``k``'s match weight, each with the running total."""
    steps: list[dict[str, Any]] = []
    total = model.prior_weight
    steps.append({"step": "prior", "weight": _bits(model.prior_weight), "total": _bits(total)})
    address = 0.0
    for f, field in enumerate(FIELDS):
        weight = float(found.field_weights[k, f])
        adjustment = float(found.tf_adjustments[k, f])
        total += weight + adjustment
        if field.part == "address":
            address += weight + adjustment
        step: dict[str, Any] = {
            "step": field.name, "level": field.levels[int(found.levels[k, f])], "weight": _bits(weight),
        }
        if adjustment:
            step["term_frequency"] = _bits(adjustment)
        step["total"] = _bits(total)
        steps.append(step)
    excess = max(address - model.address_cap, 0.0)
    if excess > 0:
        total -= excess
        steps.append({"step": "address_cap", "weight": _bits(-excess), "total": _bits(total)})
    if bool(found.household[k]):
        total += HOUSEHOLD_WEIGHT
        steps.append({"step": "household", "weight": _bits(HOUSEHOLD_WEIGHT), "total": _bits(total)})
    probability = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
    steps.append({"step": "match_probability", "probability": round(float(probability), 6)})
    return steps
