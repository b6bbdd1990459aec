"""``python -m mailer users ...``: staff accounts from the command line."""

from __future__ import annotations

import sys

import click

from mailer.cli import AppGroup, cli_actor, command_transaction

# The values of mailer.auth.models.Role, written here so that --help needs no model (a test keeps
# them equal).
ROLES = ("admin", "marketing", "mailroom")


@click.group("users", cls=AppGroup)
def users_cli() -> None:
    """Create staff users and reset their passwords."""


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may see and do.")
@click.option("--password", default=None, help="The password; generated and printed if not given.")
def create_command(email: str, role: str, password: str | None) -> None:
    """Create a staff user who logs in with EMAIL. Exit status 2 if the user cannot be created."""
    from mailer.auth.models import Role
    from mailer.auth.service import UserError, create_user, generate_password

    generated = None
    if password is None:
        password = generated = generate_password()
    with command_transaction(refused=UserError, exit_code=2) as session:
        user = create_user(session, email=email, password=password, role=Role(role), actor=cli_actor())
    click.echo(f"Created {user.role.value} user {user.email}")
    if generated:
        click.echo(f"Password: {generated}")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password", default=None, help="The new password; generated and printed if not given.")
def set_password_command(email: str, password: str | None) -> None:
    """Give the user EMAIL a new password. Exit status 2 if there is no such user or the password is refused."""
    from mailer.auth.service import UserError, find_user, generate_password, set_password

    generated = None
    if password is None:
        password = generated = generate_password()
    with command_transaction(refused=UserError, exit_code=2, outcome="the password is unchanged") as session:
        user = find_user(session, email=email)
        if user is None:
            click.echo(f"error: there is no user {email.strip().lower()}", err=True)
            sys.exit(2)
        set_password(session, user=user, password=password, actor=cli_actor())
    click.echo(f"New password set for {user.email}")
    if generated:
        click.echo(f"Password: {generated}")
