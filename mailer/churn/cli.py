"""The ``churn`` command group: fit the purchase model on an orders file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from mailer.churn import bgnbd
from mailer.churn.bgnbd import TimeUnit
from mailer.churn.orders_file import OrdersFileError, read_orders_csv


class UnusableInput(click.ClickException):
    """The input cannot be used at all: exit code 2."""

    exit_code = 2


@click.group("churn")
def churn_cli() -> None:
    """Fit and score the churn model."""


@churn_cli.command("fit")
@click.option(
    "--orders",
    "orders_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Orders CSV: customer_no, order_date, amount.",
)
@click.option(
    "--as-of",
    "as_of",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Fit as of this day (YYYY-MM-DD); later orders are ignored.",
)
@click.option(
    "--unit",
    type=click.Choice([unit.value for unit in TimeUnit]),
    default=TimeUnit.WEEK.value,
    show_default=True,
    help="Time unit for recency, age and alpha.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object: r, alpha, a, b, log_likelihood.")
def fit_command(orders_path: Path, as_of: datetime, unit: str, as_json: bool) -> None:
    """Fit the BG/NBD model on an orders file and print its parameters.

    \b
    The file is UTF-8 CSV (a byte-order mark is fine) with a header row
    naming customer_no, order_date (YYYY-MM-DD) and amount; other columns
    are ignored. Several orders on one day count as one purchase day.

    A bad row stops the whole fit with its row number and field (the header
    is row 1): fix the file rather than fit on a silently filtered one.
    Orders dated after --as-of are ignored and counted. The database is
    neither read nor written.

    Exit codes: 0 fitted; 1 the optimizer did not converge; 2 the file or
    its data cannot be used.
    """
    time_unit = TimeUnit(unit)
    as_of_day = as_of.date()
    try:
        orders = read_orders_csv(orders_path)
    except OrdersFileError as error:
        raise UnusableInput(f"{orders_path}: {error}") from None

    summary = bgnbd.summarize_orders(orders.customer_nos, orders.order_days, as_of=as_of_day, unit=time_unit)
    ignored = summary.orders_after_as_of
    if ignored:
        # With --json, stdout carries only the object.
        click.echo(f"Ignored {ignored:,} order{'' if ignored == 1 else 's'} dated after {as_of_day}.", err=as_json)
    if summary.n_customers == 0:
        raise UnusableInput(f"{orders_path}: no orders on or before {as_of_day}")
    try:
        result = bgnbd.fit(summary.x, summary.t_x, summary.T)
    except ValueError as error:
        raise UnusableInput(f"{orders_path}: {error}") from None

    params = result.params
    if as_json:
        click.echo(
            json.dumps(
                {
                    "r": params.r,
                    "alpha": params.alpha,
                    "a": params.a,
                    "b": params.b,
                    "log_likelihood": result.log_likelihood,
                }
            )
        )
    else:
        click.echo(
            f"BG/NBD fit on {summary.n_customers:,} customers "
            f"({summary.orders_used:,} orders on or before {as_of_day}), time unit: {time_unit}"
        )
        click.echo(f"  r               {params.r:.4f}")
        click.echo(f"  alpha           {params.alpha:.4f}  ({time_unit}s)")
        click.echo(f"  a               {params.a:.4f}")
        click.echo(f"  b               {params.b:.4f}")
        click.echo(f"  log-likelihood  {result.log_likelihood:.2f}")
    if not result.converged:
        click.echo(f"The fit did not converge: {result.message}", err=True)
        raise click.exceptions.Exit(1)
