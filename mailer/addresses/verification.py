"""Checking an address against the postal reference data before anything is mailed to it.

The outcome is kept apart from validity (which returns drive): ``verified`` when postcode, city and
region agree; ``corrected`` when they agree and the reference data has a standard form to suggest
(a Chinese address gains its province); ``mismatch`` when parts disagree or do not exist;
``unverifiable`` when a required part is missing, the ZIP is one organisation's own (only a person can
tell whether the address is theirs), or the country has no reference data. The reason
says in words what was found. Suggestions are never applied here: accepting one is a history row.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from mailer.addresses.english import names_box_delivery
from mailer.addresses.models import AddressVerification
from mailer.addresses.usps import US_STATE_CODES, us_state
from mailer.messages import Message, join
from mailer.reference.model import Division, Reference, ZipType, city_key

_CN_MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
# How far into the line a district name is looked for, after any province and city written there.
_DISTRICT_SEARCH = 12


@dataclass(frozen=True, slots=True)
class Verification:
    """What the reference data says about an address, and the standard form it suggests."""

    status: AddressVerification
    # English as a str; a Message, so a page can say it in its reader's language.
    reason: Message
    suggestion: dict[str, str] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        """Tell whether the address needs a person's look before it is mailed."""
        return self.status in (AddressVerification.MISMATCH, AddressVerification.UNVERIFIABLE)


_SUGGESTED_FIELD = {
    "region": lambda value: Message("region %(value)s", value=value),
    "city": lambda value: Message("city %(value)s", value=value),
}


def _listed(suggestion: Mapping[str, str]) -> Message:
    return join(", ", [_SUGGESTED_FIELD[field](value) for field, value in suggestion.items()])


def _mismatch(reason: Message) -> Verification:
    return Verification(AddressVerification.MISMATCH, reason)


def verify_address(fields: Mapping[str, str | None], reference: Reference) -> Verification:
    """Check an address's postcode, city and region against each other and the reference data."""
    country = fields.get("country") or ""
    if country == "US":
        return _verify_us(fields, reference)
    if country == "CN":
        return _verify_cn(fields, reference)
    return Verification(AddressVerification.UNVERIFIABLE, Message(
        "no reference data for addresses in %(country)s", country=country or "?"
    ))


# --- the US: ZIP -> city and state ---------------------------------------------------------------


def _verify_us(fields: Mapping[str, str | None], reference: Reference) -> Verification:
    postal_code = fields.get("postal_code") or ""
    zip_code = postal_code[:5]
    entry = reference.us_zips.get(zip_code)
    if entry is None:
        return _mismatch(Message("ZIP %(zip)s is not a ZIP code in use", zip=zip_code))
    place = f"{entry.city}, {entry.state}"
    region = fields.get("region") or ""
    city = fields.get("city") or ""
    suggestion: dict[str, str] = {}
    if region:
        state = us_state(region)
        if state not in US_STATE_CODES:
            return _mismatch(Message(
                "ZIP %(zip)s is %(place)s; the state says %(region)s, which is no US state",
                zip=zip_code, place=place, region=region,
            ))
        if state != entry.state.lower():
            return _mismatch(Message(
                "ZIP %(zip)s is %(place)s; the state says %(region)s", zip=zip_code, place=place, region=region
            ))
        if region != entry.state:
            suggestion["region"] = entry.state
    else:
        suggestion["region"] = entry.state
    if city_key(city) not in entry.city_keys:
        return _mismatch(Message(
            "ZIP %(zip)s is %(place)s; the city says %(city)s", zip=zip_code, place=place, city=city
        ))
    if entry.zip_type is ZipType.PO_BOX and not names_box_delivery(fields.get("line1"), fields.get("line2")):
        # USPS carries nothing to a street address in a PO-Box-only ZIP: the piece comes back.
        return _mismatch(Message(
            "ZIP %(zip)s (%(place)s) is for PO boxes only; the address is a street address", zip=zip_code, place=place
        ))
    if entry.zip_type is ZipType.UNIQUE:
        # Right for the organisation's own mail, wrong for anyone else's: only a person can tell which.
        return Verification(
            AddressVerification.UNVERIFIABLE,
            Message(
                "ZIP %(zip)s (%(place)s) belongs to one organisation; "
                "the data cannot tell whether the address is theirs",
                zip=zip_code, place=place,
            ),
        )
    if suggestion:
        return Verification(
            AddressVerification.CORRECTED,
            Message(
                "ZIP %(zip)s is %(place)s; suggested: %(suggestion)s", zip=zip_code, place=place,
                suggestion=_listed(suggestion),
            ),
            suggestion,
        )
    return Verification(AddressVerification.VERIFIED, Message("ZIP %(zip)s is %(place)s", zip=zip_code, place=place))


# --- China: postcode -> province and city; city -> province; district within the city ------------


def _compact(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _strip_prefix(text: str, names: tuple[str, ...]) -> str:
    for name in names:
        if name and text.startswith(name) and len(text) > len(name):
            return text[len(name):]
    return text


def _postcode_place(postal_code: str, reference: Reference) -> str | Message:
    cities = reference.cities_by_prefix3.get(postal_code[:3])
    if cities:
        return " or ".join(sorted(reference.divisions[code].name for code in cities))
    provinces = reference.provinces_by_prefix2.get(postal_code[:2])
    if provinces:
        return " or ".join(sorted(reference.divisions[code].name for code in provinces))
    return Message("in no area the reference data knows")


def _pick(codes: list[str], reference: Reference, *, province: str | None, postal_code: str) -> str | None:
    if len(codes) == 1:
        return codes[0]
    if province is not None:
        matching = [code for code in codes if reference.divisions[code].province_code == province]
    else:
        provinces = reference.provinces_by_prefix2.get(postal_code[:2], frozenset())
        matching = [code for code in codes if reference.divisions[code].province_code in provinces]
    return matching[0] if len(matching) == 1 else None


def _verify_cn(fields: Mapping[str, str | None], reference: Reference) -> Verification:
    postal_code = fields.get("postal_code") or ""
    region = _compact(fields.get("region"))
    city_text = _compact(fields.get("city"))
    province_code: str | None = None
    if region:
        province_code = reference.provinces_by_name.get(region)
        if province_code is None:
            if region in reference.cities_by_name:
                return _mismatch(Message("the region says %(region)s, which is a city, not a province", region=region))
            return _mismatch(Message("the region says %(region)s, which is no province", region=region))
    province_names = tuple(
        name for name in (region, reference.divisions[province_code].name if province_code else "") if name
    )
    if city_text not in reference.cities_by_name:
        # "江苏省南京市" in the city field; but 吉林市 is a city of 吉林省, not 吉林 + 市.
        city_text = _strip_prefix(city_text, province_names)
    district: Division | None = None
    city_codes = reference.cities_by_name.get(city_text) or reference.cities_by_name.get(city_text + "市")
    city_code = _pick(city_codes, reference, province=province_code, postal_code=postal_code) if city_codes else None
    if city_code is None and (county_codes := reference.counties_by_name.get(city_text)):
        # A county-level city or a district written as the city: "昆山市", "朝阳区".
        county_code = _pick(county_codes, reference, province=province_code, postal_code=postal_code)
        if county_code is not None:
            district = reference.divisions[county_code]
            city_code = district.city_code
    if city_code is None:
        if city_text in reference.provinces_by_name:
            return _mismatch(Message(
                "the city says %(city)s, which is a province; the region says %(region)s",
                city=city_text, region=region or Message("nothing"),
            ))
        return _mismatch(Message("the city says %(city)s, which is no city in the reference data", city=city_text))
    city = reference.divisions[city_code]
    province = reference.divisions[city.province_code]
    if province_code is not None and province_code != city.province_code:
        return _mismatch(Message(
            "%(city)s is in %(province)s; the region says %(region)s", city=city.name, province=province.name,
            region=region,
        ))

    if city.province_code not in reference.provinces_by_prefix2.get(postal_code[:2], frozenset()):
        return _mismatch(Message(
            "postcode %(postcode)s is %(place)s; the city says %(city)s", postcode=postal_code,
            place=_postcode_place(postal_code, reference), city=city.name,
        ))
    if city.code not in reference.cities_by_prefix3.get(postal_code[:3], frozenset()):
        return _mismatch(Message(
            "postcode %(postcode)s is %(place)s; the city says %(city)s", postcode=postal_code,
            place=_postcode_place(postal_code, reference), city=city.name,
        ))

    counties = reference.counties_by_city.get(city.code, [])
    if district is None:
        line = _compact(fields.get("line1")) + _compact(fields.get("line2"))
        if not line.startswith(city.name):
            line = _strip_prefix(line, (province.name, region))
        line = _strip_prefix(line, (city.name,))
        window = line[:_DISTRICT_SEARCH]
        district = next((county for county in counties if county.name in window), None)
        if district is None and city.code != city.province_code and city.is_county:
            district = city  # a county-level city a province runs directly is its own district
    if district is None and counties and any(county.code != city.code for county in counties):
        return Verification(
            AddressVerification.UNVERIFIABLE,
            Message(
                "no district: %(city)s has %(count)s districts and counties and the address names none",
                city=city.name, count=len(counties),
            ),
        )
    # Outside the city the fourth digit names a county's own post office.
    own_office = district.own_office_prefix if district is not None else None
    if district is not None and own_office is not None and postal_code[:4] != own_office:
        return _mismatch(Message(
            "postcode %(postcode)s is not %(district)s's; %(district)s has %(office)sxx", postcode=postal_code,
            district=district.name, office=own_office,
        ))
    # A district's postcode from another division's own office: 鼓楼区 with 高淳区's 2113xx (or, where one
    # three-digit area spans cities, as Hainan's counties do, a neighbour's). Only where the data gives the
    # district a postcode and the office is one division's alone; the city's central office and its
    # delivery zones serve several districts, so they say nothing about which one.
    if district is not None and district.postcode is not None and postal_code[:4] != district.postcode[:4]:
        office = reference.offices_by_prefix4.get(postal_code[:4])
        if office is not None and office.code != district.code:
            return _mismatch(Message(
                "postcode %(postcode)s is %(office)s's (%(prefix)sxx); the address says %(district)s",
                postcode=postal_code, office=office.name, prefix=office.office_prefix, district=district.name,
            ))

    suggestion: dict[str, str] = {}
    if city.code not in _CN_MUNICIPALITIES and region != province.name:
        suggestion["region"] = province.name
    if city_text != city.name and (district is None or city_text != district.name):
        suggestion["city"] = city.name
    place = f"{province.name}{city.name if city.name != province.name else ''}{district.name if district else ''}"
    if suggestion:
        return Verification(
            AddressVerification.CORRECTED,
            Message(
                "postcode %(postcode)s is %(place)s; suggested: %(suggestion)s", postcode=postal_code, place=place,
                suggestion=_listed(suggestion),
            ),
            suggestion,
        )
    return Verification(
        AddressVerification.VERIFIED, Message("postcode %(postcode)s is %(place)s", postcode=postal_code, place=place)
    )
