"""Churn explanations: one customer's risk told line by line, the base figure and each piece of evidence.

``explain`` tells one customer's story and always lands on the number ``mailer.churn.evidence.combine``
scores. ``BaseOnlyExplanations`` writes the story of the many customers without evidence from shared
templates, exactly as ``explain`` would, at a fraction of the cost.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike

from mailer.churn.bgnbd import TimeUnit
from mailer.churn.evidence import (
    DEFAULT_HALF_LIFE_DAYS,
    DEFAULT_RULE,
    BaseFigure,
    Evidence,
    HistoryRule,
    check_half_life,
)
from mailer.churn.odds import risk_of
from mailer.churn.wording import (
    RESULT_HORIZON_TEMPLATE,
    WORDINGS,
    Phrase,
    Wording,
    format_risk,
    say_values,
    stored_phrase,
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
    # The text as a phrase, to say it in another language; None for a line of words only. The line's
    # own risk_after, observed_on and label fill the placeholders its values leave (line_values).
    words: Phrase | None = None

    @classmethod
    def worded(
        cls,
        kind: LineKind,
        template: Wording | str,
        values: Mapping[str, Any],
        *,
        risk_after: float,
        observed_on: date | None = None,
        odds_factor: float | None = None,
        label: str | None = None,
    ) -> ExplanationLine:
        """Return a line saying the template filled with its figures and the values, in English and as a phrase."""
        own = {
            "risk_after": format_risk(risk_after),
            "observed_on": "" if observed_on is None else observed_on.isoformat(),
            "label": label or "",
        }
        words, stored = say_values(values, own)
        return cls(
            kind=kind,
            text=(WORDINGS[template] if isinstance(template, Wording) else template) % words,
            risk_after=risk_after,
            observed_on=observed_on,
            odds_factor=odds_factor,
            label=label,
            words=stored_phrase(template, stored),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the line as a JSON-ready dict: its figures, then its phrase (wording or template, and values)."""
        line: dict[str, Any] = {
            "kind": self.kind.value,
            "text": self.text,
            "risk_after": self.risk_after,
            "observed_on": None if self.observed_on is None else self.observed_on.isoformat(),
            "odds_factor": None if self.odds_factor is None or math.isinf(self.odds_factor) else self.odds_factor,
            "label": None if self.label is None else str(self.label),
        }
        if self.words is not None:
            line.update(self.words)
        return line


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
    lines, risk = evidence_lines(base.log_odds, evidence, as_of=as_of, half_life_days=half_life_days)
    return Assessment(
        risk=risk,
        base_risk=base.risk,
        lines=(_base_line(base), *lines, result_line(risk, horizon_days=base.horizon_days)),
    )


def evidence_lines(
    log_odds: float,
    evidence: Sequence[Evidence],
    *,
    as_of: date,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> tuple[list[ExplanationLine], float]:
    """Return the line of each piece of evidence moving a base figure (in log-odds), and the risk it lands on."""
    check_half_life(half_life_days)
    lines: list[ExplanationLine] = []
    ended_by: Evidence | None = None
    for item in sorted(evidence, key=lambda e: e.observed_on):
        age_days = (as_of - item.observed_on).days
        if ended_by is not None:
            lines.append(
                ExplanationLine.worded(
                    LineKind.NOT_COUNTED,
                    Wording.ENDED_BEFORE,
                    {"label": item.label, "ended_by": ended_by.label},
                    risk_after=1.0,
                    observed_on=item.observed_on,
                    label=item.label,
                )
            )
            continue
        if age_days < 0:
            lines.append(
                ExplanationLine.worded(
                    LineKind.NOT_COUNTED,
                    Wording.NOT_YET,
                    {"label": item.label, "as_of": as_of.isoformat()},
                    risk_after=risk_of(log_odds),
                    observed_on=item.observed_on,
                    label=item.label,
                )
            )
            continue
        if item.is_terminal:
            ended_by = item
            lines.append(
                ExplanationLine.worded(
                    LineKind.TERMINAL,
                    Wording.ENDS,
                    {"label": item.label},
                    risk_after=1.0,
                    observed_on=item.observed_on,
                    odds_factor=math.inf,
                    label=item.label,
                )
            )
            continue
        left = 2.0 ** (-age_days / half_life_days)
        shift = math.log(item.weight) * left
        before = risk_of(log_odds)
        log_odds += shift
        after = risk_of(log_odds)
        lines.append(
            ExplanationLine.worded(
                LineKind.EVIDENCE,
                *_evidence_words(item, before, age_days, left, half_life_days),
                risk_after=after,
                observed_on=item.observed_on,
                odds_factor=math.exp(shift),
                label=item.label,
            )
        )
    return lines, 1.0 if ended_by is not None else risk_of(log_odds)


def result_line(risk: float, *, horizon_days: int | None = None) -> ExplanationLine:
    """Return the closing line of an explanation: the churn risk it lands on, and its horizon where known."""
    if horizon_days is None:
        return ExplanationLine.worded(LineKind.RESULT, Wording.RESULT, {}, risk_after=risk)
    return ExplanationLine.worded(
        LineKind.RESULT, Wording.RESULT_HORIZON, {"horizon_days": horizon_days}, risk_after=risk
    )


class BaseOnlyExplanations:
    """The explanations of customers without evidence, as JSON text, from shared templates.

    Each text is exactly ``json.dumps(explain(base, [], ...).to_json())``. Customers on the stated
    prior share a handful of texts, each built once by ``explain`` itself; the model's customers
    fill one shared template per wording, a few string operations each instead of a full ``explain``.
    Keep one instance for a whole refresh: what it has built once it reuses.
    """

    def __init__(self, *, unit: TimeUnit, horizon_days: int, rule: HistoryRule = DEFAULT_RULE) -> None:
        self.unit = TimeUnit(unit)
        self.rule = rule
        self.horizon_days = horizon_days
        self._templates = {wording: _model_json_template(wording, horizon_days) for wording in _HISTORY_WORDINGS}
        # The words (JSON-escaped) of each figure, by the figure.
        self._words: dict[tuple[str, Any], str] = {}
        self._shared: dict[tuple[Any, ...], str] = {}

    def render(
        self,
        log_odds: ArrayLike,
        from_prior: ArrayLike,
        x: ArrayLike,
        t_x: ArrayLike,
        T: ArrayLike,
        has_orders: ArrayLike,
        interval_days: tuple[ArrayLike, ArrayLike],
    ) -> list[str]:
        """Return each customer's explanation; the arrays hold base figures as ``base_log_odds`` scores them."""
        unit, rule = self.unit, self.rule
        if len(self._words) > _MAX_CACHED:
            self._words.clear()
        words, shared, templates = self._words, self._shared, self._templates
        out: list[str] = []
        fast_days, slow_days = (np.asarray(a, dtype=np.float64) for a in interval_days)
        columns = (
            np.asarray(a).tolist()
            for a in (log_odds, from_prior, x, t_x, T, has_orders, fast_days, slow_days)
        )
        for lo, prior, xi, txi, Ti, orders, fast, slow in zip(*columns, strict=True):
            if prior or not orders:
                key = (lo, orders)
                text = shared.get(key)
                if text is None:
                    base = BaseFigure(
                        log_odds=lo, from_prior=True, x=xi, t_x=txi, T=Ti, unit=unit, rule=rule, has_orders=orders,
                        horizon_days=self.horizon_days,
                    )
                    text = shared[key] = json.dumps(explain(base, [], as_of=_UNUSED_DAY).to_json())
                out.append(text)
                continue
            values = _history_values(xi, txi, Ti, unit, (fast, slow))
            template, slots = templates[_history_wording(xi, values["since_days"])]
            risk = risk_of(lo)
            fill = {
                "risk": repr(risk),
                "percent": json.dumps(format_risk(risk))[1:-1],
                "orders_value": values["orders"],
                "span_value": values["span_days"],
                "since_value": values["since_days"],
                "interval_value": json.dumps(values["interval_days"]),
            }
            for name in _WORD_SLOTS:
                if name not in slots:
                    continue
                value = values[name]
                cache_key = (name, value if name != "interval_days" else tuple(value))
                word = words.get(cache_key)
                if word is None:
                    word = words[cache_key] = json.dumps(say_values({name: value})[0][name])[1:-1]
                fill[name] = word
            out.append(template % tuple(fill[name] for name in slots))
        return out


# Durations kept for reuse; only arrays of arbitrary (not whole-day) ages come near it.
_MAX_CACHED: Final = 100_000
# Any day will do where there is no evidence to date.
_UNUSED_DAY: Final = date(1970, 1, 1)
_HISTORY_WORDINGS: Final = (Wording.HISTORY, Wording.HISTORY_TODAY, Wording.ONE_ORDER, Wording.ONE_ORDER_TODAY)
# The figures a shared JSON text holds: the words of the base line's figures, its risk_after and
# values, the result line's percent.
_WORD_SLOTS: Final = ("orders", "span_days", "since_days", "interval_days")
_MODEL_SLOTS: Final = (*_WORD_SLOTS, "risk", "orders_value", "span_value", "since_value", "interval_value", "percent")
_SLOT: Final = re.compile(r"@@(\w+)@@")


def _history_values(
    x: int, t_x: float, T: float, unit: TimeUnit, interval_days: tuple[float, float]
) -> dict[str, Any]:
    """Return the base line's values: orders, days from the first to the last, days since, interval."""
    days = unit.days
    return {
        "orders": int(x) + 1,
        "span_days": round(t_x * days),
        "since_days": round((T - t_x) * days),
        "interval_days": [round(interval_days[0], 1), round(interval_days[1], 1)],
    }


def _history_wording(x: int, since_days: int) -> Wording:
    if x == 0:
        return Wording.ONE_ORDER_TODAY if since_days == 0 else Wording.ONE_ORDER
    return Wording.HISTORY_TODAY if since_days == 0 else Wording.HISTORY


def _model_json_template(wording: Wording, horizon_days: int) -> tuple[str, tuple[str, ...]]:
    # The JSON of [base line, result line] as explain() writes it, with %s where the figures go.
    # The marks stand in for figures of any type (risk_after is a float), hence the ignores below.
    mark = {name: f"@@{name}@@" for name in _MODEL_SLOTS}
    base = ExplanationLine(
        kind=LineKind.MODEL,
        text=WORDINGS[wording] % {name: mark[name] for name in _WORD_SLOTS},
        risk_after=mark["risk"],  # type: ignore[arg-type]
        words={"wording": wording.value, "values": {
            "orders": mark["orders_value"], "span_days": mark["span_value"], "since_days": mark["since_value"],
            "interval_days": mark["interval_value"]}},
    ).to_json()
    result = ExplanationLine(
        kind=LineKind.RESULT,
        text=RESULT_HORIZON_TEMPLATE % {"risk_after": mark["percent"], "horizon_days": horizon_days},
        risk_after=mark["risk"],  # type: ignore[arg-type]
        words={"wording": Wording.RESULT_HORIZON.value, "values": {"horizon_days": horizon_days}},
    ).to_json()
    text = json.dumps([base, result]).replace("%", "%%")
    for slot in mark.values():
        text = text.replace(json.dumps(slot), slot)  # figures go in unquoted
    return _SLOT.sub("%s", text), tuple(_SLOT.findall(text))


def _base_line(base: BaseFigure) -> ExplanationLine:
    risk = base.risk
    if not base.has_orders:
        return ExplanationLine.worded(LineKind.PRIOR, Wording.NO_ORDERS_PRIOR, {}, risk_after=risk)
    if base.from_prior or base.interval_days is None:
        return ExplanationLine.worded(LineKind.PRIOR, Wording.NO_MODEL, {}, risk_after=risk)
    values = _history_values(base.x, base.t_x, base.T, base.unit, base.interval_days)
    wording = _history_wording(base.x, values["since_days"])
    return ExplanationLine.worded(LineKind.MODEL, wording, values, risk_after=risk)


def _evidence_words(
    item: Evidence, before: float, age_days: int, left: float, half_life_days: float
) -> tuple[Wording, dict[str, Any]]:
    if item.weight == 1:
        return Wording.NO_EFFECT, {"label": item.label}
    values = {"label": item.label, "risk_before": before, "weight": item.weight}
    if age_days > 0:
        values.update(faded=item.weight**left, days=age_days, half_life_days=half_life_days)
        return (Wording.RAISES_FADED if item.weight > 1 else Wording.LOWERS_FADED), values
    return (Wording.RAISES if item.weight > 1 else Wording.LOWERS), values
