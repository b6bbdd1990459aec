"""The return-reason catalog, loaded once from ``reasons.csv`` (data, not code)."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

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
    label_en: str
    label_zh: str
    usps_codes: tuple[str, ...]
    address_effect: AddressEffect
    customer_effect: CustomerEffect
    batch_effect: BatchEffect
    # Likelihood ratio of churn given this return; math.inf means the customer is gone for good.
    churn_weight: float
    explanation_en: str

    @property
    def is_terminal(self) -> bool:
        """Tell whether this reason ends the customer relationship outright."""
        return math.isinf(self.churn_weight)


def _parse_weight(value: str) -> float:
    return math.inf if value == "terminal" else float(value)


def load_reasons(path: Path = CATALOG_PATH) -> dict[str, Reason]:
    """Read the reason catalog from a CSV file, keyed by our reason code."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    reasons: dict[str, Reason] = {}
    for row in rows:
        reason = Reason(
            code=row["code"],
            label_en=row["label_en"],
            label_zh=row["label_zh"],
            usps_codes=tuple(row["usps_codes"].split()),
            address_effect=AddressEffect(row["address_effect"]),
            customer_effect=CustomerEffect(row["customer_effect"]),
            batch_effect=BatchEffect(row["batch_effect"]),
            churn_weight=_parse_weight(row["churn_weight"]),
            explanation_en=row["explanation_en"],
        )
        if reason.code in reasons:
            raise ValueError(f"{path}: reason code {reason.code} appears twice")
        reasons[reason.code] = reason
    return reasons


REASONS: Mapping[str, Reason] = MappingProxyType(load_reasons())

# Every way a clerk or a postal file may name a reason: our code, a USPS ACS code, the Chinese label.
_ALIASES: dict[str, str] = {}
for _reason in REASONS.values():
    for _alias in (_reason.code, *_reason.usps_codes, _reason.label_zh):
        _ALIASES[_alias.casefold()] = _reason.code


def resolve_reason(value: str) -> Reason | None:
    """Find the reason named by our code, a USPS ACS code or the Chinese label."""
    code = _ALIASES.get(value.strip().casefold())
    return REASONS[code] if code else None
