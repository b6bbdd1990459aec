"""The main reason behind a stored churn explanation, in a few words, for the retention list."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from mailer.churn.bgnbd import TimeUnit
from mailer.churn.odds import log_odds_of
from mailer.churn.wording import Phrase, in_english, phrase
from mailer.messages import Message


def top_reason(explanation: Sequence[Mapping[str, Any]] | None, *, recency_days: int | None) -> str:
    """Name what drives a stored churn explanation most, in a few English words.

    A terminal line ends the relationship and always leads. Otherwise the piece of evidence that
    raised the odds of churn most, unless the base figure says more on its own: its log-odds
    against even odds exceed the evidence's shift. Then the model's reading ("model: no purchase
    for 30 weeks", from ``recency_days``) or the stated prior.
    """
    return in_english(top_reason_words(explanation, recency_days=recency_days))


def top_reason_words(explanation: Sequence[Mapping[str, Any]] | None, *, recency_days: int | None) -> Phrase | str:
    """Return ``top_reason`` as a phrase to say in any language (plain words for explanations stored without one)."""
    lines = list(explanation or [])
    for line in lines:
        if line.get("kind") == "terminal":
            return _evidence_reason(line)
    raising = [line for line in lines if line.get("kind") == "evidence" and (line.get("odds_factor") or 0) > 1]
    top = max(raising, key=lambda line: line["odds_factor"], default=None)
    base = next((line for line in lines if line.get("kind") in ("model", "prior")), None)
    if top is not None and (base is None or math.log(top["odds_factor"]) >= log_odds_of(base.get("risk_after"))):
        return _evidence_reason(top)
    if base is None:
        return ""
    if base["kind"] == "prior":
        return phrase(_PRIOR_WITHOUT_ORDERS if recency_days is None else _PRIOR_THIN_HISTORY)
    if recency_days is None:
        return phrase(_MODEL_READING)
    return phrase(_MODEL_NO_PURCHASE, since=recency_days // 7, unit=TimeUnit.WEEK.value)


_PRIOR_WITHOUT_ORDERS: Final = Message("prior: no orders on record")
_PRIOR_THIN_HISTORY: Final = Message("prior: too few repeat buyers for the model")
_MODEL_READING: Final = Message("model")
_MODEL_NO_PURCHASE: Final = Message("model: no purchase for %(since)s")
_ON_DAY: Final = Message("%(label)s (%(observed_on)s)")


def _evidence_reason(line: Mapping[str, Any]) -> Phrase | str:
    # The label's phrase where the line has one; before lines carried a label, the words before the dash.
    label = (line.get("values") or {}).get("label") or line.get("label") or str(line.get("text", "")).split(" — ")[0]
    observed_on = line.get("observed_on")
    if observed_on and not in_english(label).startswith(observed_on):
        return phrase(_ON_DAY, label=label, observed_on=observed_on)
    return label
