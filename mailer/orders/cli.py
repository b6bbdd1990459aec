"""``python -m mailer orders ...``"""

from __future__ import annotations

from pathlib import Path

import click

from mailer.cli import AppGroup, run_import


@click.group("orders", cls=AppGroup)
def orders_cli() -> None:
    """Import orders."""


@orders_cli.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as a JSON object.")
def import_command(file: Path, as_json: bool) -> None:
    """Import an order CSV (customer_no, order_date, amount).

    Orders of unknown customers, bad dates and bad amounts go to FILE's .rejects.csv with row number
    and reason; an order already stored (same customer, date and amount) is counted as unchanged.
    Exit status: 0 all rows stored, 1 some rejected, 2 the file cannot be used (nothing stored).
    """
    from mailer.orders.importing import import_orders

    run_import(import_orders, file, label="Importing orders", as_json=as_json)
