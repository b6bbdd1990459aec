"""The ``churn`` command group: fit the model on a file, refresh every customer's risk, the retention list."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mailer.cli import AppGroup, ProgressBar, UnusableInput, cli_actor, command_transaction, output_file

if TYPE_CHECKING:
    from mailer.churn.backtest import Backtest
    from mailer.churn.retention import RetentionRow
    from mailer.churn.service import RefreshReport

# What --help shows, written here so that it needs neither numpy nor scipy (a test keeps them equal
# to mailer.churn.bgnbd.TimeUnit and mailer.churn.evidence.DEFAULT_HALF_LIFE_DAYS).
TIME_UNITS = ("day", "week")
DEFAULT_TIME_UNIT = "week"
DEFAULT_HALF_LIFE_DAYS = 365.0
DEFAULT_HORIZON_DAYS = 365
# A file whose last order is more than this many days before the holdout's end has not followed the
# customers through the holdout: their silence at its end would count as churn.
HOLDOUT_COVERAGE_SLACK_DAYS = 7


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that refuses nan and infinity: nan passes every bound, as no comparison holds for it."""

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        # click types the value as a float, but from the command line it comes as text.
        number = super().convert(value, param, ctx)  # type: ignore[arg-type]
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


unit_option = click.option(
    "--unit",
    type=click.Choice(TIME_UNITS),
    default=DEFAULT_TIME_UNIT,
    show_default=True,
    help="Time unit for recency, age and alpha.",
)


@click.group("churn", cls=AppGroup)
def churn_cli() -> None:
    """Fit and score the churn model; list the customers to win back."""


@churn_cli.command("fit", with_appcontext=False)
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
@unit_option
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
    from mailer.churn import bgnbd
    from mailer.churn.bgnbd import TimeUnit
    from mailer.churn.orders_file import OrdersFileError, read_orders_csv

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


@churn_cli.command("backtest", with_appcontext=False)
@click.option(
    "--orders",
    "orders_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Orders CSV (or .csv.gz): customer_no, order_date, amount.",
)
@click.option(
    "--calibration-end",
    "calibration_end",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Fit on the orders up to this day; the holdout is the horizon after it.",
)
@click.option(
    "--horizon-days",
    type=click.IntRange(min=1, max=3650),
    default=DEFAULT_HORIZON_DAYS,
    show_default=True,
    help="Churn risk is the chance of no purchase within this many days.",
)
@unit_option
@click.option("--json", "as_json", is_flag=True, help="Print the backtest as a JSON object.")
def backtest_command(
    orders_path: Path, calibration_end: datetime, horizon_days: int, unit: str, as_json: bool
) -> None:
    """Check how well the churn risk predicts on an orders file.

    \b
    Fits the purchase model on the orders up to --calibration-end, gives
    every customer who had bought by then a churn risk (the chance of no
    purchase within --horizon-days) and compares it with what the holdout
    orders show: AUC, Brier score, the base rate and calibration by decile,
    beside baselines of the same run (recency alone, frequency alone,
    BG/NBD 1 - P(alive), the other purchase model). The file must reach to
    the holdout's end. The database is neither read nor written.

    Exit codes: 0 done; 2 the file or its data cannot be used.
    """
    from mailer.churn.backtest import BacktestError, run_backtest
    from mailer.churn.bgnbd import TimeUnit
    from mailer.churn.orders_file import OrdersFileError, read_orders_csv

    end_day = (calibration_end.date() - date(1970, 1, 1)).days
    try:
        orders = read_orders_csv(orders_path)
    except OrdersFileError as error:
        raise UnusableInput(f"{orders_path}: {error}") from None
    holdout_end = end_day + horizon_days
    last_day = int(orders.order_days.max()) if orders.n_orders else end_day
    if last_day < holdout_end - HOLDOUT_COVERAGE_SLACK_DAYS:
        raise UnusableInput(
            f"{orders_path}: the last order is dated {date(1970, 1, 1) + timedelta(days=last_day)}, but the holdout "
            f"runs to {date(1970, 1, 1) + timedelta(days=holdout_end)}: give an earlier --calibration-end "
            "or a shorter --horizon-days"
        )
    try:
        result = run_backtest(
            orders.customer_nos, orders.order_days, calibration_end_day=end_day, horizon_days=horizon_days,
            unit=TimeUnit(unit),
        )
    except BacktestError as error:
        raise UnusableInput(f"{orders_path}: {error}") from None
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    for line in backtest_lines(result):
        click.echo(line)


def backtest_lines(result: Backtest) -> list[str]:
    """Return a backtest as the command prints it: figures, baselines, calibration table."""
    data = result.as_dict()
    risk_brier = result.risk.brier or 0.0
    lines = [
        f"Backtest: fitted on orders to {data['calibration_end']}, churn = no purchase in the next "
        f"{result.horizon_days} days; {result.customers:,} customers, base rate {result.base_rate:.1%}.",
        f"Churn risk ({result.model.value}): AUC {result.risk.auc:.3f}, Brier {risk_brier:.4f} "
        f"(base rate's Brier {result.base_rate_brier:.4f}, ratio {risk_brier / result.base_rate_brier:.2f}).",
        f"Repeat purchase days in the holdout: {result.expected_purchases:,.0f} expected, "
        f"{result.observed_purchases:,} observed.",
        "Baselines in the same run:",
    ]
    for score in result.baselines:
        brier = "" if score.brier is None else f", Brier {score.brier:.4f}"
        lines.append(f"  {score.name:<24} AUC {score.auc:.3f}{brier}")
    lines.append("Calibration by decile of the risk (predicted against observed share of no purchase):")
    lines.append(f"  {'decile':>6} {'customers':>9} {'predicted':>9} {'observed':>8} {'gap':>6}")
    for part in result.calibration:
        lines.append(
            f"  {part.decile:>6} {part.customers:>9,} {part.predicted:>9.3f} {part.observed:>8.3f} {part.gap:>+6.3f}"
        )
    worst = result.worst_bin
    lines.append(f"Worst gap: decile {worst.decile}, {worst.gap:+.3f}.")
    return lines


@churn_cli.command("refresh")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Score as of this day; later orders, returns and updates are ignored.  [default: today]",
)
@unit_option
@click.option(
    "--half-life-days",
    type=FiniteFloatRange(min=0, min_open=True),
    default=DEFAULT_HALF_LIFE_DAYS,
    show_default=True,
    help="Days after which a piece of evidence has half its effect on the odds of churn.",
)
@click.option(
    "--horizon-days",
    type=click.IntRange(min=1, max=3650),
    help="Churn risk is the chance of no order within this many days.  [default: CHURN_HORIZON_DAYS, 365]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as a JSON object.")
def refresh_command(
    as_of: datetime | None, unit: str, half_life_days: float, horizon_days: int | None, as_json: bool
) -> None:
    """Fit the model on the stored orders and rescore every customer.

    \b
    Each customer's risk is the chance of no order within the horizon
    after the as-of day, from the MBG/NBD purchase model (the stated prior
    for customers without orders), moved by dated evidence: current
    returned mail, weighted by its reason in the catalog, and the
    customer's own address updates, each fading with the half-life. A
    deceased customer scores 100%. Every risk is stored with its
    explanation; a merged customer's history counts for the customer it
    was merged into, and the merged record keeps no risk of its own.

    Exit codes: 0 scored; 1 the fit did not converge (nothing written).
    """
    from flask import current_app

    from mailer.churn.bgnbd import TimeUnit
    from mailer.churn.service import FitDidNotConverge, refresh_churn

    horizon = horizon_days if horizon_days is not None else int(current_app.config["CHURN_HORIZON_DAYS"])

    bar = ProgressBar("Refreshing churn risk")
    with command_transaction(refused=FitDidNotConverge, exit_code=1, outcome="nothing was written", bar=bar) as session:
        report = refresh_churn(
            session,
            as_of=as_of.date() if as_of else date.today(),
            actor=cli_actor(),
            unit=TimeUnit(unit),
            half_life_days=half_life_days,
            horizon_days=horizon,
            currency=str(current_app.config["CURRENCY"]),
            progress=bar,
        )
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    for line in _refresh_summary(report):
        click.echo(line)


def _refresh_summary(report: RefreshReport) -> list[str]:
    from mailer.churn.service import HIGH_RISK, MIN_REPEAT_CUSTOMERS

    lines = [
        f"Scored {report.scored:,} customers as of {report.as_of}: churn risk = chance of no order within "
        f"{report.horizon_days} days; {report.from_model:,} by the model, {report.from_prior:,} with orders on the "
        f"stated prior (no model fitted), {report.without_orders:,} without orders (stated prior)."
    ]
    fit = report.fit
    if fit is None:
        lines.append(
            f"Fewer than {MIN_REPEAT_CUSTOMERS} customers have a repeat purchase: no model was fitted, "
            "everyone has the stated prior."
        )
    else:
        p = fit.params
        lines.append(
            f"MBG/NBD on {fit.n_customers:,} customers ({report.orders_used:,} orders, time unit {report.unit}): "
            f"r={p.r:.4f} alpha={p.alpha:.4f} a={p.a:.4f} b={p.b:.4f}, log-likelihood {fit.log_likelihood:.2f}."
        )
    returns = sum(report.returns_used.values())
    lines.append(
        f"Evidence for {report.with_evidence:,} customers: {returns:,} returns, {report.self_updates:,} "
        f"self-service address updates (half-life {report.half_life_days:g} days)."
    )
    if report.evidence_after_as_of or report.orders_after_as_of:
        lines.append(
            f"Ignored, dated after {report.as_of}: {report.orders_after_as_of:,} orders, "
            f"{report.evidence_after_as_of:,} pieces of evidence."
        )
    if report.unknown_reasons:
        lines.append(f"Skipped {report.unknown_reasons:,} returns with a reason not in the catalog.")
    if report.backtest is not None:
        test = report.backtest
        best = test.best_baseline
        lines.append(
            f"Backtest on the stored orders (fitted to {test.as_dict()['calibration_end']}, the next "
            f"{test.horizon_days} days held out, {test.customers:,} customers): AUC {test.risk.auc:.3f} "
            f"(best baseline, {best.name}: {best.auc:.3f}), Brier {test.risk.brier or 0:.4f} "
            f"(base rate's {test.base_rate_brier:.4f}), worst decile gap {test.worst_bin.gap:+.3f}."
        )
    elif report.backtest_note:
        lines.append(f"Backtest: {report.backtest_note}.")
    lines.append(
        f"Deceased: {report.deceased:,} (risk 100%). Merged, not scored: {report.merged:,}. "
        f"High risk ({HIGH_RISK:.0%} or more): {report.high_risk:,}."
    )
    return lines


@churn_cli.command("list")
@click.option(
    "--min-risk",
    type=FiniteFloatRange(0, 1),
    default=0.7,
    show_default=True,
    help="List customers with at least this churn risk (0 to 1).",
)
@click.option("--limit", type=click.IntRange(min=0), help="List at most this many customers.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the list to this CSV file (UTF-8) instead of printing it; the export is audited.",
)
@click.option("--exclude-do-not-mail", is_flag=True, help="Leave out do-not-mail customers.")
def list_command(min_risk: float, limit: int | None, csv_path: Path | None, exclude_do_not_mail: bool) -> None:
    """List the customers to win back: churn risk at least --min-risk, most spend at stake first.

    \b
    Ordered by churn risk x expected spend as the last refresh stored it.
    Columns: customer_no, name, recency_days (since the last order),
    frequency (purchase days), monetary (total spend; frequency and
    monetary as of the last refresh), churn_risk (the chance of no order
    within churn_horizon_days), expected_spend (within the horizon),
    value_at_risk (churn_risk x expected_spend), currency (of every amount:
    the refresh's, MAILER_CURRENCY), top_reason (what raised the risk most:
    a piece of evidence, or the model or prior), address_validity and
    status.

    Active and do-not-mail customers are listed: do-not-mail customers
    cannot be sent a catalog but may be called or emailed, so they are
    shown with their status (--exclude-do-not-mail leaves them out).
    Deceased and merged customers are never listed. Customers not scored
    yet are not listed: run `churn refresh` first.
    """
    from mailer.churn.retention import RetentionFilters, export_retention_csv, last_run, retention_list
    from mailer.db import db

    session = db.session
    if csv_path is None:
        rows = retention_list(session, min_risk=min_risk, limit=limit, include_do_not_mail=not exclude_do_not_mail)
        count = _print_rows(rows)
        run = last_run(session)
        meaning = (
            "" if run is None else f" (chance of no order within {run.horizon_days} days; amounts in {run.currency})"
        )
        click.echo(f"{count:,} customers with churn risk at least {min_risk:.0%}{meaning}.", err=True)
        return
    filters = RetentionFilters(min_risk=min_risk, include_do_not_mail=not exclude_do_not_mail)
    # A path that cannot be written is refused (exit 2) before anything is read or audited.
    with (
        command_transaction(refused=UnusableInput, exit_code=2, outcome="nothing was exported") as session,
        output_file(csv_path) as handle,
    ):
        export = export_retention_csv(
            session, filters=filters, actor=cli_actor(), file_name=csv_path.name, limit=limit
        )
        handle.writelines(export.chunks)
    click.echo(f"Wrote {export.rows:,} customers to {csv_path}.")


def _print_rows(rows: Iterable[RetentionRow]) -> int:
    from mailer.churn.wording import format_risk

    header = f"{'customer_no':<12} {'name':<24} {'recency':>7} {'freq':>4} {'monetary':>11} {'expected':>11} " + (
        f"{'risk':>9}  {'validity':<13} {'status':<11} top_reason"
    )
    click.echo(header)
    count = 0
    for row in rows:
        recency = "" if row.recency_days is None else str(row.recency_days)
        validity = "" if row.address_validity is None else row.address_validity.value
        click.echo(
            f"{row.customer_no:<12} {row.name[:24]:<24} {recency:>7} {row.frequency:>4} {row.monetary:>11,.2f} "
            f"{row.expected_spend:>11,.2f} {format_risk(row.churn_risk):>9}  {validity:<13} {row.status.value:<11} "
            f"{row.top_reason}"
        )
        count += 1
    return count
