"""Churn risk: the model's base figure moved by dated evidence, with an explanation marketing can read.

Everything is in log-odds of churn. A piece of evidence with likelihood ratio w, observed d days ago,
adds log(w) · 0.5^(d / half-life): fresh evidence multiplies the odds of churn by w, and one half-life
later by √w. A terminal piece (a deceased return, w = ∞) makes the risk exactly 1. Evidence dated after
the as-of day does not count yet.

``combine`` scores whole arrays for the nightly refresh; ``explain`` tells one customer's story and
always lands on the same number. ``BaseOnlyExplanations`` writes the story of the many customers
without evidence from shared templates, exactly as ``explain`` would, at a fraction of the cost.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from mailer.churn.bgnbd import BgNbdParams, TimeUnit, churn_log_odds

FloatArray = NDArray[np.float64]

DEFAULT_HALF_LIFE_DAYS: Final = 365.0
# A customer who gives us their new address themselves is very likely still with us: odds of churn ÷4.
SELF_UPDATE_WEIGHT: Final = 0.25


@dataclass(frozen=True)
class HistoryRule:
    """When a purchase history is too thin for the model, and the prior churn risk stated instead.

    Too little history means fewer than ``min_repeat_days`` repeat purchase days, or a first purchase
    less than ``min_age_days`` ago. BG/NBD only lets a customer leave right after a repeat purchase, so
    without one it would call them certainly active: precision the data does not have.
    """

    min_repeat_days: int = 1
    min_age_days: float = 91.0
    prior_risk: float = 0.5

    def __post_init__(self) -> None:
        if self.min_repeat_days < 1:
            raise ValueError("min_repeat_days must be at least 1: with none, BG/NBD reports no risk at all")
        if not (math.isfinite(self.min_age_days) and self.min_age_days >= 0):
            raise ValueError("min_age_days must be a finite number of days, zero or more")
        if not 0 < self.prior_risk < 1:
            raise ValueError("prior_risk must lie strictly between 0 and 1")

    def too_little_history(self, x: ArrayLike, age_days: ArrayLike) -> NDArray[np.bool_]:
        """Tell, per customer, whether the stated prior stands in for the model."""
        return (np.asarray(x) < self.min_repeat_days) | (np.asarray(age_days) < self.min_age_days)


DEFAULT_RULE: Final = HistoryRule()


def base_log_odds(
    params: BgNbdParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    unit: TimeUnit,
    rule: HistoryRule = DEFAULT_RULE,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Return each customer's churn log-odds before evidence, and where the stated prior stood in."""
    age_days = np.asarray(T, dtype=np.float64) * TimeUnit(unit).days
    from_prior = rule.too_little_history(x, age_days)
    model = churn_log_odds(params, x, t_x, T)
    return np.where(from_prior, special.logit(rule.prior_risk), model), from_prior


def _check_half_life(half_life_days: float) -> None:
    if not (math.isfinite(half_life_days) and half_life_days > 0):
        raise ValueError("half_life_days must be a positive number of days")


def decay(age_days: ArrayLike, half_life_days: float) -> FloatArray:
    """Return how much of an effect is left after ``age_days``; evidence from the future counts 0."""
    _check_half_life(half_life_days)
    age = np.asarray(age_days, dtype=np.float64)
    return np.where(age >= 0, np.exp2(-np.maximum(age, 0.0) / half_life_days), 0.0)


def combine(
    base: ArrayLike,
    *,
    evidence_customer: ArrayLike,
    evidence_weight: ArrayLike,
    evidence_age_days: ArrayLike,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> FloatArray:
    """Return each customer's churn risk: base log-odds plus their faded evidence.

    Evidence comes as flat arrays, one entry per item: the customer's position in ``base``, the
    likelihood ratio (``inf`` for terminal) and its age in days at the as-of day.
    """
    base_arr = np.asarray(base, dtype=np.float64)
    customer = np.asarray(evidence_customer, dtype=np.int64)
    weight = np.asarray(evidence_weight, dtype=np.float64)
    age = np.asarray(evidence_age_days, dtype=np.float64)
    if not (customer.shape == weight.shape == age.shape and customer.ndim == 1):
        raise ValueError("evidence arrays must be 1-D and of the same length")
    if customer.size and (customer.min() < 0 or customer.max() >= base_arr.size):
        raise ValueError("evidence_customer must index into base")
    if np.any(np.isnan(weight)) or np.any(weight <= 0):
        raise ValueError("evidence weights must be positive likelihood ratios (inf for terminal)")

    factor = decay(age, half_life_days)
    terminal = np.isposinf(weight) & (age >= 0)
    finite = ~np.isposinf(weight)
    shift = np.zeros(weight.shape)
    shift[finite] = np.log(weight[finite]) * factor[finite]
    log_odds = base_arr + np.bincount(customer, weights=shift, minlength=base_arr.size)
    risk = special.expit(log_odds)
    risk[np.bincount(customer[terminal], minlength=base_arr.size) > 0] = 1.0
    return risk


@dataclass(frozen=True)
class Evidence:
    """One dated piece of evidence: a likelihood ratio of churn and the words that name it."""

    label: str
    # Above 1 raises the odds of churn, below 1 lowers them, math.inf ends the relationship.
    weight: float
    observed_on: date

    def __post_init__(self) -> None:
        if math.isnan(self.weight) or self.weight <= 0:
            raise ValueError(f"evidence weight must be a positive likelihood ratio, not {self.weight}")

    @property
    def is_terminal(self) -> bool:
        """Tell whether this evidence ends the customer relationship outright."""
        return math.isinf(self.weight)


def self_update(observed_on: date, *, weight: float = SELF_UPDATE_WEIGHT) -> Evidence:
    """Return the evidence of a customer updating their own address."""
    return Evidence(label="Customer updated their own address", weight=weight, observed_on=observed_on)


@dataclass(frozen=True)
class BaseFigure:
    """One customer's churn log-odds before evidence, with what it rests on."""

    log_odds: float
    from_prior: bool
    x: int
    t_x: float
    T: float
    unit: TimeUnit
    rule: HistoryRule = DEFAULT_RULE
    # False for a customer with no order on record at all (say, from a rented list).
    has_orders: bool = True

    @property
    def risk(self) -> float:
        """Return the churn risk before evidence."""
        return _risk(self.log_odds)


def base_figure(
    params: BgNbdParams,
    x: int,
    t_x: float,
    T: float,
    *,
    unit: TimeUnit,
    rule: HistoryRule = DEFAULT_RULE,
) -> BaseFigure:
    """Return one customer's base figure, exactly as ``base_log_odds`` scores it."""
    log_odds, from_prior = base_log_odds(params, [x], [t_x], [T], unit=unit, rule=rule)
    return BaseFigure(
        log_odds=float(log_odds[0]),
        from_prior=bool(from_prior[0]),
        x=int(x),
        t_x=float(t_x),
        T=float(T),
        unit=TimeUnit(unit),
        rule=rule,
    )


def base_figure_without_orders(*, unit: TimeUnit, rule: HistoryRule = DEFAULT_RULE) -> BaseFigure:
    """Return the base figure of a customer with no order on record: the stated prior."""
    return BaseFigure(
        log_odds=float(special.logit(rule.prior_risk)),
        from_prior=True,
        x=0,
        t_x=0.0,
        T=0.0,
        unit=TimeUnit(unit),
        rule=rule,
        has_orders=False,
    )


class LineKind(StrEnum):
    """What an explanation line is about."""

    MODEL = "model"
    PRIOR = "prior"
    EVIDENCE = "evidence"
    TERMINAL = "terminal"
    NOT_COUNTED = "not_counted"
    RESULT = "result"


@dataclass(frozen=True)
class ExplanationLine:
    """One line of a churn explanation, in words and in figures."""

    kind: LineKind
    text: str
    risk_after: float
    observed_on: date | None = None
    # What this line did to the odds of churn once faded (inf for terminal), None for base and result.
    odds_factor: float | None = None
    # The evidence's short name ("Returned mail: Refused"), None for base and result lines.
    label: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the line as a JSON-ready dict."""
        return {
            "kind": self.kind.value,
            "text": self.text,
            "risk_after": self.risk_after,
            "observed_on": None if self.observed_on is None else self.observed_on.isoformat(),
            "odds_factor": None if self.odds_factor is None or math.isinf(self.odds_factor) else self.odds_factor,
            "label": self.label,
        }


@dataclass(frozen=True)
class Assessment:
    """A customer's churn risk and the lines that explain it."""

    risk: float
    base_risk: float
    lines: tuple[ExplanationLine, ...]

    @property
    def text(self) -> list[str]:
        """Return the explanation as plain sentences."""
        return [line.text for line in self.lines]

    def to_json(self) -> list[dict[str, Any]]:
        """Return the explanation as a JSON-ready list."""
        return [line.to_json() for line in self.lines]


def explain(
    base: BaseFigure,
    evidence: Sequence[Evidence],
    *,
    as_of: date,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> Assessment:
    """Return the customer's churn risk with the base figure and each piece of evidence explained."""
    _check_half_life(half_life_days)
    lines = [_base_line(base)]
    log_odds = base.log_odds
    ended_by: Evidence | None = None
    for item in sorted(evidence, key=lambda e: e.observed_on):
        age_days = (as_of - item.observed_on).days
        if ended_by is not None:
            lines.append(
                ExplanationLine(
                    kind=LineKind.NOT_COUNTED,
                    text=f"{item.observed_on}: {item.label} — not counted: the relationship already "
                    f"ended with “{ended_by.label}”.",
                    risk_after=1.0,
                    observed_on=item.observed_on,
                    label=item.label,
                )
            )
            continue
        if age_days < 0:
            lines.append(
                ExplanationLine(
                    kind=LineKind.NOT_COUNTED,
                    text=f"{item.observed_on}: {item.label} — dated after {as_of}, not counted yet.",
                    risk_after=_risk(log_odds),
                    observed_on=item.observed_on,
                    label=item.label,
                )
            )
            continue
        if item.is_terminal:
            ended_by = item
            lines.append(
                ExplanationLine(
                    kind=LineKind.TERMINAL,
                    text=f"{item.observed_on}: {item.label} — ends the relationship: churn risk 100%.",
                    risk_after=1.0,
                    observed_on=item.observed_on,
                    odds_factor=math.inf,
                    label=item.label,
                )
            )
            continue
        left = 2.0 ** (-age_days / half_life_days)
        shift = math.log(item.weight) * left
        before = _risk(log_odds)
        log_odds += shift
        after = _risk(log_odds)
        lines.append(
            ExplanationLine(
                kind=LineKind.EVIDENCE,
                text=_evidence_text(item, before, after, age_days, left, half_life_days),
                risk_after=after,
                observed_on=item.observed_on,
                odds_factor=math.exp(shift),
                label=item.label,
            )
        )
    risk = 1.0 if ended_by is not None else _risk(log_odds)
    lines.append(ExplanationLine(kind=LineKind.RESULT, text=_RESULT_TEXT % _percent(risk), risk_after=risk))
    return Assessment(risk=risk, base_risk=base.risk, lines=tuple(lines))


class BaseOnlyExplanations:
    """The explanations of customers without evidence, as JSON text, from shared templates.

    Each text is exactly ``json.dumps(explain(base, [], ...).to_json())``. Customers on the stated
    prior share a handful of texts, each built once by ``explain`` itself; the model's customers
    fill one shared template, a few string operations each instead of a full ``explain``. Keep one
    instance for a whole refresh: what it has built once it reuses.
    """

    def __init__(self, *, unit: TimeUnit, rule: HistoryRule = DEFAULT_RULE) -> None:
        self.unit = TimeUnit(unit)
        self.rule = rule
        self._template = _model_json_template()
        self._repeat_days: dict[int, str] = {}
        self._durations: dict[float, str] = {}
        self._shared: dict[tuple[Any, ...], str] = {}

    def render(
        self,
        log_odds: ArrayLike,
        from_prior: ArrayLike,
        x: ArrayLike,
        t_x: ArrayLike,
        T: ArrayLike,
        has_orders: ArrayLike,
    ) -> list[str]:
        """Return each customer's explanation; the arrays hold base figures as ``base_log_odds`` scores them."""
        unit, rule, template = self.unit, self.rule, self._template
        if len(self._durations) > _MAX_CACHED:
            self._durations.clear()
        repeat_days, durations, shared = self._repeat_days, self._durations, self._shared
        out: list[str] = []
        columns = (np.asarray(a).tolist() for a in (log_odds, from_prior, x, t_x, T, has_orders))
        for lo, prior, xi, txi, Ti, orders in zip(*columns, strict=True):
            if prior or not orders:
                key = (
                    (lo,)
                    if not orders
                    else (lo, min(xi, rule.min_repeat_days), round(Ti, 1), Ti * unit.days < rule.min_age_days)
                )
                text = shared.get(key)
                if text is None:
                    base = BaseFigure(
                        log_odds=lo, from_prior=True, x=xi, t_x=txi, T=Ti, unit=unit, rule=rule, has_orders=orders
                    )
                    text = shared[key] = json.dumps(explain(base, [], as_of=_UNUSED_DAY).to_json())
                out.append(text)
                continue
            count = repeat_days.get(xi)
            if count is None:
                count = repeat_days[xi] = _count(xi, "repeat purchase day")
            # Keyed by the exact value: t_x and T are whole days in the unit, so few distinct values.
            last_text = durations.get(txi)
            if last_text is None:
                last_text = durations[txi] = _duration(txi, unit)
            age_text = durations.get(Ti)
            if age_text is None:
                age_text = durations[Ti] = _duration(Ti, unit)
            risk = _risk(lo)
            percent = _percent(risk)
            risk_json = repr(risk)
            out.append(template % (count, last_text, age_text, percent, risk_json, percent, risk_json))
        return out


# Durations kept for reuse; only arrays of arbitrary (not whole-day) ages come near it.
_MAX_CACHED: Final = 100_000
# Any day will do where there is no evidence to date.
_UNUSED_DAY: Final = date(1970, 1, 1)
_SLOT: Final = "@@slot@@"


def _model_json_template() -> str:
    # The JSON of [base line, result line] with %s where the figures go, keys in to_json's order.
    base = ExplanationLine(kind=LineKind.MODEL, text=_MODEL_TEXT, risk_after=0.0).to_json()
    result = ExplanationLine(kind=LineKind.RESULT, text=_RESULT_TEXT, risk_after=0.0).to_json()
    base["risk_after"] = result["risk_after"] = _SLOT
    return json.dumps([base, result]).replace(json.dumps(_SLOT), "%s")


_MODEL_TEXT: Final = (
    "Purchase history: %s, the last one %s after the first; a customer for %s. "
    "The BG/NBD model puts the churn risk at %s."
)
_RESULT_TEXT: Final = "Churn risk: %s."


def _risk(log_odds: float) -> float:
    # The logistic function on one number, without overflow at either end.
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1.0 + odds)


def _base_line(base: BaseFigure) -> ExplanationLine:
    unit = base.unit
    age = _duration(base.T, unit)
    if not base.has_orders:
        text = f"No orders on record: starting from the stated prior churn risk of {_percent(base.risk)}."
        return ExplanationLine(kind=LineKind.PRIOR, text=text, risk_after=base.risk)
    if base.from_prior:
        reasons = []
        if base.x < base.rule.min_repeat_days:
            reasons.append(
                "no repeat purchase yet"
                if base.x == 0
                else f"only {_count(base.x, 'repeat purchase day')}, under {base.rule.min_repeat_days}"
            )
        if base.T * unit.days < base.rule.min_age_days:
            reasons.append(f"a customer for only {age}, under {base.rule.min_age_days:g} days")
        else:
            reasons.append(f"a customer for {age}")
        text = (
            f"Too little purchase history for the model ({'; '.join(reasons)}): "
            f"starting from the stated prior churn risk of {_percent(base.risk)}."
        )
        return ExplanationLine(kind=LineKind.PRIOR, text=text, risk_after=base.risk)
    text = _MODEL_TEXT % (
        _count(base.x, "repeat purchase day"),
        _duration(base.t_x, unit),
        age,
        _percent(base.risk),
    )
    return ExplanationLine(kind=LineKind.MODEL, text=text, risk_after=base.risk)


def _evidence_text(
    item: Evidence, before: float, after: float, age_days: int, left: float, half_life_days: float
) -> str:
    if item.weight == 1:
        return f"{item.observed_on}: {item.label} — no effect on churn risk (weight ×1)."
    direction = "raises" if item.weight > 1 else "lowers"
    weight = f"weight ×{_factor(item.weight)}"
    if age_days > 0:
        weight += (
            f", faded to ×{_factor(item.weight**left)} after {_count(age_days, 'day')};"
            f" half-life {half_life_days:g} days"
        )
    return (
        f"{item.observed_on}: {item.label} — {direction} churn risk from {_percent(before)} "
        f"to {_percent(after)} ({weight})."
    )


def format_risk(p: float) -> str:
    """Return a risk as the explanations print it: whole percent, "under 1%" and "over 99%" near the ends."""
    return _percent(p)


def _percent(p: float) -> str:
    if 0 < p < 0.01:
        return "under 1%"
    if 0.99 < p < 1:
        return "over 99%"
    return f"{p:.0%}"


def _factor(w: float) -> str:
    return f"{w:.0f}" if w >= 10 else f"{w:.2g}"


def _count(n: int | float, noun: str) -> str:
    value = f"{n:g}" if isinstance(n, float) else str(n)
    return f"{value} {noun}" if n == 1 else f"{value} {noun}s"


def _duration(amount: float, unit: TimeUnit) -> str:
    return _count(round(amount, 1), unit.value)
