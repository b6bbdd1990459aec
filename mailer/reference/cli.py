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
            document["us"] = {"zips": us}
            document["sources"] = {**document["sources"], "us": us_source}
            document["version"] = f"{document['version']}+{source}-{us_source['version']}"
            reference = install_reference(document, target=target)
    except (ReferenceFileError, ValueError) as error:
        raise UnusableInput(f"{error}; the reference data in use is unchanged") from None
    click.echo(f"reference data {reference.describe()} is in use ({target})")
    click.echo("run `python -m mailer customers verify --all` to check the stored addresses against it")
