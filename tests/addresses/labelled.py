"""A labelled set of addresses for verification, drawn from the reference data itself.

Correct addresses take a real ZIP code (with one of its city names and its state, and a PO box where
the ZIP has boxes only) or a real Chinese county (its province, city and a postcode of its post office).
Each seeded error is one of the mistakes customers and clerks make: a wrong postcode digit, a city from
another province or state, a missing district (China), city and state swapped. Nothing comes from the
demo generator, so the check is not measured against its own assumptions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mailer.addresses.usps import us_state
from mailer.reference.model import Division, Reference, UsZip, ZipType, city_key, province_short_name

ERROR_KINDS = ("postcode_digit", "city_elsewhere", "missing_district", "city_state_swapped")
CN_ROADS = ("中山路", "人民路", "解放路", "建设大道", "和平街", "文化路", "新华街", "胜利路")
US_STREETS = ("Main St", "Oak Avenue", "N Maple Dr", "Washington Blvd", "Pine Street Apt 4", "Elm Ct")


STATE_NAMES = {"NY": "New York", "CA": "California", "TX": "Texas", "IL": "Illinois", "FL": "Florida",
               "PA": "Pennsylvania", "OH": "Ohio", "GA": "Georgia", "WA": "Washington", "MA": "Massachusetts"}


@dataclass(frozen=True, slots=True)
class LabelledAddress:
    """An address, whether it is correct, and which error was seeded (empty when correct)."""

    fields: dict[str, str]
    error: str
    # A wrong digit that still gives a postcode of the same place: no reference data can see it.
    same_place: bool = False


def _cn_counties(reference: Reference) -> list[Division]:
    return [d for d in reference.divisions.values() if d.is_county and d.postcode is not None]


def _cn_correct(rng: random.Random, reference: Reference, county: Division) -> dict[str, str]:
    city = reference.city_of(county.code)
    province = reference.divisions[county.province_code]
    assert county.postcode is not None
    # A code of the county's post office: its own office's, or, for a district, its postcode's first four
    # digits; a fifth of district addresses use the city's central office instead, as the urban edge of a
    # suburban district does (大兴区旧宫 writes 100076, not 1026xx).
    prefix = county.own_office_prefix or county.postcode[:4]
    central = county.postcode[:3] + "0"
    if county.own_office_prefix is None and central in _city_prefixes(reference, city.code) and rng.random() < 0.2:
        prefix = central
    postcode = prefix + f"{rng.randrange(100):02d}"
    district = "" if county.code == city.code else county.name
    municipality = city.code == province.code
    region = "" if municipality else province.name
    # As customers write them: "江苏" for 江苏省, "南京" for 南京市, the province left out, or
    # written again at the start of the line.
    form = rng.random()
    city_name = city.name
    line_head = ""
    if not municipality and form < 0.15:
        region = province_short_name(province.name)
    elif not municipality and form < 0.3:
        region = ""
    elif form < 0.4 and city.name.endswith("市"):
        city_name = city.name[:-1]
    elif form < 0.5:
        line_head = f"{province.name if not municipality else ''}{city.name}"
    return {
        "line1": f"{line_head}{district}{rng.choice(CN_ROADS)}{rng.randrange(1, 300)}号",
        "line2": "", "city": city_name, "region": region, "postal_code": postcode, "country": "CN",
    }


def _city_prefixes(reference: Reference, city_code: str) -> frozenset[str]:
    return frozenset(
        county.postcode[:4] for county in reference.counties_by_city.get(city_code, []) if county.postcode is not None
    )


def _us_delivery_line(rng: random.Random, entry: UsZip) -> str:
    # Where the ZIP is delivered to: a PO-Box-only ZIP's customers write their box, a military ZIP's their
    # unit; some customers of a standard ZIP have a box at its post office too.
    box = rng.randrange(1, 99999)
    if entry.zip_type is ZipType.PO_BOX or (entry.zip_type is ZipType.STANDARD and rng.random() < 0.05):
        return rng.choice(("PO Box", "P.O. Box", "PO BOX", "Post Office Box")) + f" {box}"
    if entry.zip_type is ZipType.MILITARY:
        return f"{rng.choice(('Unit', 'PSC', 'CMR'))} {rng.randrange(100, 9999)} Box {box}"
    return f"{rng.randrange(1, 9999)} {rng.choice(US_STREETS)}"


def _us_correct(rng: random.Random, reference: Reference, zip_code: str) -> dict[str, str]:
    entry = reference.us_zips[zip_code]
    # As customers write them: another accepted city name, the state spelled out, any case, ZIP+4.
    names = sorted(entry.city_names)
    city = rng.choice(names) if rng.random() < 0.2 else entry.city
    state = entry.state
    form = rng.random()
    if form < 0.15:
        state = STATE_NAMES.get(entry.state, entry.state)
    elif form < 0.25:
        city = city.upper()
    elif form < 0.35:
        zip_code = f"{zip_code}-{rng.randrange(1, 10000):04d}"
    return {
        "line1": _us_delivery_line(rng, entry), "line2": "", "city": city,
        "region": state, "postal_code": zip_code, "country": "US",
    }


def _wrong_digit(rng: random.Random, code: str) -> str:
    position = rng.randrange(len(code))
    digit = rng.choice([d for d in "0123456789" if d != code[position]])
    return code[:position] + digit + code[position + 1 :]


def _us_same_place(reference: Reference, fields: dict[str, str]) -> bool:
    entry = reference.us_zips.get(fields["postal_code"][:5])
    return (
        entry is not None and us_state(fields["region"]) == entry.state.lower()
        and city_key(fields["city"]) in entry.city_keys
    )


def _cn_same_place(reference: Reference, county: Division, postcode: str) -> bool:
    city = reference.city_of(county.code)
    if city.code not in reference.cities_by_prefix3.get(postcode[:3], frozenset()):
        return False
    own_office = county.own_office_prefix
    return own_office is None or postcode[:4] == own_office


def generate_labelled_addresses(
    reference: Reference, *, n: int, error_share: float, seed: int
) -> list[LabelledAddress]:
    """Return ``n`` addresses, half Chinese and half US, ``error_share`` of them with one seeded error."""
    rng = random.Random(seed)
    counties = _cn_counties(reference)
    # Not a unique ZIP: that is one organisation's (a firm, a university), and the check leaves it to a
    # person to say whether an address there is the organisation's.
    zips = sorted(code for code, entry in reference.us_zips.items() if entry.zip_type is not ZipType.UNIQUE)
    cities_by_state: dict[str, list[str]] = {}
    for entry in reference.us_zips.values():
        cities_by_state.setdefault(entry.state, []).append(entry.city)
    states = sorted(cities_by_state)
    cn_cities = [d for d in reference.divisions.values() if d.code == d.city_code and d.code != d.province_code]
    out: list[LabelledAddress] = []
    for _ in range(n):
        chinese = rng.random() < 0.5
        county = rng.choice(counties)
        fields = _cn_correct(rng, reference, county) if chinese else _us_correct(rng, reference, rng.choice(zips))
        if rng.random() >= error_share:
            out.append(LabelledAddress(fields, ""))
            continue
        kinds = ERROR_KINDS if chinese else tuple(k for k in ERROR_KINDS if k != "missing_district")
        kind = rng.choice(kinds)
        if kind == "missing_district" and reference.city_of(county.code).code == county.code:
            kind = "postcode_digit"  # a city without districts has none to leave out
        wrong = dict(fields)
        same_place = False
        if kind == "postcode_digit":
            # The ZIP, not its +4 part: that names a delivery segment no city check could see.
            code = fields["postal_code"]
            wrong["postal_code"] = _wrong_digit(rng, code[:6]) if chinese else _wrong_digit(rng, code[:5]) + code[5:]
            same_place = (
                _cn_same_place(reference, county, wrong["postal_code"]) if chinese
                else _us_same_place(reference, wrong)
            )
        elif kind == "city_elsewhere":
            if chinese:
                province = reference.divisions[county.province_code]
                wrong["city"] = rng.choice(
                    [c for c in cn_cities if c.province_code != province.code and c.name != fields["city"]]
                ).name
            else:
                state = rng.choice([s for s in states if s.lower() != us_state(fields["region"])])
                own_names = reference.us_zips[fields["postal_code"][:5]].city_keys
                # A Springfield of another state is still a Springfield: draw one whose name differs.
                wrong["city"] = rng.choice([c for c in cities_by_state[state] if city_key(c) not in own_names])
        elif kind == "missing_district":
            wrong["line1"] = fields["line1"].replace(county.name, "", 1)
        else:
            wrong["city"], wrong["region"] = fields["region"], fields["city"]
        out.append(LabelledAddress(wrong, kind, same_place))
    return out
