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
from numpy.typing import ArrayLike, NDArray
from scipy import special

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
    LONGEST_YEARS,
    RESULT_HORIZON_TEMPLATE,
    SPAN_UNITS,
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
        self._templates = {wording: _model_json_pieces(wording, horizon_days) for wording in _HISTORY_WORDINGS}
        # The words (JSON-escaped) of each figure, by the figure.
        self._words: dict[tuple[str, Any], str] = {}
        self._shared: dict[tuple[Any, ...], str] = {}
        # Each wording's explanation as a format: %s for its words, then for its figures.
        self._formats = [_history_format(*self._templates[wording]) for wording in _HISTORY_WORDINGS]
        # The JSON text of the words a figure is said in: orders by x, spans by days, intervals by
        # what they round to (_interval_keys).
        self._said: dict[str, dict[int, str]] = {"orders": {}, "span_days": {}, "interval_days": {}}
        # The percent's JSON text by whole percent, then "under 1%" and "over 99%" (_UNDER_ONE, _OVER_99).
        self._percents = [json.dumps(format_risk(p / 100))[1:-1] for p in range(101)] + [
            json.dumps(format_risk(0.005))[1:-1], json.dumps(format_risk(0.995))[1:-1],
        ]

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
        """Return each customer's explanation; the arrays hold base figures as ``base_log_odds`` scores them.

        The figures are computed for all customers at once with NumPy (the same rounding as
        ``explain``); a base line's words and values are built once per distinct history, and each
        customer only adds their own risk.
        """
        if len(self._words) > _MAX_CACHED:
            self._words.clear()
        lo = np.asarray(log_odds, dtype=np.float64)
        prior = np.asarray(from_prior, dtype=bool)
        orders = np.asarray(has_orders, dtype=bool)
        x_arr = np.asarray(x, dtype=np.int64)
        t_x_arr = np.asarray(t_x, dtype=np.float64)
        T_arr = np.asarray(T, dtype=np.float64)
        out: list[str] = [""] * lo.size
        on_prior = prior | ~orders
        for i in np.flatnonzero(on_prior).tolist():
            out[i] = self._shared_text(float(lo[i]), bool(orders[i]), int(x_arr[i]), float(t_x_arr[i]),
                                       float(T_arr[i]))
        modelled = np.flatnonzero(~on_prior)
        if not modelled.size:
            return out
        days = self.unit.days
        xm, t_xm = x_arr[modelled], t_x_arr[modelled]
        # np.rint rounds half to even, as round() does: the same whole days as _history_values.
        span = np.rint(t_xm * days).astype(np.int64)
        since = np.rint((T_arr[modelled] - t_xm) * days).astype(np.int64)
        wording = np.where(xm == 0, 2, 0) + (since == 0)
        risk = special.expit(lo[modelled])
        fast = [round(v, 1) for v in np.asarray(interval_days[0], dtype=np.float64)[modelled].tolist()]
        slow = [round(v, 1) for v in np.asarray(interval_days[1], dtype=np.float64)[modelled].tolist()]
        percents = self._percents
        percent_index = np.rint(risk * 100.0).astype(np.int64)
        percent_index[(risk > 0) & (risk < 0.01)] = _UNDER_ONE
        percent_index[(risk > 0.99) & (risk < 1)] = _OVER_99
        low_days, high_days = np.array(fast), np.array(slow)
        finite = np.isfinite(low_days) & np.isfinite(high_days)
        interval_key = _interval_keys(np.where(finite, low_days, 1.0), np.where(finite, high_days, 1.0))
        formats, said = self._formats, self._said
        orders_words, span_words, interval_words = said["orders"], said["span_days"], said["interval_days"]
        rows = zip(
            modelled.tolist(), wording.tolist(), xm.tolist(), span.tolist(), since.tolist(), fast, slow,
            risk.tolist(), percent_index.tolist(), interval_key.tolist(), finite.tolist(), strict=True,
        )
        for position, kind, xi, span_days, since_days, low, high, r, pct, in_unit, usual in rows:
            risk_text = repr(r)
            if not usual:
                # An endless or unknown interval: said the long way, as explain() says it.
                line = self._line(kind, xi, span_days, since_days, low, high)
                out[position] = line % (risk_text, percents[pct], risk_text)
                continue
            interval_word = interval_words.get(in_unit)
            if interval_word is None:
                interval_word = interval_words[in_unit] = self._word("interval_days", xi, 0, 0, low, high)
            figures = (risk_text, xi + 1, span_days, since_days, f"[{low!r}, {high!r}]", percents[pct], risk_text)
            if kind == _ONE_ORDER_TODAY:
                out[position] = formats[kind] % (interval_word, *figures)
                continue
            since_word = span_words.get(since_days)
            if since_word is None:
                since_word = span_words[since_days] = self._word("since_days", xi, 0, since_days, low, high)
            if kind == _ONE_ORDER:
                out[position] = formats[kind] % (since_word, interval_word, *figures)
                continue
            orders_word = orders_words.get(xi)
            if orders_word is None:
                orders_word = orders_words[xi] = self._word("orders", xi, 0, 0, low, high)
            span_word = span_words.get(span_days)
            if span_word is None:
                span_word = span_words[span_days] = self._word("span_days", xi, span_days, 0, low, high)
            if kind == _HISTORY_TODAY:
                out[position] = formats[kind] % (orders_word, span_word, interval_word, *figures)
            else:
                out[position] = formats[kind] % (orders_word, span_word, since_word, interval_word, *figures)
        return out

    def _word(self, slot: str, x: int, span_days: int, since_days: int, low: float, high: float) -> str:
        value: Any = {"orders": x + 1, "span_days": span_days, "since_days": since_days,
                      "interval_days": [low, high]}[slot]
        cache_key = (slot, value if slot != "interval_days" else (low, high))
        word = self._words.get(cache_key)
        if word is None:
            word = self._words[cache_key] = json.dumps(say_values({slot: value})[0][slot])[1:-1]
        return word

    def _shared_text(self, lo: float, orders: bool, x: int, t_x: float, T: float) -> str:
        # Customers on the stated prior share a handful of texts, each built by explain() itself.
        key = (lo, orders)
        text = self._shared.get(key)
        if text is None:
            base = BaseFigure(
                log_odds=lo, from_prior=True, x=x, t_x=t_x, T=T, unit=self.unit, rule=self.rule, has_orders=orders,
                horizon_days=self.horizon_days,
            )
            text = self._shared[key] = json.dumps(explain(base, [], as_of=_UNUSED_DAY).to_json())
        return text

    def _line(self, kind: int, x: int, span_days: int, since_days: int, low: float, high: float) -> str:
        """Return the JSON of one history's explanation with ``%s`` left for its risk, percent and risk."""
        pieces, slots = self._templates[_HISTORY_WORDINGS[kind]]
        fill = {
            "orders_value": str(x + 1),
            "span_value": str(span_days),
            "since_value": str(since_days),
            "interval_value": json.dumps([low, high]).replace("%", "%%"),
        }
        parts = [pieces[0]]
        for slot, literal in zip(slots, pieces[1:], strict=True):
            if slot in _OWN_SLOTS:
                parts.append("%s")
            elif slot in fill:
                parts.append(fill[slot])
            else:
                parts.append(self._word(slot, x, span_days, since_days, low, high).replace("%", "%%"))
            parts.append(literal)
        return "".join(parts)


def _interval_keys(low_days: NDArray[np.float64], high_days: NDArray[np.float64]) -> NDArray[np.int64]:
    """Return what an interval is said as, (shortest, longest or "or longer", unit), packed in one number.

    The same rounding as ``wording.interval_in_unit``, for many intervals at once: intervals with
    the same key are said in the same words.
    """
    longest_days = LONGEST_YEARS * 365.25
    longest = np.minimum(high_days, longest_days)
    unit = np.zeros(longest.shape, dtype=np.int64)
    for index, (_, _, least) in enumerate(SPAN_UNITS):
        unit[longest >= least] = index
    length = np.array([length for _, length, _ in SPAN_UNITS])[unit]
    low = np.maximum(1, np.rint(low_days / length).astype(np.int64))
    high = np.maximum(low, np.rint(high_days / length).astype(np.int64))
    high[high_days > longest_days] = -1  # said "or longer"
    keys: NDArray[np.int64] = (low * 1_000_000 + high + 1) * len(SPAN_UNITS) + unit
    return keys


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
# The slots each customer fills with their own figures; the others are shared by one history.
_OWN_SLOTS: Final = frozenset({"risk", "percent"})
# Every wording's explanation ends on these slots, after the base line's words.
_SHARED_TAIL: Final = ("risk", "orders_value", "span_value", "since_value", "interval_value", "percent", "risk")
_HISTORY_TODAY: Final = 1
_ONE_ORDER: Final = 2
_ONE_ORDER_TODAY: Final = 3
_UNDER_ONE: Final = 101
_OVER_99: Final = 102


def _history_format(pieces: tuple[str, ...], slots: tuple[str, ...]) -> str:
    # The literal pieces keep their doubled %: %s in every slot makes a format, the base line's
    # words first (in the order render() passes them), then the shared figures.
    words = slots[: len(slots) - len(_SHARED_TAIL)]
    if slots[len(words) :] != _SHARED_TAIL or words != tuple(s for s in _WORD_SLOTS if s in words):
        raise AssertionError(f"an explanation template's slots {slots} are not in the order render() fills")
    return "%s".join(pieces)


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


def _model_json_pieces(wording: Wording, horizon_days: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # The JSON of [base line, result line] as explain() writes it, cut where the figures go.
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
    # Split at the marks: literal pieces (with % doubled) around the slots, in order.
    pieces = _SLOT.split(text)
    return tuple(pieces[0::2]), tuple(pieces[1::2])


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
