"""``python -m mailer customers ...``"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mailer.cli import AppGroup, cli_actor, command_transaction, output_file, run_import


@click.group("customers", cls=AppGroup)
def customers_cli() -> None:
    """Import and look up customers; export or erase one customer's data."""


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
@customers_cli.command("export")
@click.argument("customer_no")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the JSON to this file (created readable by its owner only) instead of printing it.")
def export_command(customer_no: str, out: Path | None) -> None:
    """Export everything held about one customer as JSON (their right of access and copy). Audited.

    Profile, every address and its history, orders, mail pieces with the printed address, returns,
    churn explanation, consent, notes, merges and the audit rows about them. Exit 1 for an unknown
    customer.
    """
    from mailer.customers.export import customer_record, find_customer, record_export

    with command_transaction() as session:
        customer = find_customer(session, customer_no=customer_no)
        if customer is None:
            click.echo(f"error: no customer {customer_no}", err=True)
            sys.exit(1)
        text = json.dumps(customer_record(session, customer=customer), ensure_ascii=False, indent=2)
        # Written before the audit row commits: a file that cannot be written is no export.
        if out is not None:
            with output_file(out) as handle:
                handle.write(text + "\n")
        record_export(session, customer=customer, actor=cli_actor(), form="json file" if out else "json")
    if out is None:
        click.echo(text)
    else:
        click.echo(f"wrote everything held about {customer_no} to {out}", err=True)


@customers_cli.command("erase")
@click.argument("customer_no")
@click.option("--yes", is_flag=True, help="Erase: without it, only say what would be erased.")
@click.option("--no-vacuum", is_flag=True,
              help="On SQLite, skip rebuilding the file (VACUUM) after the erasure; freed space is still zeroed.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as a JSON object.")
def erase_command(customer_no: str, yes: bool, no_vacuum: bool, as_json: bool) -> None:
    """Erase a customer's personal data everywhere, keeping orders and returns under a pseudonym.

    Name, phone, email, every address and its history, the printed address blocks of their mail
    pieces, notes and the audit details quoting them are overwritten beyond recovery; the customer
    is never mailed again. Pieces of batches that may still go to print are held. Likely duplicates
    of the person are listed, to be erased in turn. Irreversible: needs --yes. Exit 1 for an unknown
    or already erased customer, 2 without --yes.
    """
    from mailer.customers.erasure import erase_customer, likely_duplicates, purge_freed_space
    from mailer.customers.export import find_customer
    from mailer.db import db

    with command_transaction() as session:
        customer = find_customer(session, customer_no=customer_no)
        if customer is None or customer.erased_at is not None:
            click.echo(f"error: no customer {customer_no}" if customer is None
                       else f"error: customer {customer_no} was already erased", err=True)
            sys.exit(1)
        duplicates = likely_duplicates(session, customer=customer)
        if not yes:
            click.echo(f"error: erasing {customer_no} cannot be undone; run again with --yes", err=True)
            for duplicate in duplicates:
                click.echo(f"  likely the same person: {duplicate.customer_no} ({duplicate.why})", err=True)
            sys.exit(2)
        report = erase_customer(session, customer=customer, actor=cli_actor())
    purged = purge_freed_space(db.engine, vacuum=not no_vacuum)
    if not purged:
        click.echo("note: the database is in use, so its freed space is not rebuilt yet; "
                   "run VACUUM on it when the app is idle", err=True)
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "likely_duplicates": [
            {"customer_no": d.customer_no, "why": d.why} for d in duplicates]}, ensure_ascii=False))
        return
    click.echo(f"erased {customer_no}: now {report.pseudonym}; {report.addresses} addresses, {report.pieces} "
               f"pieces ({report.held_pieces} held from print), {report.audit_rows} audit rows scrubbed")
    for batch_id in report.rendered_batches:
        click.echo(f"  batch {batch_id} is rendered: pull the customer's held piece from its files before printing")
    for duplicate in duplicates:
        click.echo(f"  likely the same person: {duplicate.customer_no} ({duplicate.why}); "
                   f"erase with: customers erase {duplicate.customer_no} --yes")


@customers_cli.command("retention")
@click.option("--years", type=click.IntRange(1, 100),
              help="The limit in years (default: the PRIVACY_RETENTION_YEARS setting).")
@click.option("--dry-run", is_flag=True, help="Only count and name the customers the limit reaches.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as a JSON object.")
def retention_command(years: int | None, dry_run: bool, as_json: bool) -> None:
    """Erase customers with no order and no mail for N years (added before then), keeping their figures.

    Run with --dry-run first: it names who would be erased and changes nothing. Exit 2 when no
    limit is set.
    """
    from datetime import date

    from flask import current_app

    from mailer.cli import ProgressBar
    from mailer.customers.erasure import purge_freed_space
    from mailer.customers.retention import apply_retention
    from mailer.db import db

    limit = years or int(current_app.config.get("PRIVACY_RETENTION_YEARS") or 0)
    if not limit:
        click.echo("error: no retention limit: set PRIVACY_RETENTION_YEARS or give --years", err=True)
        sys.exit(2)
    bar = ProgressBar("Erasing customers past the limit")
    with command_transaction(commit=not dry_run, bar=bar) as session:
        report = apply_retention(session, years=limit, actor=cli_actor(), today=date.today(), dry_run=dry_run,
                                 progress=bar)
    if not dry_run and report.count:
        purge_freed_space(db.engine, vacuum=True)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    verb = "would erase" if dry_run else "erased"
    click.echo(f"{verb} {report.count} customers with no order and no mail since {report.cutoff.isoformat()}")
    for customer_no in report.customer_nos:
        click.echo(f"  {customer_no}")
    if report.count > len(report.customer_nos):
        click.echo(f"  … and {report.count - len(report.customer_nos)} more")
