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
MODEL_TEMPLATE: Final = Message(
    "Purchase history: %(repeat_days)s, the last one %(last_after)s after the first; a customer for %(age)s. "
    "The BG/NBD model puts the churn risk at %(risk_after)s."
)
RESULT_TEMPLATE: Final = Message("Churn risk: %(risk_after)s.")
WORDINGS: Final[Mapping[Wording, str]] = MappingProxyType(
    {
        Wording.MODEL: MODEL_TEMPLATE,
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
        Wording.RESULT: RESULT_TEMPLATE,
        Wording.SELF_UPDATE: Message("Customer updated their own address"),
    }
)
_WORDING_OF: Final = {template: wording for wording, template in WORDINGS.items()}
# Risks too near 0 or 1 to print as a whole percent: words, which a page translates.
_UNDER_ONE_PERCENT: Final = Message("under 1%")
_OVER_99_PERCENT: Final = Message("over 99%")



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


_ENGLISH_BY_KIND: Final[dict[ValueKind, Callable[[Any], str]]] = {
    ValueKind.PERCENT: _percent,
    ValueKind.REPEAT_DAYS: format_repeat_days,
    ValueKind.DAYS: _days,
    ValueKind.FACTOR: _factor,
    ValueKind.NUMBER: format_number,
}
# By the value's name, one lookup each; durations need the phrase's unit beside them.
_ENGLISH: Final = {name: _ENGLISH_BY_KIND[kind] for name, kind in VALUE_KINDS.items() if kind in _ENGLISH_BY_KIND}
_DURATIONS: Final = frozenset(name for name, kind in VALUE_KINDS.items() if kind is ValueKind.DURATION)
