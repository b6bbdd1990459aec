"""``python -m mailer returns ...``: postal returns files, and staff logging, clearing and confirming."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from mailer.cli import AppGroup, cli_actor, command_transaction, run_import


def _window_days() -> int:
    from flask import current_app

    from returns.service import DEFAULT_SOFT_RETURN_WINDOW_DAYS

    return int(current_app.config.get("SOFT_RETURN_WINDOW_DAYS", DEFAULT_SOFT_RETURN_WINDOW_DAYS))


@click.group("returns", cls=AppGroup)
def returns_cli() -> None:
    """Record returned mail: postal files, and returns logged by hand."""


@returns_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as a JSON object.")
def import_command(path: Path, as_json: bool) -> None:
    """Import a returns file: piece_code, reason, returned_at, and new_* address columns for moves.

    \b
    UTF-8 CSV with a header row: piece_code, reason (our code, USPS ACS
    letter or Chinese label), returned_at (YYYY-MM-DD or ISO date-time);
    optional new_line1, new_line2, new_city, new_region, new_postal_code,
    new_country give the forwarding address of a MOVED return.

    Bad rows go to FILE.rejects.csv with their row number and reason; the
    good rows are applied in one transaction. Rows already recorded count as
    unchanged, so importing a file again changes nothing.

    Exit codes: 0 every row applied; 1 some rows rejected; 2 the file cannot
    be used (nothing stored).
    """
    from returns.importing import import_returns

    service = functools.partial(import_returns, window_days=_window_days())
    run_import(service, path, label="Importing returns", as_json=as_json)


@returns_cli.command("log")
@click.argument("piece_code")
@click.argument("reason")
@click.option("--returned-at", help="When it came back (YYYY-MM-DD or ISO date-time); default now.")
@click.option("--keep-address", is_flag=True, help="Record the return without changing the address.")
@click.option("--note", help="Why, for the history.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as a JSON object.")
def log_command(
    piece_code: str, reason: str, returned_at: str | None, keep_address: bool, note: str | None, as_json: bool
) -> None:
    """Record one returned piece by hand (REASON: our code, USPS letter or Chinese label)."""
    from returns.models import ReturnSource
    from returns.service import ReturnError, parse_returned_at, record_return

    with command_transaction(refused=ReturnError, exit_code=1) as session:
        outcome = record_return(
            session, piece_code=piece_code, reason=reason, source=ReturnSource.STAFF, actor=cli_actor(),
            returned_at=parse_returned_at(returned_at) if returned_at else None, change_address=not keep_address,
            note=note, window_days=_window_days(),
        )
    click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False) if as_json else outcome.message)


@returns_cli.command("clear")
@click.argument("customer_no")
@click.option("--note", required=True, help="Why the flag is wrong (kept in the history).")
def clear_command(customer_no: str, note: str) -> None:
    """Clear a wrong suspect/undeliverable flag on a customer's current address."""
    from returns.service import ReturnError, clear_flag, current_address_id

    with command_transaction(refused=ReturnError, exit_code=1) as session:
        change = clear_flag(
            session, address_id=current_address_id(session, customer_no=customer_no), note=note, actor=cli_actor()
        )
    click.echo(f"{customer_no}: address {change.previous.value} → {change.validity.value}")


@returns_cli.command("confirm")
@click.argument("customer_no")
@click.option("--via", type=click.Choice(["customer", "order", "staff"]), default="staff", show_default=True,
              help="Who confirmed: the customer, a delivered order, or staff.")
def confirm_command(customer_no: str, via: str) -> None:
    """Mark a customer's current address deliverable."""
    from mailer.addresses.models import ChangeSource
    from returns.service import ReturnError, confirm_address, current_address_id

    with command_transaction(refused=ReturnError, exit_code=1) as session:
        change = confirm_address(
            session, address_id=current_address_id(session, customer_no=customer_no), via=ChangeSource(via),
            actor=cli_actor(),
        )
    click.echo(f"{customer_no}: address {change.previous.value} → {change.validity.value}")


@returns_cli.command("reasons")
def reasons_command() -> None:
    """List the return reasons: code, USPS letters, labels and effects."""
    from returns.catalog import REASONS

    for reason in REASONS.values():
        usps = "/".join(reason.usps_codes) or "-"
        click.echo(
            f"{reason.code:6} {usps:4} {reason.label_zh}\t{reason.label_en}: address {reason.address_effect.value}, "
            f"customer {reason.customer_effect.value}, churn ×{reason.churn_weight:g}"
        )
