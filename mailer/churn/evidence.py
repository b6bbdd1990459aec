"""Churn risk: the model's base figure moved by dated evidence, with an explanation marketing can read.

Everything is in log-odds of churn. A piece of evidence with likelihood ratio w, observed d days ago,
adds log(w) · 0.5^(d / half-life): fresh evidence multiplies the odds of churn by w, and one half-life
later by √w. A terminal piece (a deceased return, w = ∞) makes the risk exactly 1. Evidence dated after
the as-of day does not count yet.

``combine`` scores whole arrays for the nightly refresh; ``explain`` tells one customer's story and
always lands on the same number. ``BaseOnlyExplanations`` writes the story of the many customers
without evidence from shared templates, exactly as ``explain`` would, at a fraction of the cost.

Each line of a story is stored in English (``text``) and as the facts that say it again in another
language (a ``Phrase``): its template, a catalog msgid named by its ``wording`` key (``WORDINGS``) or
stored as ``template``, and the ``values`` that fill it besides the line's own risk_after,
observed_on and label. Values are raw figures, put into words by their name (``VALUE_KINDS``): a
risk as a percent, a count of days with its noun, a duration in the phrase's ``unit``; or nested
phrases, such as an evidence label with its return reason's code. ``in_english`` says them for the
stored text, ``mailer.web.explanations`` in the page's language.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from mailer.churn.bgnbd import BgNbdParams, TimeUnit, churn_log_odds
from mailer.messages import Message

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

    # A Message keeps the label translatable in the stored explanation; plain words are kept as they are.
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
    return Evidence(label=_SELF_UPDATE_LABEL, weight=weight, observed_on=observed_on)


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


class ValueKind(StrEnum):
    """What a stored value of an explanation holds, and so how it is put into words."""

    PERCENT = "percent"  # a churn risk between 0 and 1
    REPEAT_DAYS = "repeat_days"  # a count of repeat purchase days
    DURATION = "duration"  # an amount of the phrase's "unit" (a TimeUnit value), to one decimal
    DAYS = "days"  # a whole number of days
    FACTOR = "factor"  # a likelihood ratio
    NUMBER = "number"  # a setting, printed as it is
    REASON = "reason"  # a return reason's English name; its catalog code is the value "code" beside it


# The names of the stored values that hold raw figures, and what each holds. Any other value (a date,
# the unit, a reason code, a Message's words) is words as they are; a mapping is a nested phrase.
VALUE_KINDS: Final[Mapping[str, ValueKind]] = MappingProxyType(
    {
        "risk_after": ValueKind.PERCENT,
        "risk_before": ValueKind.PERCENT,
        "repeat_days": ValueKind.REPEAT_DAYS,
        "last_after": ValueKind.DURATION,
        "age": ValueKind.DURATION,
        "since": ValueKind.DURATION,
        "days": ValueKind.DAYS,
        "weight": ValueKind.FACTOR,
        "faded": ValueKind.FACTOR,
        "min_repeat_days": ValueKind.NUMBER,
        "min_age_days": ValueKind.NUMBER,
        "half_life_days": ValueKind.NUMBER,
        "reason": ValueKind.REASON,
    }
)


class Wording(StrEnum):
    """The explanations' own sentences and phrases, by the key a stored phrase names them with."""

    MODEL = "model"
    NO_ORDERS = "no_orders"
    THIN_HISTORY = "thin_history"
    THIN_HISTORY_NO_REPEAT = "thin_history_no_repeat"
    NO_REPEAT_YET = "no_repeat_yet"
    FEW_REPEATS = "few_repeats"
    SHORT_TENURE = "short_tenure"
    TENURE = "tenure"
    ENDED_BEFORE = "ended_before"
    NOT_YET = "not_yet"
    ENDS = "ends"
    NO_EFFECT = "no_effect"
    RAISES = "raises"
    LOWERS = "lowers"
    RAISES_FADED = "raises_faded"
    LOWERS_FADED = "lowers_faded"
    RESULT = "result"
    SELF_UPDATE = "self_update"


class Phrase(TypedDict, total=False):
    """Words stored to be said in any language: a template and the values that fill it.

    The template is named by its ``wording`` key when it is one of ``WORDINGS`` (a million lines
    store a key, not the sentence), otherwise stored as the ``template`` itself.
    """

    wording: str
    template: str
    values: dict[str, Any]


def phrase(template: Wording | str, /, **values: Any) -> Phrase:
    """Return a phrase of raw figures and words; a Message among them becomes a nested phrase."""
    return _phrase(
        template, {name: _phrase_of(value) if isinstance(value, Message) else value for name, value in values.items()}
    )


def _phrase_of(message: Message) -> Phrase:
    return phrase(_WORDING_OF.get(message.template, message.template), **message.values)


def _phrase(template: Wording | str, values: dict[str, Any]) -> Phrase:
    # A Wording is stored as it is: a str, its key.
    if isinstance(template, Wording):
        return {"wording": template, "values": values}
    return {"template": template, "values": values}


def line_values(line: Mapping[str, Any]) -> dict[str, Any]:
    """Return what fills a stored line's template: its values, and its own risk_after, observed_on and label."""
    return {
        "risk_after": line.get("risk_after"), "observed_on": line.get("observed_on"), "label": line.get("label"),
        **(line.get("values") or {}),
    }


def template_of(words: Phrase) -> str:
    """Return a stored phrase's template (a catalog msgid); KeyError or ValueError for one not known."""
    wording = words.get("wording")
    return words["template"] if wording is None else WORDINGS[Wording(wording)]


def in_english(words: Phrase | str) -> str:
    """Return a stored phrase in English, as the explanations print it; plain words as they are."""
    if isinstance(words, str):
        return words
    return _fill(template_of(words), _said(words["values"], keep=False)[0])


def _fill(template: str, words: Mapping[str, str]) -> str:
    # Without values a template is words as they are, as with a Message and gettext.
    return template % words if words else template


def _said(
    values: Mapping[str, Any], words: dict[str, str] | None = None, *, keep: bool = True
) -> tuple[dict[str, str], dict[str, Any]]:
    # Each value in English words (added to ``words``) and, to ``keep`` them, as stored: one pass,
    # as every explanation of a refresh goes through it.
    words = {} if words is None else words
    stored: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, str):
            words[name] = value
            if keep:
                stored[name] = _phrase_of(value) if isinstance(value, Message) else value
            continue
        if keep:
            stored[name] = value
        to_words = _ENGLISH.get(name)
        if to_words is not None:
            words[name] = to_words(value)
        elif name in _DURATIONS:
            words[name] = _duration(value, values["unit"])
        else:
            words[name] = in_english(value) if type(value) is dict else str(value)
    return words, stored


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
            "risk_after": _percent(risk_after),
            "observed_on": "" if observed_on is None else observed_on.isoformat(),
            "label": label or "",
        }
        words, stored = _said(values, own)
        return cls(
            kind=kind,
            text=(WORDINGS[template] if isinstance(template, Wording) else template) % words,
            risk_after=risk_after,
            observed_on=observed_on,
            odds_factor=odds_factor,
            label=label,
            words=_phrase(template, stored),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the line as a JSON-ready dict: its figures, then its phrase (wording or template, and values)."""
        line = {
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
    _check_half_life(half_life_days)
    lines = [_base_line(base)]
    log_odds = base.log_odds
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
                    risk_after=_risk(log_odds),
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
        before = _risk(log_odds)
        log_odds += shift
        after = _risk(log_odds)
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
    risk = 1.0 if ended_by is not None else _risk(log_odds)
    lines.append(ExplanationLine.worded(LineKind.RESULT, Wording.RESULT, {}, risk_after=risk))
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
                count = repeat_days[xi] = (_count(xi, "repeat purchase day"), json.dumps(xi))
            # Keyed by the exact value: t_x and T are whole days in the unit, so few distinct values.
            last = durations.get(txi)
            if last is None:
                last = durations[txi] = (_duration(txi, unit), json.dumps(round(txi, 1)))
            age = durations.get(Ti)
            if age is None:
                age = durations[Ti] = (_duration(Ti, unit), json.dumps(round(Ti, 1)))
            risk = _risk(lo)
            percent, risk_json = _percent(risk), repr(risk)
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
    mark = {name: f"@@{name}@@" for name in _MODEL_SLOTS}
    base = ExplanationLine(
        kind=LineKind.MODEL,
        text=_MODEL % {"repeat_days": mark["count"], "last_after": mark["last"], "age": mark["age"],
                       "risk_after": mark["percent"]},
        risk_after=mark["risk"],  # type: ignore[arg-type]
        words={"wording": Wording.MODEL.value, "values": {"repeat_days": mark["x"], "last_after": mark["last_value"],
                                                          "age": mark["age_value"], "unit": unit.value}},
    ).to_json()
    result = ExplanationLine(
        kind=LineKind.RESULT,
        text=_RESULT % {"risk_after": mark["percent"]},
        risk_after=mark["risk"],  # type: ignore[arg-type]
        words={"wording": Wording.RESULT.value, "values": {}},
    ).to_json()
    text = json.dumps([base, result]).replace("%", "%%")
    for slot in mark.values():
        text = text.replace(json.dumps(slot), slot)  # figures go in unquoted
    if tuple(_SLOT.findall(text)) != _MODEL_SLOTS:
        raise RuntimeError("the shared explanation's slots are out of the order render() fills them in")
    return _SLOT.sub("%s", text)


# The explanations' own templates; Message marks each for the catalog. A line stores its wording's
# key with its values, so a page can look the template up and fill in the same figures.
_MODEL: Final = Message(
    "Purchase history: %(repeat_days)s, the last one %(last_after)s after the first; a customer for %(age)s. "
    "The BG/NBD model puts the churn risk at %(risk_after)s."
)
_RESULT: Final = Message("Churn risk: %(risk_after)s.")
WORDINGS: Final[Mapping[Wording, str]] = MappingProxyType(
    {
        Wording.MODEL: _MODEL,
        Wording.NO_ORDERS: Message("No orders on record: starting from the stated prior churn risk of %(risk_after)s."),
        Wording.THIN_HISTORY: Message(
            "Too little purchase history for the model (%(tenure)s): "
            "starting from the stated prior churn risk of %(risk_after)s."
        ),
        Wording.THIN_HISTORY_NO_REPEAT: Message(
            "Too little purchase history for the model (%(repeat)s; %(tenure)s): "
            "starting from the stated prior churn risk of %(risk_after)s."
        ),
        Wording.NO_REPEAT_YET: Message("no repeat purchase yet"),
        Wording.FEW_REPEATS: Message("only %(repeat_days)s, under %(min_repeat_days)s"),
        Wording.SHORT_TENURE: Message("a customer for only %(age)s, under %(min_age_days)s days"),
        Wording.TENURE: Message("a customer for %(age)s"),
        Wording.ENDED_BEFORE: Message(
            "%(observed_on)s: %(label)s — not counted: the relationship already ended with “%(ended_by)s”."
        ),
        Wording.NOT_YET: Message("%(observed_on)s: %(label)s — dated after %(as_of)s, not counted yet."),
        Wording.ENDS: Message("%(observed_on)s: %(label)s — ends the relationship: churn risk 100%%."),
        Wording.NO_EFFECT: Message("%(observed_on)s: %(label)s — no effect on churn risk (weight ×1)."),
        Wording.RAISES: Message(
            "%(observed_on)s: %(label)s — raises churn risk from %(risk_before)s to %(risk_after)s "
            "(weight ×%(weight)s)."
        ),
        Wording.LOWERS: Message(
            "%(observed_on)s: %(label)s — lowers churn risk from %(risk_before)s to %(risk_after)s "
            "(weight ×%(weight)s)."
        ),
        Wording.RAISES_FADED: Message(
            "%(observed_on)s: %(label)s — raises churn risk from %(risk_before)s to %(risk_after)s (weight "
            "×%(weight)s, faded to ×%(faded)s after %(days)s; half-life %(half_life_days)s days)."
        ),
        Wording.LOWERS_FADED: Message(
            "%(observed_on)s: %(label)s — lowers churn risk from %(risk_before)s to %(risk_after)s (weight "
            "×%(weight)s, faded to ×%(faded)s after %(days)s; half-life %(half_life_days)s days)."
        ),
        Wording.RESULT: _RESULT,
        Wording.SELF_UPDATE: Message("Customer updated their own address"),
    }
)
_WORDING_OF: Final = {template: wording for wording, template in WORDINGS.items()}
_SELF_UPDATE_LABEL: Final = WORDINGS[Wording.SELF_UPDATE]
# Risks too near 0 or 1 to print as a whole percent: words, which a page translates.
_UNDER_ONE_PERCENT: Final = Message("under 1%")
_OVER_99_PERCENT: Final = Message("over 99%")


def _risk(log_odds: float) -> float:
    # The logistic function on one number, without overflow at either end.
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1.0 + odds)


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


def format_risk(p: float) -> str:
    """Return a risk as the explanations print it: whole percent, "under 1%" and "over 99%" near the ends."""
    return _percent(p)


def format_factor(w: float) -> str:
    """Return a likelihood ratio as the explanations print it: two significant digits, whole from 10."""
    return _factor(w)


def format_number(n: int | float) -> str:
    """Return a count or a setting as the explanations print it."""
    return f"{n:g}" if isinstance(n, float) else str(n)


def _percent(p: float) -> str:
    if 0 < p < 0.01:
        return _UNDER_ONE_PERCENT
    if 0.99 < p < 1:
        return _OVER_99_PERCENT
    return f"{p:.0%}"


def _factor(w: float) -> str:
    return f"{w:.0f}" if w >= 10 else f"{w:.2g}"


def _count(n: int | float, noun: str) -> str:
    value = format_number(n)
    return f"{value} {noun}" if n == 1 else f"{value} {noun}s"


def _duration(amount: float, unit: str) -> str:
    # The unit as TimeUnit or its stored value.
    return _count(round(amount, 1), unit)


def _repeat_days(n: int) -> str:
    return _count(n, "repeat purchase day")


def _days(n: int) -> str:
    return _count(n, "day")


_ENGLISH_BY_KIND: Final[dict[ValueKind, Callable[[Any], str]]] = {
    ValueKind.PERCENT: _percent,
    ValueKind.REPEAT_DAYS: _repeat_days,
    ValueKind.DAYS: _days,
    ValueKind.FACTOR: _factor,
    ValueKind.NUMBER: format_number,
}
# By the value's name, one lookup each; durations need the phrase's unit beside them.
_ENGLISH: Final = {name: _ENGLISH_BY_KIND[kind] for name, kind in VALUE_KINDS.items() if kind in _ENGLISH_BY_KIND}
_DURATIONS: Final = frozenset(name for name, kind in VALUE_KINDS.items() if kind is ValueKind.DURATION)
