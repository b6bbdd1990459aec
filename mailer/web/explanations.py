"""Churn explanations in the page's language: the customer page's lines and the retention list's top reasons.

A stored line keeps its English text and its phrase (see ``mailer.churn.wording``): a template,
named by its wording key or stored itself, and raw values. Here the template is looked up in the
catalog and the values are put into words the page's way, with the same figures as the English:
risks as the explanations print them ("under 1%"), counts and durations through ngettext, return
reasons by the catalog's name for them. A line stored without a phrase, or one this code cannot
say, shows its English text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, cast

from flask_babel import gettext, ngettext

from mailer.churn.retention import RetentionRow
from mailer.churn.wording import (
    VALUE_KINDS,
    Phrase,
    ValueKind,
    format_factor,
    format_number,
    format_risk,
    interval_in_unit,
    line_values,
    span_in_unit,
    template_of,
)
from mailer.web.i18n import reason_label, say
from returns.catalog import REASONS

# Stored data outlives the code that wrote it: what a stored phrase may hold that this code cannot say.
_UNSAYABLE: Final = (KeyError, TypeError, ValueError)


def explanation_line(line: Mapping[str, Any]) -> str:
    """Return a stored churn explanation line in the page's language (its English text without a phrase)."""
    text = str(line.get("text", ""))
    if not isinstance(line.get("values"), Mapping):
        return text
    try:
        # A stored line carries its phrase's keys (wording or template, and values) at its top level.
        return _say(template_of(cast(Phrase, line)), line_values(line))
    except _UNSAYABLE:
        return text


def top_reason(row: RetentionRow) -> str:
    """Return a retention row's top reason in the page's language."""
    try:
        return say_words(row.top_reason_words)
    except _UNSAYABLE:
        return row.top_reason


def say_words(words: Phrase | str) -> str:
    """Return a stored phrase in the page's language; plain words as they are."""
    if isinstance(words, str):
        return words
    values = words["values"]
    # Without values a template is words as they are, as in English.
    return _say(template_of(words), values) if values else gettext(template_of(words))


def _say(template: str, values: Mapping[str, Any]) -> str:
    # flask_babel ships no types; its gettext and ngettext return str.
    return cast(str, gettext(template)) % {name: _value(name, value, values) for name, value in values.items()}


def _value(name: str, value: Any, values: Mapping[str, Any]) -> str:
    if isinstance(value, Mapping):
        # A nested phrase, as read back from JSON.
        return say_words(cast(Phrase, value))
    kind = VALUE_KINDS.get(name)
    if kind is None:
        return "" if value is None else str(value)
    return _IN_WORDS[kind](value, values)


def _whole(n: int | float) -> int:
    # gettext picks a plural form by a whole number; a fraction counts as many, as in "1.5 weeks".
    return int(n) if float(n).is_integer() else 2


def _repeat_days(n: int) -> str:
    return cast(
        str,
        ngettext("%(count)s repeat purchase day", "%(count)s repeat purchase days", _whole(n), count=format_number(n)),
    )


def _days(n: float) -> str:
    return cast(str, ngettext("%(count)s day", "%(count)s days", _whole(n), count=format_number(n)))


def _weeks(n: float) -> str:
    return cast(str, ngettext("%(count)s week", "%(count)s weeks", _whole(n), count=format_number(n)))


def _orders(n: int) -> str:
    return cast(str, ngettext("%(count)s order", "%(count)s orders", _whole(n), count=format_number(n)))


def _in_unit(amount: int, unit: str) -> str:
    if unit == "month":
        return cast(str, ngettext("%(count)s month", "%(count)s months", amount, count=amount))
    if unit == "year":
        return cast(str, ngettext("%(count)s year", "%(count)s years", amount, count=amount))
    return {"week": _weeks, "day": _days}[unit](amount)


def _span(days: float) -> str:
    # In the unit the English picks, so both say the same figure.
    amount, unit = span_in_unit(days)
    return _in_unit(amount, unit)


def _interval(days: Any) -> str:
    low, high, unit = interval_in_unit(float(days[0]), float(days[1]))
    if high is None:
        return cast(str, gettext("%(span)s or longer", span=_in_unit(low, unit)))
    if high == low:
        return cast(str, gettext("%(span)s or so", span=_in_unit(low, unit)))
    return f"{low}–{_in_unit(high, unit)}"


def _duration(amount: float, values: Mapping[str, Any]) -> str:
    # As the English prints it: to one decimal, in the unit stored beside it.
    amount = round(amount, 1)
    return {"week": _weeks, "day": _days}[values["unit"]](amount)


def _reason(english: str, values: Mapping[str, Any]) -> str:
    reason = REASONS.get(values.get("code", ""))
    return english if reason is None else reason_label(reason)


_IN_WORDS: Final[dict[ValueKind, Callable[[Any, Mapping[str, Any]], str]]] = {
    ValueKind.PERCENT: lambda risk, _: say(format_risk(risk)),
    ValueKind.REPEAT_DAYS: lambda n, _: _repeat_days(n),
    ValueKind.DURATION: _duration,
    ValueKind.DAYS: lambda n, _: _days(n),
    ValueKind.FACTOR: lambda w, _: format_factor(w),
    ValueKind.NUMBER: lambda n, _: format_number(n),
    ValueKind.REASON: _reason,
    ValueKind.ORDERS: lambda n, _: _orders(n),
    ValueKind.SPAN: lambda days, _: _span(days),
    ValueKind.INTERVAL: lambda days, _: _interval(days),
}
