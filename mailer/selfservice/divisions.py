"""The Chinese province, city and district a customer chooses on the address page, from the reference data.

The page offers only divisions the reference data knows, each under the one above it, so the address
it stores names them exactly as verification reads them: the province as the region, the
prefecture-level city (a municipality for its own districts) as the city, and the district at the
head of the street line, where verification looks for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailer.reference.model import Division, Reference

# The fields that hold the chosen divisions, from the top down.
DIVISION_FIELDS = ("region", "city", "district")


@dataclass(frozen=True, slots=True)
class DivisionChoice:
    """A division the customer chose, or a problem with it: the field, and the name not found under ``parent``."""

    field: str
    name: str
    parent: str


class DivisionNotFound(ValueError):
    """A chosen province, city or district the reference data does not have where it was chosen."""

    def __init__(self, choice: DivisionChoice) -> None:
        super().__init__(f"{choice.field} {choice.name} is not in {choice.parent or 'China'}")
        self.choice = choice


def us_states(reference: Reference) -> list[str]:
    """Return the two-letter codes of the US states and territories the reference data has ZIP codes in."""
    return sorted({entry.state for entry in reference.us_zips.values()})


def provinces(reference: Reference) -> list[Division]:
    """Return the provinces, autonomous regions and municipalities, in the order of their codes."""
    return sorted((d for d in reference.divisions.values() if d.code == d.province_code), key=lambda d: d.code)


def cities(reference: Reference, province: Division) -> list[Division]:
    """Return the cities under a province; a municipality is its own only city."""
    found = [
        d for d in reference.divisions.values()
        if d.province_code == province.code and d.code == d.city_code and d.code != province.code
        and d.name in reference.cities_by_name
    ]
    if not found:
        return [province]
    return sorted(found, key=lambda d: d.code)


def districts(reference: Reference, city: Division) -> list[Division]:
    """Return the districts and counties of a city (none for a city with no districts under it)."""
    found = [d for d in reference.counties_by_city.get(city.code, []) if d.code != city.code]
    return sorted(found, key=lambda d: d.code)


@dataclass(frozen=True, slots=True)
class ChosenPlace:
    """The province, city and district chosen, as far as they were, each found under the one above."""

    province: Division | None
    city: Division | None
    district: Division | None
    # The fields chosen from the top down that are empty but must be chosen.
    missing: tuple[str, ...]


def find_place(reference: Reference, *, province: str, city: str, district: str) -> ChosenPlace:
    """Find the chosen names, each under the one above; raise DivisionNotFound naming the first that is not."""
    province, city, district = province.strip(), city.strip(), district.strip()
    found_province = found_city = found_district = None
    if province:
        found_province = next((d for d in provinces(reference) if d.name == province), None)
        if found_province is None:
            raise DivisionNotFound(DivisionChoice("region", province, ""))
    if city and found_province is not None:
        found_city = next((d for d in cities(reference, found_province) if d.name == city), None)
        if found_city is None:
            raise DivisionNotFound(DivisionChoice("city", city, found_province.name))
    if district and found_city is not None:
        found_district = next((d for d in districts(reference, found_city) if d.name == district), None)
        if found_district is None:
            raise DivisionNotFound(DivisionChoice("district", district, found_city.name))
    missing = [name for name, value in (("region", province), ("city", city)) if not value]
    if not district and (found_city is None or districts(reference, found_city)):
        missing.append("district")
    return ChosenPlace(found_province, found_city, found_district, tuple(missing))


def street_with_district(street: str, district: Division | None) -> str:
    """Return the street line headed by the district's name (once), where verification looks for it."""
    street = street.strip()
    if district is None or not street or street.startswith(district.name):
        return street
    return district.name + street


def divisions_of_province(reference: Reference, province: Division) -> list[dict[str, object]]:
    """Return a province's cities, each with its districts: what the page's selects offer under it."""
    return [
        {"name": city.name, "districts": [district.name for district in districts(reference, city)]}
        for city in cities(reference, province)
    ]


def province_by_code(reference: Reference, code: str) -> Division | None:
    """Return the province with this code, or None."""
    division = reference.divisions.get(code)
    return division if division is not None and division.code == division.province_code else None


@dataclass(frozen=True, slots=True)
class PlaceOptions:
    """What the page's selects offer: every province, the chosen province's cities, the chosen city's districts."""

    provinces: list[Division]
    cities: list[Division]
    districts: list[Division]


def place_options(reference: Reference, *, province: str, city: str) -> PlaceOptions:
    """Return the options under the province and city chosen so far (none under a name not found)."""
    all_provinces = provinces(reference)
    found_province = next((d for d in all_provinces if d.name == province.strip()), None)
    city_options = cities(reference, found_province) if found_province is not None else []
    found_city = next((d for d in city_options if d.name == city.strip()), None)
    district_options = districts(reference, found_city) if found_city is not None else []
    return PlaceOptions(all_provinces, city_options, district_options)
