"""``python -m mailer customers ...``"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mailer.cli import AppGroup, run_import


@click.group("customers", cls=AppGroup)
def customers_cli() -> None:
    """Import and look up customers."""


@customers_cli.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as a JSON object.")
def import_command(file: Path, as_json: bool) -> None:
    """Import a customer CSV.

    Columns: customer_no, name, line1, line2, city, region, postal_code, country, phone, email
    (line2, region, phone and email may be empty).

    Known customer numbers are updated; a changed address becomes current and the old one
    superseded. Bad rows go to FILE's .rejects.csv with row number and reason. Exit status: 0 all
    rows stored, 1 some rejected, 2 the file cannot be used (nothing stored).
    """
    from mailer.customers.importing import import_customers

    run_import(import_customers, file, label="Importing customers", as_json=as_json)


@customers_cli.command("show")
@click.argument("customer_no")
@click.option("--json", "as_json", is_flag=True, help="Print the customer as a JSON object.")
def show_command(customer_no: str, as_json: bool) -> None:
    """Show a customer with their current address, validity and churn risk."""
    from mailer.customers.service import customer_summary
    from mailer.db import db

    summary = customer_summary(db.session, customer_no=customer_no)
    if summary is None:
        click.echo(f"error: no customer {customer_no}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    address = summary["address"]
    risk = summary["churn_risk"]
    click.echo(f"{summary['customer_no']}  {summary['name']}  ({summary['status']})")
    if summary["merged_into"]:
        click.echo(f"  merged into {summary['merged_into']}: its orders, addresses and returns are there")
    if address:
        click.echo(f"  {address['line1']} {address['line2']}".rstrip())
        click.echo(f"  {address['postal_code']} {address['city']} {address['region']} {address['country']}")
        click.echo(f"  address validity: {address['validity']}")
        click.echo(f"  verification: {address['verification']} ({address['verification_reason']})")
    click.echo(f"  churn risk: {'not scored yet' if risk is None else f'{risk:.0%}'}")


@customers_cli.command("verify")
@click.option("--all", "every", is_flag=True, help="Check every current address, not only those never checked.")
def verify_command(every: bool) -> None:
    """Check current addresses against the postal reference data in use and store what it says."""
    from mailer.addresses.reverify import reverify_addresses
    from mailer.cli import ProgressBar, command_transaction

    bar = ProgressBar("Verifying addresses")
    with command_transaction(bar=bar) as session:
        outcomes = reverify_addresses(session, only_unchecked=not every, progress=bar)
    total = sum(outcomes.values())
    click.echo(f"{total} addresses checked: " + ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())))
