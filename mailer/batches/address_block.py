"""The recipient block as it is printed, by the conventions of the destination country."""

from __future__ import annotations

from collections.abc import Mapping

from mailer.addresses.usps import US_STATE_CODES, standard_delivery_line, us_state


def _cn_street(region: str, city: str, line1: str) -> str:
    # Chinese addresses run from province to door without spaces. Customers often type the
    # province or city into line 1 already, and a municipality's region is its city: print each once.
    rest = line1
    for part in (region, city):
        if part and rest.startswith(part):
            rest = rest[len(part) :]
    head = city if not region or region == city else region + city
    return head + rest


def format_address_block(*, name: str, address: Mapping[str, str | None]) -> tuple[str, ...]:
    """Return the lines printed on the envelope for a recipient at an address."""
    country = address["country"]
    line2 = address.get("line2") or ""
    if country == "CN":
        # Province, city and street on top; the addressee last, with 收 ("to be received by").
        street = _cn_street(address.get("region") or "", address["city"] or "", address["line1"] or "")
        return tuple(line for line in (street, line2, f"{name} 收") if line)
    if country == "US":
        # USPS Publication 28: capitals, standard abbreviations; city, state and ZIP on the last line.
        # Printing the standard form changes nothing the customer wrote: the stored address stays as typed.
        region = address.get("region") or ""
        state = us_state(region) if us_state(region) in US_STATE_CODES else region
        last = f"{address['city']} {state} {address['postal_code']}"
        delivery = [standard_delivery_line(line) for line in (address["line1"] or "", line2) if line]
        lines = (name, *delivery, " ".join(last.split()))
        return tuple(line.upper() for line in lines if line)
    last = " ".join(part for part in (address["postal_code"], address["city"]) if part)
    return tuple(line for line in (name, address["line1"], line2, last, address.get("region") or "") if line)
