"""``python -m mailer init`` and ``python -m mailer demo``: schema, admin login and demo data."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mailer.cli import ProgressBar, cli_actor, command_transaction, with_appcontext

if TYPE_CHECKING:
    from mailer.auth.service import AdminAccount

ADMIN_EMAIL = "admin@example.com"


def _ensure_secret_key() -> None:
    """Create the instance folder's secret key file unless a key is set or kept; use it from now on."""
    from flask import current_app

    from mailer.settings import SECRET_KEY_FILE, create_secret_key_file

    if current_app.config.get("SECRET_KEY"):
        return
    current_app.config["SECRET_KEY"] = create_secret_key_file(current_app.instance_path)
    click.echo(f"Secret key kept in {Path(current_app.instance_path) / SECRET_KEY_FILE} (readable by you only)")


def _migrate_and_ensure_admin(admin_email: str | None, admin_password: str | None) -> None:
    from flask import current_app

    from mailer.auth.service import UserError, ensure_admin
    from mailer.db import db
    from mailer.schema import upgrade_schema

    # An option given on the command line wins over the setting.
    admin_email = admin_email or current_app.config.get("ADMIN_EMAIL") or ADMIN_EMAIL
    if admin_password is None:
        admin_password = current_app.config.get("ADMIN_PASSWORD")
    _ensure_secret_key()

    # Alembic runs the migrations in a transaction of its own on this connection.
    with db.engine.begin() as connection:
        upgrade_schema(connection)
    with command_transaction(refused=UserError, exit_code=2) as session:
        account = ensure_admin(session, email=admin_email, password=admin_password, actor=cli_actor())
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")
    click.echo(_admin_login_line(account, given=admin_password is not None))


def _admin_login_line(account: AdminAccount, *, given: bool) -> str:
    """Say how to log in; a given password is never printed back."""
    from mailer.auth.models import Role

    user = account.user
    if not account.created:
        role = "" if user.role is Role.ADMIN else f", role {user.role.value}"
        ignored = "; the given password was not applied" if given else ""
        return f"Admin login: {user.email} (existing user{role}; password unchanged{ignored})"
    if account.generated_password:
        return f"Admin login: {user.email} / {account.generated_password}"
    return f"Admin login: {user.email} (new admin user; password as given)"


admin_email_option = click.option(
    "--admin-email", default=None,
    help=f"Email of the admin user (default: the setting MAILER_ADMIN_EMAIL, else {ADMIN_EMAIL}).",
)
admin_password_option = click.option(
    "--admin-password", default=None,
    help="Password for a new admin (default: the setting MAILER_ADMIN_PASSWORD); generated and printed if neither.",
)


def _render_demo_batches(folder: Path) -> None:
    from mailer.batches.jobs import render_settings
    from mailer.batches.rendering import finish_render, prepare_render, render_files_locally
    from mailer.batches.selection import BatchFilters, create_batch

    for profile in ("cn-dl", "us-10"):
        with command_transaction() as session:
            batch = create_batch(
                session, campaign_name="Demo catalog", profile=profile, filters=BatchFilters(), actor=cli_actor()
            )
        out = folder / f"batch-{batch.id}-{profile}"
        settings = render_settings(out)
        # The worker processes read the plan through their own connections: it is committed first.
        with command_transaction() as session:
            pending = prepare_render(
                # The demo's links point at the local server on purpose.
                session, batch_id=batch.id, settings=settings, hold_unfit=True, allow_test_links=True,
                actor=cli_actor(),
            )
        render_files_locally(settings, [f.id for f in pending], workers=os.cpu_count() or 1)
        with command_transaction() as session:
            manifest = finish_render(session, batch_id=batch.id, out_dir=out)
        click.echo(f"Demo batch {batch.id} ({profile}, {batch.piece_count} pieces) rendered to {manifest.parent}")


@click.command("init")
@with_appcontext
@admin_email_option
@admin_password_option
def init_command(admin_email: str | None, admin_password: str | None) -> None:
    """Create or migrate the schema and make sure an admin user exists."""
    _migrate_and_ensure_admin(admin_email, admin_password)


@click.command("demo")
@with_appcontext
@click.option("--customers", "customer_count", default=3000, show_default=True,
              help="How many demo customers to generate.")
@click.option("--seed", default=2027, show_default=True, help="Seed of the generated data.")
@admin_email_option
@admin_password_option
def demo_command(customer_count: int, seed: int, admin_email: str | None, admin_password: str | None) -> None:
    """Set up the database, load generated customers in China and the US with orders, and render demo batches."""
    from flask import current_app

    from mailer.churn.service import refresh_churn
    from mailer.customers.importing import CUSTOMER_COLUMNS, import_customers
    from mailer.demo.generate import generate_customers, generate_orders, write_csv
    from mailer.orders.importing import ORDER_COLUMNS, import_orders

    _migrate_and_ensure_admin(admin_email, admin_password)
    folder = Path(current_app.instance_path) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    customers_file = folder / "customers.csv"
    orders_file = folder / "orders.csv"
    customers = list(generate_customers(customer_count, seed=seed))
    write_csv(customers, customers_file, columns=CUSTOMER_COLUMNS)
    write_csv(
        generate_orders([c["customer_no"] for c in customers], as_of=date.today(), seed=seed),
        orders_file,
        columns=ORDER_COLUMNS,
    )
    # Each step is stored before the next begins: the customers and orders, their churn scores,
    # then each demo batch.
    with command_transaction() as session:
        for service, path, label in (
            (import_customers, customers_file, "Importing demo customers"),
            (import_orders, orders_file, "Importing demo orders"),
        ):
            bar = ProgressBar(label)
            report = service(session, path=path, actor=cli_actor(), progress=bar)
            bar.close()
            click.echo(
                f"{path.name}: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {len(report.rejected)} rejected"
            )
    click.echo(f"Demo data loaded from {folder}.")
    with command_transaction() as session:
        churn = refresh_churn(
            session, as_of=date.today(), actor=cli_actor(), horizon_days=int(current_app.config["CHURN_HORIZON_DAYS"]),
            currency=str(current_app.config["CURRENCY"]),
        )
    click.echo(
        f"Churn risk (chance of no order within {churn.horizon_days} days) scored for {churn.scored} customers "
        f"({churn.from_prior + churn.without_orders} from the stated prior)."
    )
    _render_demo_batches(folder / "batches")
    click.echo(f"Look a customer up: python -m mailer customers show {customers[0]['customer_no']}")
