"""The return-reason catalog, loaded once from ``reasons.csv`` (data, not code)."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from mailer.messages import Message

CATALOG_PATH = Path(__file__).with_name("reasons.csv")


class AddressEffect(StrEnum):
    """What a return does to the address it came back from."""

    UNDELIVERABLE = "undeliverable"  # hard return
    SUSPECT = "suspect"  # soft return; a second one within the window escalates
    SUPERSEDED = "superseded"  # moved with a new address: the new one becomes current
    NONE = "none"


class CustomerEffect(StrEnum):
    """What a return does to the customer."""

    DO_NOT_MAIL = "do_not_mail"
    DECEASED = "deceased"
    NONE = "none"


class BatchEffect(StrEnum):
    """What a return says about the batch that printed the piece."""

    FLAG_PRINT = "flag_print"  # our printing problem, not the address's
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason a piece of mail comes back, with its effects."""

    code: str
    # The one key that picks this reason on the mailroom scanning page and its reason card.
    key: str
    label_en: str
    label_zh: str
    usps_codes: tuple[str, ...]
    address_effect: AddressEffect
    customer_effect: CustomerEffect
    batch_effect: BatchEffect
    # Likelihood ratio of churn given this return; math.inf means the customer is gone for good.
    churn_weight: float
    explanation_en: str
    # The reason a return of this kind becomes when no new address comes with it (MOVED → MLNA).
    without_new_address: str | None = None
    # Other wordings of the Chinese label in use on post-office slips.
    other_labels_zh: tuple[str, ...] = ()

    @property
    def is_terminal(self) -> bool:
        """Tell whether this reason ends the customer relationship outright."""
        return math.isinf(self.churn_weight)

    @property
    def is_soft(self) -> bool:
        """Tell whether this is a soft return: the address becomes suspect, not undeliverable."""
        return self.address_effect is AddressEffect.SUSPECT

    @property
    def moves_customer(self) -> bool:
        """Tell whether this return brings the customer's new address."""
        return self.address_effect is AddressEffect.SUPERSEDED

    @property
    def moves_churn(self) -> bool:
        """Tell whether this return is evidence that moves the churn risk at all."""
        return self.churn_weight != 1

    @property
    def evidence_label(self) -> Message:
        """Return the words naming this return in a churn explanation ("Returned mail: Refused").

        The code goes with the English name, so a page can name the reason in its own language.
        """
        return Message("Returned mail: %(reason)s", reason=self.label_en, code=self.code)


def _parse_weight(value: str) -> float:
    return math.inf if value == "terminal" else float(value)


def _check_keys(path: Path, reasons: Mapping[str, Reason]) -> None:
    """Refuse shortcut keys a clerk could not press or would confuse with a code or another reason.

    A key is one digit or letter, no two reasons share one (in either case), and no reason code
    begins with a letter key: a code typed by hand is then never taken for a shortcut. A key
    that is also a USPS letter must stand for the same reason the USPS letter does.
    """
    seen: dict[str, str] = {}
    initials = {reason.code[0].upper() for reason in reasons.values()}
    for reason in reasons.values():
        key = reason.key.upper()
        if len(key) != 1 or not (key.isdigit() or "A" <= key <= "Z"):
            raise ValueError(f"{path}: {reason.code} needs a key of one digit or letter, not {reason.key!r}")
        if key in seen:
            raise ValueError(f"{path}: {reason.code} and {seen[key]} share the key {key}")
        seen[key] = reason.code
        if key in initials:
            raise ValueError(f"{path}: the key {key} of {reason.code} begins a reason code")
        for other in reasons.values():
            if key in other.usps_codes and other.code != reason.code:
                raise ValueError(f"{path}: the key {key} of {reason.code} is the USPS letter of {other.code}")


def load_reasons(path: Path = CATALOG_PATH) -> dict[str, Reason]:
    """Read the reason catalog from a CSV file, keyed by our reason code."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    reasons: dict[str, Reason] = {}
    for row in rows:
        reason = Reason(
            code=row["code"],
            key=row["key"].strip().upper(),
            label_en=row["label_en"],
            label_zh=row["label_zh"],
            usps_codes=tuple(row["usps_codes"].split()),
            address_effect=AddressEffect(row["address_effect"]),
            customer_effect=CustomerEffect(row["customer_effect"]),
            batch_effect=BatchEffect(row["batch_effect"]),
            churn_weight=_parse_weight(row["churn_weight"]),
            explanation_en=row["explanation_en"],
            without_new_address=row.get("without_new_address") or None,
            other_labels_zh=tuple(row.get("other_labels_zh", "").split()),
        )
        if reason.code in reasons:
            raise ValueError(f"{path}: reason code {reason.code} appears twice")
        reasons[reason.code] = reason
    for reason in reasons.values():
        if reason.without_new_address is not None and reason.without_new_address not in reasons:
            raise ValueError(f"{path}: {reason.code} falls back to unknown reason {reason.without_new_address}")
    _check_keys(path, reasons)
    return reasons


REASONS: Mapping[str, Reason] = MappingProxyType(load_reasons())

# Every way a clerk or a postal file may name a reason: our code, a USPS ACS code, the Chinese label.
_ALIASES: dict[str, str] = {}
for _reason in REASONS.values():
    for _alias in (_reason.code, *_reason.usps_codes, _reason.label_zh, *_reason.other_labels_zh):
        _ALIASES[_alias.casefold()] = _reason.code


def resolve_reason(value: str) -> Reason | None:
    """Find the reason named by our code, a USPS ACS code or a Chinese label."""
    code = _ALIASES.get(value.strip().casefold())
    return REASONS[code] if code else None


def reason_codes_text() -> str:
    """Return the reason codes and their labels as one line, for messages that list the choices."""
    return ", ".join(f"{reason.code} ({reason.label_zh})" for reason in REASONS.values())
