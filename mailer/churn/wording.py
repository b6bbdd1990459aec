"""The words of churn explanations: stored phrases, their templates, and figures put into English.

Each line of a story is stored in English (``text``) and as the facts that say it again in another
language (a ``Phrase``): its template, a catalog msgid named by its ``wording`` key (``WORDINGS``) or
stored as ``template``, and the ``values`` that fill it besides the line's own risk_after,
observed_on and label. Values are raw figures, put into words by their name (``VALUE_KINDS``): a
risk as a percent, a count of days with its noun, a duration in the phrase's ``unit``; or nested
phrases, such as an evidence label with its return reason's code. ``in_english`` says them for the
stored text, ``mailer.web.explanations`` in the page's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, TypedDict, cast

from mailer.messages import Message


class ValueKind(StrEnum):
    """What a stored value of an explanation holds, and so how it is put into words."""

    PERCENT = "percent"  # a churn risk between 0 and 1
    REPEAT_DAYS = "repeat_days"  # a count of repeat purchase days
    DURATION = "duration"  # an amount of the phrase's "unit" (a TimeUnit value), to one decimal
    DAYS = "days"  # a whole number of days
    FACTOR = "factor"  # a likelihood ratio
    NUMBER = "number"  # a setting, printed as it is
    REASON = "reason"  # a return reason's English name; its catalog code is the value "code" beside it
    ORDERS = "orders"  # a count of orders (days with an order)
    SPAN = "span"  # a whole number of days, said in days, weeks, months or years
    INTERVAL = "interval"  # [shortest, longest] days between orders, said as a range in one unit


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
        "orders": ValueKind.ORDERS,
        "span_days": ValueKind.SPAN,
        "since_days": ValueKind.SPAN,
        "interval_days": ValueKind.INTERVAL,
        "horizon_days": ValueKind.NUMBER,
    }
)


class Wording(StrEnum):
    """The explanations' own sentences and phrases, by the key a stored phrase names them with."""

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
    HISTORY = "history"
    HISTORY_TODAY = "history_today"
    ONE_ORDER = "one_order"
    ONE_ORDER_TODAY = "one_order_today"
    NO_ORDERS_PRIOR = "no_orders_prior"
    NO_MODEL = "no_model"
    RESULT_HORIZON = "result_horizon"


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
    return stored_phrase(
        template, {name: _phrase_of(value) if isinstance(value, Message) else value for name, value in values.items()}
    )


def _phrase_of(message: Message) -> Phrase:
    return phrase(_WORDING_OF.get(message.template, message.template), **message.values)


def stored_phrase(template: Wording | str, values: dict[str, Any]) -> Phrase:
    """Return a phrase of values already as stored, naming a Wording by its key."""
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
    return _fill(template_of(words), say_values(words["values"], keep=False)[0])


def _fill(template: str, words: Mapping[str, str]) -> str:
    # Without values a template is words as they are, as with a Message and gettext.
    return template % words if words else template


def say_values(
    values: Mapping[str, Any], words: dict[str, str] | None = None, *, keep: bool = True
) -> tuple[dict[str, str], dict[str, Any]]:
    """Return each value in English words (added to ``words``) and, to ``keep`` them, as stored."""
    # One pass for both, as every explanation of a refresh goes through it.
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
            words[name] = format_duration(value, values["unit"])
        else:
            # A nested phrase comes back from JSON as a plain dict.
            words[name] = in_english(cast(Phrase, value)) if type(value) is dict else str(value)
    return words, stored



# The explanations' own templates; Message marks each for the catalog. A line stores its wording's
# key with its values, so a page can look the template up and fill in the same figures.
RESULT_TEMPLATE: Final = Message("Churn risk: %(risk_after)s.")
# The purchase history in a marketer's words; the figure itself is the page's, not repeated here.
HISTORY_TEMPLATE: Final = Message(
    "%(orders)s in %(span_days)s, none in the last %(since_days)s; customers like this usually order every "
    "%(interval_days)s."
)
RESULT_HORIZON_TEMPLATE: Final = Message("Churn risk (no order within %(horizon_days)s days): %(risk_after)s.")
WORDINGS: Final[Mapping[Wording, str]] = MappingProxyType(
    {
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
        Wording.RESULT: RESULT_TEMPLATE,
        Wording.SELF_UPDATE: Message("Customer updated their own address"),
        Wording.HISTORY: HISTORY_TEMPLATE,
        Wording.HISTORY_TODAY: Message(
            "%(orders)s in %(span_days)s, the last one today; customers like this usually order every "
            "%(interval_days)s."
        ),
        Wording.ONE_ORDER: Message(
            "One order, %(since_days)s ago; customers like this usually order every %(interval_days)s."
        ),
        Wording.ONE_ORDER_TODAY: Message(
            "One order, today; customers like this usually order every %(interval_days)s."
        ),
        Wording.NO_ORDERS_PRIOR: Message("No orders on record: the stated prior for customers without orders."),
        Wording.NO_MODEL: Message(
            "Too few customers have ordered twice to fit the purchase model: the stated prior for everyone."
        ),
        Wording.RESULT_HORIZON: RESULT_HORIZON_TEMPLATE,
    }
)
_WORDING_OF: Final = {template: wording for wording, template in WORDINGS.items()}
# Risks too near 0 or 1 to print as a whole percent: words, which a page translates.
_UNDER_ONE_PERCENT: Final = Message("under 1%")
_OVER_99_PERCENT: Final = Message("over 99%")
_OR_LONGER: Final = Message("%(span)s or longer")
_ABOUT: Final = Message("%(span)s or so")



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


def format_duration(amount: float, unit: str) -> str:
    """Return an amount of a unit (a TimeUnit or its stored value) as the explanations print it."""
    return _count(round(amount, 1), unit)


def format_repeat_days(n: int) -> str:
    """Return a count of repeat purchase days as the explanations print it."""
    return _count(n, "repeat purchase day")


def _days(n: int) -> str:
    return _count(n, "day")


# Units a span of days is said in, by the fewest days it takes to say it in that unit.
SPAN_UNITS: Final = (("day", 1.0, 0.0), ("week", 7.0, 14.0), ("month", 30.4375, 70.0), ("year", 365.25, 730.0))
# Beyond this many years the long end of an interval is said as "or longer".
LONGEST_YEARS: Final = 20


def span_in_unit(days: float) -> tuple[int, str]:
    """Return a span of days as a whole number of days, weeks, months or years, and that unit."""
    name, length = next((name, length) for name, length, least in reversed(SPAN_UNITS) if days >= least)
    return round(days / length), name


def interval_in_unit(low_days: float, high_days: float) -> tuple[int, int | None, str]:
    """Return an interval between orders as (shortest, longest or None for "or longer", unit).

    Both ends are said in the unit the longest calls for, the shortest at least 1.
    """
    longest = min(high_days, LONGEST_YEARS * 365.25)
    name, length = next((name, length) for name, length, least in reversed(SPAN_UNITS) if longest >= least)
    low = max(1, round(low_days / length))
    if high_days > LONGEST_YEARS * 365.25:
        return low, None, name
    return low, max(low, round(high_days / length)), name


def _span(days: float) -> str:
    amount, unit = span_in_unit(days)
    return _count(amount, unit)


def _interval(days: Any) -> str:
    low, high, unit = interval_in_unit(float(days[0]), float(days[1]))
    if high is None:
        return _OR_LONGER % {"span": _count(low, unit)}
    if high == low:
        return _ABOUT % {"span": _count(low, unit)}
    return f"{low}–{_count(high, unit)}"


def _orders(n: int) -> str:
    return _count(n, "order")


_ENGLISH_BY_KIND: Final[dict[ValueKind, Callable[[Any], str]]] = {
    ValueKind.SPAN: _span,
    ValueKind.INTERVAL: _interval,
    ValueKind.ORDERS: _orders,
    ValueKind.PERCENT: _percent,
    ValueKind.REPEAT_DAYS: format_repeat_days,
    ValueKind.DAYS: _days,
    ValueKind.FACTOR: _factor,
    ValueKind.NUMBER: format_number,
}
# By the value's name, one lookup each; durations need the phrase's unit beside them.
_ENGLISH: Final = {name: _ENGLISH_BY_KIND[kind] for name, kind in VALUE_KINDS.items() if kind in _ENGLISH_BY_KIND}
_DURATIONS: Final = frozenset(name for name, kind in VALUE_KINDS.items() if kind is ValueKind.DURATION)
