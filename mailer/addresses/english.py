"""English-language address lines: house number, street and units, with USPS abbreviations."""

from __future__ import annotations

import re

from mailer.addresses.usps import NUMBERED_ROADS, STREET_WORD_OF, SUFFIXES, UNIT_DESIGNATOR_OF, UNIT_KIND
from mailer.folding import nfkc_fold

# Keep hyphens and slashes that sit after a digit: "123-45 Queens Blvd", "12 1/2", "Apt 4-B".
_EN_PUNCTUATION = re.compile(r"(?<!\d)[-/]|[-/](?!\w)|[^\w\s#/-]|_")
_HASH = re.compile(r"#")
_GLUED_UNIT = re.compile(
    r"\b(apartment|apt|unit|suite|ste|room|rm|floor|flr|fl|building|bldg|flat)(\d[\w-]*)\b"
)
_PO_BOX = re.compile(r"\b(?:p\s*o|post\s+office)\s*box\b|\bpob\b")
# Delivery at the post office rather than to a door: a box ("PO Box 12", "P.O. Box 12", "Box 12"; the
# military "Unit 2050 Box 4190"), a drawer, caller service, general delivery.
_BOX_DELIVERY = re.compile(
    r"\bbox\s*#?\s*\d|\bpob\b|\bp\.?\s*o\.?\s*box\b|\bpost\s+office\s+box\b|\bdrawer\b|\bcaller\b"
    r"|\bgeneral\s+delivery\b",
    re.IGNORECASE,
)
_HOUSE_NUMBER = re.compile(r"\d[\w/-]*")
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
_HAS_DIGIT = re.compile(r"\d")


def _english_tokens(text: str) -> list[str]:
    text = _HASH.sub(" # ", nfkc_fold(text))
    text = _EN_PUNCTUATION.sub(" ", text)
    text = _GLUED_UNIT.sub(r"\1 \2", text)
    text = _PO_BOX.sub(" pobox ", text)
    return text.split()


def parse_english(text: str) -> tuple[dict[str, str], str]:
    """Split a number-street-unit address line into components and a delivery point."""
    tokens = _english_tokens(text)
    units: list[tuple[str, str]] = []
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        designator = UNIT_DESIGNATOR_OF.get(token)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if designator is None:
            rest.append(STREET_WORD_OF.get(token, token))
            i += 1
        elif nxt is not None and nxt not in UNIT_DESIGNATOR_OF:
            units.append((designator, nxt))
            i += 2
        else:
            if designator == "fl" and rest and _ORDINAL.fullmatch(rest[-1]):
                # "3rd Floor": the identifier comes before the designator.
                units.append(("fl", _ORDINAL.sub(r"\1", rest.pop())))
            # Otherwise a designator without an identifier ("Unit #4") says nothing more.
            i += 1

    components: dict[str, str] = {}
    if "pobox" in rest:
        at = rest.index("pobox")
        box = rest[at + 1] if at + 1 < len(rest) else ""
        components["po_box"] = box
        point = f"po box {box}".strip()
        return components, point

    number = ""
    if rest and _HOUSE_NUMBER.fullmatch(rest[0]):
        number = rest.pop(0)
        # "12 1/2 Oak St": the fraction belongs to the house number.
        if rest and "/" in rest[0] and _HOUSE_NUMBER.fullmatch(rest[0]):
            number = f"{number} {rest.pop(0)}"
    if (
        not units
        and len(rest) >= 3
        and _HAS_DIGIT.search(rest[-1])
        and rest[-2] in SUFFIXES
        and rest[-2] not in NUMBERED_ROADS
    ):
        # "12 Oak St 4": a bare trailing identifier after the suffix is a unit.
        units.append(("#", rest.pop()))
    street = " ".join(rest)

    if number:
        components["number"] = number
    if street:
        components["street"] = street
    if units:
        components["unit"] = " ".join(f"{designator} {ident}" for designator, ident in units)
    point_units = " ".join(f"{UNIT_KIND[designator]} {ident}" for designator, ident in units)
    point = " ".join(part for part in (number, street, point_units) if part)
    return components, point


def names_box_delivery(*lines: str | None) -> bool:
    """Tell whether address lines ask for delivery at the post office (a PO box and the like), not to a street."""
    return any(line and _BOX_DELIVERY.search(line) for line in lines)
