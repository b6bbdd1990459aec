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
    MODEL_TEMPLATE,
    RESULT_TEMPLATE,
    WORDINGS,
    Phrase,
    Wording,
    format_duration,
    format_repeat_days,
    format_risk,
    phrase,
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
    return Assessment(risk=risk, base_risk=base.risk, lines=(_base_line(base), *lines, result_line(risk)))


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


def result_line(risk: float) -> ExplanationLine:
    """Return the closing line of an explanation: the churn risk it lands on."""
    return ExplanationLine.worded(LineKind.RESULT, Wording.RESULT, {}, risk_after=risk)


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
        self._template = _model_json_template(self.unit)
        # The words and the JSON of each figure, by the figure.
        self._repeat_days: dict[int, tuple[str, str]] = {}
        self._durations: dict[float, tuple[str, str]] = {}
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
                count = repeat_days[xi] = (format_repeat_days(xi), json.dumps(xi))
            # Keyed by the exact value: t_x and T are whole days in the unit, so few distinct values.
            last = durations.get(txi)
            if last is None:
                last = durations[txi] = (format_duration(txi, unit), json.dumps(round(txi, 1)))
            age = durations.get(Ti)
            if age is None:
                age = durations[Ti] = (format_duration(Ti, unit), json.dumps(round(Ti, 1)))
            risk = risk_of(lo)
            percent, risk_json = format_risk(risk), repr(risk)
            # In the order of _MODEL_SLOTS.
            out.append(
                template
                % (count[0], last[0], age[0], percent, risk_json, count[1], last[1], age[1], percent, risk_json)
            )
        return out


# Durations kept for reuse; only arrays of arbitrary (not whole-day) ages come near it.
_MAX_CACHED: Final = 100_000
# Any day will do where there is no evidence to date.
_UNUSED_DAY: Final = date(1970, 1, 1)
# Where each customer's figures go in the shared JSON text, in order: the base line's text,
# risk_after and values, then the result line's text and risk_after.
_MODEL_SLOTS: Final = ("count", "last", "age", "percent", "risk", "x", "last_value", "age_value", "percent", "risk")
_SLOT: Final = re.compile(r"@@(\w+)@@")


def _model_json_template(unit: TimeUnit) -> str:
    # The JSON of [base line, result line] as explain() writes it, with %s where the figures go.
    # The marks stand in for figures of any type (risk_after is a float), hence the ignores below.
    mark = {name: f"@@{name}@@" for name in _MODEL_SLOTS}
    base = ExplanationLine(
        kind=LineKind.MODEL,
        text=MODEL_TEMPLATE % {"repeat_days": mark["count"], "last_after": mark["last"], "age": mark["age"],
                       "risk_after": mark["percent"]},
        risk_after=mark["risk"],  # type: ignore[arg-type]
        words={"wording": Wording.MODEL.value, "values": {"repeat_days": mark["x"], "last_after": mark["last_value"],
                                                          "age": mark["age_value"], "unit": unit.value}},
    ).to_json()
    result = ExplanationLine(
        kind=LineKind.RESULT,
        text=RESULT_TEMPLATE % {"risk_after": mark["percent"]},
        risk_after=mark["risk"],  # type: ignore[arg-type]
        words={"wording": Wording.RESULT.value, "values": {}},
    ).to_json()
    text = json.dumps([base, result]).replace("%", "%%")
    for slot in mark.values():
        text = text.replace(json.dumps(slot), slot)  # figures go in unquoted
    if tuple(_SLOT.findall(text)) != _MODEL_SLOTS:
        raise RuntimeError("the shared explanation's slots are out of the order render() fills them in")
    return _SLOT.sub("%s", text)




def _base_line(base: BaseFigure) -> ExplanationLine:
    unit, rule, risk = base.unit, base.rule, base.risk
    age = round(float(base.T), 1)
    if not base.has_orders:
        return ExplanationLine.worded(LineKind.PRIOR, Wording.NO_ORDERS, {}, risk_after=risk)
    if base.from_prior:
        if base.T * unit.days < rule.min_age_days:
            tenure = phrase(Wording.SHORT_TENURE, age=age, unit=unit.value, min_age_days=rule.min_age_days)
        else:
            tenure = phrase(Wording.TENURE, age=age, unit=unit.value)
        if base.x >= rule.min_repeat_days:
            return ExplanationLine.worded(
                LineKind.PRIOR, Wording.THIN_HISTORY, {"tenure": tenure}, risk_after=risk
            )
        repeat = (
            phrase(Wording.NO_REPEAT_YET)
            if base.x == 0
            else phrase(Wording.FEW_REPEATS, repeat_days=int(base.x), min_repeat_days=rule.min_repeat_days)
        )
        return ExplanationLine.worded(
            LineKind.PRIOR, Wording.THIN_HISTORY_NO_REPEAT, {"repeat": repeat, "tenure": tenure},
            risk_after=risk,
        )
    values = {"repeat_days": int(base.x), "last_after": round(float(base.t_x), 1), "age": age, "unit": unit.value}
    return ExplanationLine.worded(LineKind.MODEL, Wording.MODEL, values, risk_after=risk)


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
