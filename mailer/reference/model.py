"""The reference data in memory: checked when read, indexed for lookups by name and by postcode."""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from mailer.folding import fold_text

FORMAT = "mailer-reference/1"
# A file with fewer entries than this is cut short or something else, not a newer edition.
MINIMUM_US_ZIPS = 30_000
MINIMUM_CN_PROVINCES = 31
MINIMUM_CN_COUNTIES = 2_500
MINIMUM_CN_POSTCODES = 2_000
_ZIP = re.compile(r"^\d{5}$")
_STATE = re.compile(r"^[A-Z]{2}$")
_CODE = re.compile(r"^\d{6}$")
_MUNICIPALITY_CODES = frozenset({"110000", "120000", "310000", "500000"})


class ReferenceFileError(ValueError):
    """A reference file that cannot be used; the message names the file and what is wrong."""


def city_key(name: str) -> str:
    """Fold a US city name so spellings of one name agree ("St. Louis", "Saint Louis", "ST LOUIS")."""
    words = fold_text(name).split()
    return " ".join(_CITY_WORDS.get(word, word) for word in words)


_CITY_WORDS = {"saint": "st", "sainte": "ste", "fort": "ft", "mount": "mt", "mountain": "mtn"}


class ZipType(StrEnum):
    """What a ZIP code delivers to, as USPS classes it."""

    STANDARD = "STANDARD"
    # Post office boxes only: nothing is carried to a street address there.
    PO_BOX = "PO BOX"
    # One organisation's own ZIP (a firm, a university, an agency).
    UNIQUE = "UNIQUE"
    # APO, FPO and DPO addresses of the armed forces and diplomats abroad.
    MILITARY = "MILITARY"


@dataclass(frozen=True, slots=True)
class UsZip:
    """One active ZIP code: its state, its preferred city name, every city name it accepts, and its type."""

    zip_code: str
    state: str
    city: str
    city_keys: frozenset[str]
    # The preferred name first, then the other names the ZIP accepts, as written in the data.
    city_names: tuple[str, ...] = ()
    zip_type: ZipType = ZipType.STANDARD


@dataclass(frozen=True, slots=True)
class Division:
    """A Chinese province, city, or county-level division (district, county, county-level city)."""

    code: str
    name: str
    province_code: str
    # The prefecture-level city above a county, or the division itself for a province or city. A
    # municipality's districts belong to the municipality; a county a province runs directly, to itself.
    city_code: str
    postcode: str | None = None

    @property
    def is_county(self) -> bool:
        return not self.code.endswith("00")

    @property
    def own_office_prefix(self) -> str | None:
        """Return the first four digits every postcode of a county with its own post office starts with, or None.

        A county (县, 旗, county-level 市) whose postcode's fourth digit is not 0 has its own office
        there; a city district (区) shares the city's offices, whose fourth digits vary.
        """
        if self.postcode is None or self.postcode[3] == "0" or self.name.endswith("区"):
            return None
        return self.postcode[:4]

    @property
    def office_prefix(self) -> str | None:
        """Return the first four digits of the county-level post office this division's postcode names, or None.

        A county with its own office has one (see ``own_office_prefix``); so has a district whose postcode
        is such an office's main code (211300, 高淳区, once a county). A fourth digit 0 is the city's central
        office, which serves several districts; a district's other codes (200333, 普陀区) name one of the
        city's delivery zones, which do not follow district lines.
        """
        if self.postcode is None or self.postcode[3] == "0":
            return None
        if self.own_office_prefix is not None or self.postcode.endswith("00"):
            return self.postcode[:4]
        return None


@dataclass(slots=True)
class Reference:
    """The reference data in use, with the indexes verification needs."""

    version: str
    sources: dict[str, Any]
    us_zips: dict[str, UsZip]
    divisions: dict[str, Division]
    provinces_by_name: dict[str, str] = field(default_factory=dict)
    cities_by_name: dict[str, list[str]] = field(default_factory=dict)
    counties_by_city: dict[str, list[Division]] = field(default_factory=dict)
    counties_by_name: dict[str, list[str]] = field(default_factory=dict)
    cities_by_prefix3: dict[str, frozenset[str]] = field(default_factory=dict)
    provinces_by_prefix2: dict[str, frozenset[str]] = field(default_factory=dict)
    # A county-level post office (first four digits) that the data gives to exactly one division, and no
    # other division's postcode starts with: that division's own office.
    offices_by_prefix4: dict[str, Division] = field(default_factory=dict)

    def describe(self) -> str:
        """Return the version and each source's name and version on one line."""
        parts = [f"{key}: {source.get('name', '?')} {source.get('version', '?')}" for key, source in
                 sorted(self.sources.items())]
        return f"{self.version} ({'; '.join(parts)})"

    def city_of(self, code: str) -> Division:
        """Return the city-level division a division belongs to (a municipality for its districts)."""
        return self.divisions[self.divisions[code].city_code]


def read_document(path: Path) -> dict[str, Any]:
    """Read a reference file (JSON, gzipped or not); raise ReferenceFileError when it is not one."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ReferenceFileError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        document = json.loads(text)
    except (OSError, EOFError, ValueError) as error:
        raise ReferenceFileError(f"{path}: not a reference file (not gzipped JSON: {error})") from None
    if not isinstance(document, dict):
        raise ReferenceFileError(f"{path}: not a reference file (not a JSON object)")
    return document


def parse_reference(document: dict[str, Any], *, origin: str) -> Reference:
    """Check a reference document entry by entry and index it; raise ReferenceFileError naming the entry."""

    def fail(problem: str) -> ReferenceFileError:
        return ReferenceFileError(f"{origin}: {problem}")

    if document.get("format") != FORMAT:
        raise fail(f"format is {document.get('format')!r}, expected {FORMAT!r}")
    version = document.get("version")
    sources = document.get("sources")
    if not isinstance(version, str) or not version:
        raise fail("no version")
    if not isinstance(sources, dict) or not all(isinstance(s, dict) for s in sources.values()):
        raise fail("sources must name each source with its version and licence")
    try:
        zips_in = document["us"]["zips"]
        # Older files have no ZIP types: every ZIP is then taken as a standard one.
        types_in = document["us"].get("types", {})
        divisions_in = document["cn"]["divisions"]
        postcodes_in = document["cn"]["postcodes"]
    except (KeyError, TypeError, AttributeError):
        raise fail("missing us.zips, cn.divisions or cn.postcodes") from None
    if not all(isinstance(part, dict) for part in (zips_in, types_in, divisions_in, postcodes_in)):
        raise fail("us.zips, us.types, cn.divisions and cn.postcodes must be JSON objects")

    us_zips: dict[str, UsZip] = {}
    for zip_code, entry in zips_in.items():
        if not _ZIP.match(zip_code):
            raise fail(f"us.zips: {zip_code!r} is not a five-digit ZIP code")
        if not (isinstance(entry, list) and len(entry) >= 2 and all(isinstance(v, str) and v for v in entry)):
            raise fail(f"us.zips[{zip_code}]: expected [state, city, other city names...]")
        if not _STATE.match(entry[0]):
            raise fail(f"us.zips[{zip_code}]: {entry[0]!r} is not a two-letter state")
        us_zips[zip_code] = UsZip(
            zip_code, entry[0], entry[1], frozenset(city_key(name) for name in entry[1:]), tuple(entry[1:]),
            _zip_type(types_in.get(zip_code, ZipType.STANDARD), zip_code, fail),
        )
    if len(us_zips) < MINIMUM_US_ZIPS:
        raise fail(f"us.zips has {len(us_zips)} ZIP codes, fewer than {MINIMUM_US_ZIPS}: the file is incomplete")
    unknown_zips = sorted(set(types_in) - set(us_zips))
    if unknown_zips:
        raise fail(f"us.types[{unknown_zips[0]}]: no such ZIP code in us.zips")

    for code, name in divisions_in.items():
        if not _CODE.match(code) or not isinstance(name, str) or not name:
            raise fail(f"cn.divisions: {code!r}: {name!r} is not a six-digit code with a name")
    divisions: dict[str, Division] = {}
    for code, name in divisions_in.items():
        province_code = code[:2] + "0000"
        if province_code not in divisions_in:
            raise fail(f"cn.divisions[{code}]: its province {province_code} is missing")
        city_code = code[:4] + "00"
        if code == province_code:
            city_code = code
        elif code[2:4] == "00" or city_code not in divisions_in or _is_grouping(divisions_in[city_code]):
            city_code = province_code if province_code in _MUNICIPALITY_CODES else code
        postcode = postcodes_in.get(code)
        if postcode is not None and not (isinstance(postcode, str) and _CODE.match(postcode)):
            raise fail(f"cn.postcodes[{code}]: {postcode!r} is not a six-digit postcode")
        divisions[code] = Division(code, name, province_code, city_code, postcode)
    unknown = sorted(set(postcodes_in) - set(divisions))
    if unknown:
        raise fail(f"cn.postcodes[{unknown[0]}]: no such division")
    provinces = [d for d in divisions.values() if d.code == d.province_code]
    counties = [d for d in divisions.values() if d.is_county]
    if len(provinces) < MINIMUM_CN_PROVINCES or len(counties) < MINIMUM_CN_COUNTIES:
        raise fail(f"cn.divisions has {len(provinces)} provinces and {len(counties)} counties: the file is incomplete")
    if len(postcodes_in) < MINIMUM_CN_POSTCODES:
        raise fail(f"cn.postcodes has {len(postcodes_in)} postcodes, fewer than {MINIMUM_CN_POSTCODES}")
    reference = Reference(version=version, sources=sources, us_zips=us_zips, divisions=divisions)
    _index(reference)
    return reference


def _zip_type(value: Any, zip_code: str, fail: Callable[[str], ReferenceFileError]) -> ZipType:
    try:
        return ZipType(value)
    except ValueError:
        known = ", ".join(repr(kind.value) for kind in ZipType)
        raise fail(f"us.types[{zip_code}]: {value!r} is not a ZIP type ({known})") from None


def _is_grouping(name: str) -> bool:
    # "省直辖县级行政区划" groups the counties a province runs directly; it is no city.
    return name.endswith("直辖县级行政区划")


def province_short_name(name: str) -> str:
    """Return a province's name without its level ("江苏省" -> "江苏", "广西壮族自治区" -> "广西")."""
    for ending in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市"):
        if name.endswith(ending) and len(name) > len(ending) + 1:
            return name[: -len(ending)]
    return name


def _index(reference: Reference) -> None:
    cities_by_name: dict[str, list[str]] = defaultdict(list)
    counties_by_city: dict[str, list[Division]] = defaultdict(list)
    counties_by_name: dict[str, list[str]] = defaultdict(list)
    prefix3: dict[str, set[str]] = defaultdict(set)
    prefix2: dict[str, set[str]] = defaultdict(set)
    prefix4: dict[str, list[Division]] = defaultdict(list)
    for division in reference.divisions.values():
        if division.code == division.province_code:
            reference.provinces_by_name[division.name] = division.code
            reference.provinces_by_name[province_short_name(division.name)] = division.code
        if division.code == division.city_code and not _is_grouping(division.name):
            cities_by_name[division.name].append(division.code)
        if division.is_county:
            counties_by_city[division.city_code].append(division)
            counties_by_name[division.name].append(division.code)
        if division.postcode is not None:
            prefix3[division.postcode[:3]].add(division.city_code)
            prefix2[division.postcode[:2]].add(division.province_code)
            prefix4[division.postcode[:4]].append(division)
    # Longest names first, so "鼓楼区" is not found inside a longer name that ends the same way.
    reference.cities_by_name = dict(cities_by_name)
    reference.counties_by_city = {
        city: sorted(counties, key=lambda d: -len(d.name)) for city, counties in counties_by_city.items()
    }
    reference.counties_by_name = dict(counties_by_name)
    reference.cities_by_prefix3 = {prefix: frozenset(cities) for prefix, cities in prefix3.items()}
    reference.provinces_by_prefix2 = {prefix: frozenset(provinces) for prefix, provinces in prefix2.items()}
    reference.offices_by_prefix4 = {
        prefix: owners[0] for prefix, owners in prefix4.items()
        if len(owners) == 1 and owners[0].is_county and owners[0].office_prefix == prefix
    }


def load_reference(path: Path) -> Reference:
    """Read and check a reference file."""
    return parse_reference(read_document(path), origin=str(path))
