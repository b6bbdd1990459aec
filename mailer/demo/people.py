"""Names, addresses, phones and emails of demo customers in China and the US, drawn a chunk at a time."""

from functools import cache

import numpy as np

from mailer.demo import data
from mailer.demo.drawing import flags, log_uniform, probabilities, uniform, weighted
from mailer.reference.model import ZipType, city_key
from mailer.reference.store import reference_in_use

HONORIFIC_NAME_RATE = 0.01

CN_PHONE_RATE = 0.92
CN_EMAIL_RATE = 0.35
US_PHONE_RATE = 0.75
US_EMAIL_RATE = 0.6

_CN_SURNAME_P = probabilities([weight for _, _, weight in data.CN_SURNAMES])
_CN_CITY_P = probabilities([city.weight for city in data.CN_CITIES])
_CN_ROAD_KIND_P = probabilities([weight for _, weight in data.CN_ROAD_KINDS])
_CN_EMAIL_DOMAIN_P = probabilities([weight for _, weight in data.CN_EMAIL_DOMAINS])
_CN_FORM_P = probabilities([0.35, 0.2, 0.15, 0.3])  # street, compound, tower, estate
_US_LAST_P = probabilities([weight for _, weight in data.US_LAST_NAMES])
_US_CITY_P = probabilities([city.weight for city in data.US_CITIES])
_US_SUFFIX_P = probabilities([weight for _, _, weight in data.US_STREET_SUFFIXES])
_US_UNIT_P = probabilities([weight for _, weight in data.US_UNIT_KINDS])
_US_EMAIL_DOMAIN_P = probabilities([weight for _, weight in data.US_EMAIL_DOMAINS])
_US_DIGITS_P = probabilities([0.04, 0.16, 0.36, 0.4, 0.04])  # house numbers of 1 to 5 digits
_US_FIRST_SLUGS = tuple(name.lower() for name in data.US_FIRST_NAMES)
_US_LAST_SLUGS = tuple("".join(c for c in name.lower() if c.isalnum()) for name, _ in data.US_LAST_NAMES)
_LETTERS = "ABCD"


@cache
def _real_zips(city: data.UsCity) -> tuple[str, ...]:
    """Return the standard ZIP codes in use of a demo city, from the postal reference data (within its prefixes).

    Demo customers live at street addresses: a PO-Box-only ZIP has no streets, a unique ZIP is one organisation's.
    """
    reference = reference_in_use()
    name = city_key(city.name)
    zips = tuple(
        zip_code for zip_code, entry in sorted(reference.us_zips.items())
        if entry.state == city.state and name in entry.city_keys and zip_code[:3] in city.zip_prefixes
        and entry.zip_type is ZipType.STANDARD
    )
    if not zips:
        raise ValueError(f"the reference data has no ZIP code of {city.name}, {city.state}")
    return zips


class CnDraws:
    """Random choices for a chunk of Chinese customers, drawn in bulk."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.surname = weighted(rng, _CN_SURNAME_P, size)
        self.single_given = flags(rng, 0.3, size)
        self.given1 = uniform(rng, 0, len(data.CN_GIVEN_CHARS) - 1, size)
        self.given2 = uniform(rng, 0, len(data.CN_GIVEN_CHARS) - 1, size)
        self.honorific = flags(rng, HONORIFIC_NAME_RATE, size)
        self.honorific_kind = uniform(rng, 0, len(data.CN_HONORIFICS) - 1, size)
        self.city = weighted(rng, _CN_CITY_P, size)
        self.with_district = flags(rng, 0.5, size)
        self.district = uniform(rng, 0, 9999, size)
        self.postcode = uniform(rng, 0, 199, size)
        self.form = weighted(rng, _CN_FORM_P, size)
        self.road = uniform(rng, 0, len(data.CN_ROAD_STEMS) - 1, size)
        self.with_direction = flags(rng, 0.15, size)
        self.direction = uniform(rng, 0, len(data.CN_ROAD_DIRECTIONS) - 1, size)
        self.road_kind = weighted(rng, _CN_ROAD_KIND_P, size)
        self.road_no = log_uniform(rng, 999, size)
        self.building = uniform(rng, 1, 30, size)
        self.unit = uniform(rng, 1, 6, size)
        self.floor = uniform(rng, 1, 33, size)
        self.door = uniform(rng, 1, 4, size)
        self.letter = uniform(rng, 0, len(_LETTERS) - 1, size)
        self.estate = uniform(rng, 0, len(data.CN_ESTATE_STEMS) - 1, size)
        self.estate_kind = uniform(rng, 0, len(data.CN_ESTATE_KINDS) - 1, size)
        self.estate_on_road = flags(rng, 0.4, size)
        self.estate_style = uniform(rng, 0, 2, size)
        self.tower = uniform(rng, 0, len(data.CN_TOWER_STEMS) - 1, size)
        self.tower_kind = uniform(rng, 0, len(data.CN_TOWER_KINDS) - 1, size)
        self.room_on_line2 = flags(rng, 0.1, size)
        self.with_phone = flags(rng, CN_PHONE_RATE, size)
        self.mobile_prefix = uniform(rng, 0, len(data.CN_MOBILE_PREFIXES) - 1, size)
        self.mobile_rest = uniform(rng, 0, 99_999_999, size)
        self.with_email = flags(rng, CN_EMAIL_RATE, size)
        self.email_style = uniform(rng, 0, 9, size)
        self.email_digits = uniform(rng, 1, 999, size)
        self.email_domain = weighted(rng, _CN_EMAIL_DOMAIN_P, size)
        self.qq = log_uniform(rng, 3_999_999_999, size)

    def row(self, i: int, surname: int | None) -> dict[str, str]:
        """Build the fields of Chinese customer ``i``, with the surname index if one is given."""
        if surname is None:
            surname = self.surname[i]
        family, family_pinyin, _ = data.CN_SURNAMES[surname]
        given, given_pinyin = data.CN_GIVEN_CHARS[self.given1[i]]
        if not self.single_given[i]:
            second, second_pinyin = data.CN_GIVEN_CHARS[self.given2[i]]
            given, given_pinyin = given + second, given_pinyin + second_pinyin
        name = family + (data.CN_HONORIFICS[self.honorific_kind[i]] if self.honorific[i] else given)

        city = data.CN_CITIES[self.city[i]]
        head, tail = self._street(i)
        if city.districts:
            # Every address names its district (the postal reference data needs it); about half write
            # the whole address into line 1, city first, as customers often do.
            district = city.districts[self.district[i] % len(city.districts)]
            head = district + head if self.with_district[i] else city.name + district + head
        line1, line2 = (head, tail) if self.room_on_line2[i] else (head + tail, "")

        phone = ""
        if self.with_phone[i]:
            phone = f"{data.CN_MOBILE_PREFIXES[self.mobile_prefix[i]]}{self.mobile_rest[i]:08d}"
        email = ""
        if self.with_email[i]:
            domain = data.CN_EMAIL_DOMAINS[self.email_domain[i]][0]
            style = self.email_style[i]
            if style < 4:
                email = f"{10_000 + self.qq[i]}@qq.com"
            elif style < 7:
                email = f"{family_pinyin}{given_pinyin}{self.email_digits[i]}@{domain}"
            elif style < 9:
                email = f"{family_pinyin}.{given_pinyin}@{domain}"
            else:
                email = f"{family_pinyin}{given_pinyin[0]}{self.email_digits[i]:03d}@{domain}"
        return {
            "name": name,
            "line1": line1,
            "line2": line2,
            "city": city.name,
            "region": city.province,
            # The city's central office (fourth digit 0), which serves its urban districts; a fourth digit
            # of 1 would name a county's own office in many cities (6101xx is 成都's 龙泉驿区).
            "postal_code": f"{city.postcode_prefix}{self.postcode[i] % 100:03d}",
            "country": "CN",
            "phone": phone,
            "email": email,
        }

    def _street(self, i: int) -> tuple[str, str]:
        """Build line1 of address ``i`` as (street part, building and room part)."""
        road = data.CN_ROAD_STEMS[self.road[i]]
        if self.with_direction[i]:
            road += data.CN_ROAD_DIRECTIONS[self.direction[i]]
        road += data.CN_ROAD_KINDS[self.road_kind[i]][0]
        number = self.road_no[i]
        room = f"{self.floor[i]}{self.door[i]:02d}室"
        form = self.form[i]
        if form == 0:  # 中山路88号
            return f"{road}{number}号", ""
        if form == 1:  # 建国门外大街1号院3号楼2单元501室
            return f"{road}{number}号院", f"{self.building[i]}号楼{self.unit[i]}单元{room}"
        if form == 2:  # 文三路478号华星时代广场A座1201室
            tower = data.CN_TOWER_STEMS[self.tower[i]] + data.CN_TOWER_KINDS[self.tower_kind[i]]
            return f"{road}{number}号{tower}", f"{_LETTERS[self.letter[i]]}座{room}"
        estate = data.CN_ESTATE_STEMS[self.estate[i]] + data.CN_ESTATE_KINDS[self.estate_kind[i]]
        if self.estate_on_road[i]:  # 人民路12号阳光花园5幢2单元302室
            estate = f"{road}{number}号{estate}"
        style = self.estate_style[i]
        if style == 0:
            return estate, f"{self.building[i]}幢{self.unit[i]}单元{room}"
        if style == 1:
            return estate, f"{self.building[i]}栋{room}"
        return estate, f"{self.building[i]}号楼{room}"


class UsDraws:
    """Random choices for a chunk of US customers, drawn in bulk."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self.first = uniform(rng, 0, len(data.US_FIRST_NAMES) - 1, size)
        self.last = weighted(rng, _US_LAST_P, size)
        self.with_middle = flags(rng, 0.08, size)
        self.middle = uniform(rng, 0, 25, size)
        self.honorific = flags(rng, HONORIFIC_NAME_RATE, size)
        self.honorific_kind = uniform(rng, 0, len(data.US_HONORIFICS) - 1, size)
        self.city = weighted(rng, _US_CITY_P, size)
        self.zip_prefix = uniform(rng, 0, 9999, size)
        # No longer used (ZIPs come from the reference data), still drawn so a seed's other draws stay as they were.
        self.zip_rest = uniform(rng, 1, 99, size)
        self.with_zip4 = flags(rng, 0.25, size)
        self.zip4 = uniform(rng, 1, 9999, size)
        self.digits = weighted(rng, _US_DIGITS_P, size)
        self.house = uniform(rng, 0, 99_999, size)
        self.with_direction = flags(rng, 0.12, size)
        self.direction = uniform(rng, 0, len(data.US_DIRECTIONS) - 1, size)
        self.direction_spelled = flags(rng, 0.2, size)
        self.street = uniform(rng, 0, len(data.US_STREET_NAMES) - 1, size)
        self.suffix = weighted(rng, _US_SUFFIX_P, size)
        self.suffix_style = weighted(rng, probabilities([0.62, 0.3, 0.08]), size)  # St, Street, St.
        self.with_unit = flags(rng, 0.22, size)
        self.unit_on_line1 = flags(rng, 0.3, size)
        self.unit_kind = weighted(rng, _US_UNIT_P, size)
        self.unit_no = uniform(rng, 1, 40, size)
        self.unit_letter = flags(rng, 0.3, size)
        self.letter = uniform(rng, 0, len(_LETTERS) - 1, size)
        self.with_phone = flags(rng, US_PHONE_RATE, size)
        self.area = uniform(rng, 0, 9999, size)
        self.exchange = uniform(rng, 201, 999, size)
        self.line = uniform(rng, 0, 9999, size)
        self.with_email = flags(rng, US_EMAIL_RATE, size)
        self.email_style = uniform(rng, 0, 3, size)
        self.email_digits = uniform(rng, 1, 99, size)
        self.email_domain = weighted(rng, _US_EMAIL_DOMAIN_P, size)

    def row(self, i: int, surname: int | None) -> dict[str, str]:
        """Build the fields of US customer ``i``, with the surname index if one is given."""
        if surname is None:
            surname = self.last[i]
        last = data.US_LAST_NAMES[surname][0]
        first = data.US_FIRST_NAMES[self.first[i]]
        if self.honorific[i]:
            name = f"{data.US_HONORIFICS[self.honorific_kind[i]]} {last}"
        elif self.with_middle[i]:
            name = f"{first} {chr(65 + self.middle[i])}. {last}"
        else:
            name = f"{first} {last}"

        city = data.US_CITIES[self.city[i]]
        zips = _real_zips(city)
        zip_code = zips[self.zip_prefix[i] % len(zips)]
        if self.with_zip4[i]:
            zip_code += f"-{self.zip4[i]:04d}"

        line1 = f"{self.house[i] % 10 ** (self.digits[i] + 1) or 1} "
        if self.with_direction[i]:
            line1 += data.US_DIRECTIONS[self.direction[i]][self.direction_spelled[i]] + " "
        abbreviation, full, _ = data.US_STREET_SUFFIXES[self.suffix[i]]
        suffix = (abbreviation, full, abbreviation + ".")[self.suffix_style[i]]
        if abbreviation == full:  # "Way" has no abbreviation to dot
            suffix = full
        line1 += f"{data.US_STREET_NAMES[self.street[i]]} {suffix}"
        line2 = ""
        if self.with_unit[i]:
            unit = self._unit(i)
            if self.unit_on_line1[i]:
                line1 += " " + unit
            else:
                line2 = unit

        phone = ""
        if self.with_phone[i]:
            area = city.area_codes[self.area[i] % len(city.area_codes)]
            phone = f"({area}) {self.exchange[i]}-{self.line[i]:04d}"
        email = ""
        if self.with_email[i]:
            first_slug, last_slug = _US_FIRST_SLUGS[self.first[i]], _US_LAST_SLUGS[surname]
            domain = data.US_EMAIL_DOMAINS[self.email_domain[i]][0]
            style = self.email_style[i]
            if style == 0:
                email = f"{first_slug}.{last_slug}@{domain}"
            elif style == 1:
                email = f"{first_slug[0]}{last_slug}{self.email_digits[i]}@{domain}"
            elif style == 2:
                email = f"{first_slug}{last_slug}{self.email_digits[i]:02d}@{domain}"
            else:
                email = f"{first_slug}_{last_slug}@{domain}"
        return {
            "name": name,
            "line1": line1,
            "line2": line2,
            "city": city.name,
            "region": city.state,
            "postal_code": zip_code,
            "country": "US",
            "phone": phone,
            "email": email,
        }

    def _unit(self, i: int) -> str:
        """Build the apartment or suite designator of address ``i``."""
        kind = data.US_UNIT_KINDS[self.unit_kind[i]][0]
        if kind in ("Suite", "Ste"):
            return f"{kind} {self.unit_no[i] * 25 + 75}"
        number = f"{self.unit_no[i]}{_LETTERS[self.letter[i]] if self.unit_letter[i] else ''}"
        return f"#{number}" if kind == "#" else f"{kind} {number}"
