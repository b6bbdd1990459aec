"""Normalized forms of addresses, so that one place typed twice matches: its text, delivery point and household."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from mailer.addresses.chinese import parse_chinese
from mailer.addresses.countries import canonical_country, canonical_postal_code
from mailer.addresses.english import parse_english
from mailer.addresses.usps import us_state
from mailer.folding import HAN_CHARACTER, fold_text


@dataclass(frozen=True, slots=True)
class NormalizedAddress:
    """The stored, matchable form of one postal address."""

    text: str
    delivery_point: str
    components: dict[str, str] = field(hash=False, compare=False)
    household_key: str
    fingerprint: str


def _digest(value: str, *, size: int) -> str:
    return hashlib.blake2b(value.encode(), digest_size=size).hexdigest()


def normalize_address(
    *,
    line1: str,
    line2: str = "",
    city: str,
    region: str = "",
    postal_code: str,
    country: str,
) -> NormalizedAddress:
    """Return the normalized form, delivery point and household key of an address."""
    alpha2 = canonical_country(country) or fold_text(country).upper()
    postal = canonical_postal_code(country=alpha2, postal_code=postal_code)
    lines = f"{line1 or ''} {line2 or ''}"

    if alpha2 in ("CN", "TW", "HK", "MO") and HAN_CHARACTER.search(lines):
        components, point, locality = parse_chinese(lines=lines, city=city, region=region)
        # A municipality is its own province: write "北京市" once.
        admin = dict.fromkeys(components[key] for key in ("province", "city") if key in components)
        text = " ".join([*admin, point, postal, alpha2.lower()])
        # Chinese customers often write their city's general postcode (100000 rather than the
        # delivery office's 100080), so the city separates households more reliably.
        locality = locality or postal
    else:
        components, point = parse_english(lines)
        folded_city = fold_text(city)
        state = us_state(region) if alpha2 == "US" else fold_text(region)
        text = " ".join(part for part in (point, folded_city, state, postal, alpha2.lower()) if part)
        if alpha2 == "US":
            # ZIP+4 narrows to a block face that customers rarely know; five digits are enough.
            locality = postal[:5] or folded_city
        elif alpha2 == "CN":
            locality = folded_city or postal
        else:
            locality = postal or folded_city

    text = " ".join(text.split())
    return NormalizedAddress(
        text=text,
        delivery_point=point,
        components=components,
        household_key=_digest(f"{alpha2}|{locality}|{point}", size=8),
        fingerprint=_digest(text, size=16),
    )
