"""``python -m mailer users ...``: staff accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from mailer.auth.models import Role
from mailer.auth.service import UserError, create_user, generate_password
from mailer.cli import cli_actor
from mailer.db import db


@click.group("users", cls=AppGroup)
def users_cli() -> None:
    """Create staff users."""


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role", required=True, type=click.Choice([role.value for role in Role]),
    help="What the user may see and do.",
)
@click.option("--password", default=None, help="The password; generated and printed if not given.")
def create_command(email: str, role: str, password: str | None) -> None:
    """Create a staff user who logs in with EMAIL. Exit status 2 if the user cannot be created."""
    generated = None
    if password is None:
        password = generated = generate_password()
    session = db.session
    try:
        user = create_user(session, email=email, password=password, role=Role(role), actor=cli_actor())
    except UserError as exc:
        session.rollback()
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    session.commit()
    click.echo(f"Created {user.role.value} user {user.email}")
    if generated:
        click.echo(f"Password: {generated}")
