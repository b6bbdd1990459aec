"""The command line, ``python -m mailer COMMAND``: a thin layer over the services the web uses."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO

import click
from flask import Flask
from flask.cli import FlaskGroup
from psycopg import errors as pg_errors
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from mailer.db import db
from mailer.imports import ImportReport, UnusableFile

NO_SCHEMA = "the database has no tables yet: run python -m mailer init first"


class UnusableInput(click.ClickException):
    """What the command was given cannot be used at all: exit code 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        # Worded like every other refusal of the command line, not click's "Error: ...".
        click.echo(f"error: {self.format_message()}", file=file, err=file is None)


def cli_actor() -> str:
    """Name the person running a command, for history and audit rows."""
    return f"cli:{getpass.getuser()}"


class ProgressBar:
    """A terminal progress bar fed by a service's progress callback; silent when not on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, advance: int, total: int) -> None:
        if self.bar is None:
            if not sys.stderr.isatty():
                return
            self.bar = click.progressbar(
                length=total, label=self.label, file=sys.stderr, update_min_steps=max(1, total // 200)
            )
        self.bar.update(advance)

    def close(self) -> None:
        """Finish the bar's line."""
        if self.bar is not None:
            self.bar.render_finish()


@contextmanager
def command_transaction(
    *, refused: type[Exception], exit_code: int, outcome: str, bar: ProgressBar | None = None
) -> Iterator[Session]:
    """Run a command's work in one transaction: commit on success; on ``refused``, roll back and exit.

    ``outcome`` ends the error line ("nothing was stored"); any other error rolls back and propagates.
    """
    session: Session = db.session
    try:
        yield session
    except refused as exc:
        session.rollback()
        if bar is not None:
            bar.close()
        click.echo(f"error: {exc}; {outcome}", err=True)
        sys.exit(exit_code)
    except BaseException:
        session.rollback()
        raise
    session.commit()
    if bar is not None:
        bar.close()


@contextmanager
def output_file(path: Path) -> Iterator[TextIO]:
    """Open a file a command writes (UTF-8, CSV line endings); refuse a path that cannot be written."""
    try:
        handle = path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        # A missing folder, a folder given for a file, no permission: say which path, not a traceback.
        raise UnusableInput(f"cannot write {path}: {exc.strerror or exc}") from None
    with handle:
        yield handle


def run_import(
    service: Callable[..., ImportReport], path: Path, *, label: str, as_json: bool
) -> None:
    """Run an import service in one transaction and exit 0, 1 (rows rejected) or 2 (file unusable)."""
    bar = ProgressBar(label)
    with command_transaction(refused=UnusableFile, exit_code=2, outcome="nothing was stored", bar=bar) as session:
        report = service(session, path=path, actor=cli_actor(), progress=bar)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        click.echo(
            f"{path.name}: {report.total} rows: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.rejected)} rejected"
        )
        for rejection in report.rejected[:10]:
            click.echo(f"  row {rejection.row}: {rejection.reason}", err=True)
        if len(report.rejected) > 10:
            click.echo(f"  … and {len(report.rejected) - 10} more", err=True)
        if report.rejects_path:
            click.echo(f"rejected rows written to {report.rejects_path}", err=True)
    sys.exit(report.exit_code)


def register_commands(app: Flask) -> None:
    """Attach every command group to the app's CLI."""
    from mailer.auth.cli import users_cli
    from mailer.batches.cli import batch_cli
    from mailer.churn.cli import churn_cli
    from mailer.customers.cli import customers_cli
    from mailer.dedupe.cli import dedupe_cli
    from mailer.orders.cli import orders_cli
    from mailer.setup_cli import demo_command, init_command
    from returns.cli import returns_cli

    for command in (
        init_command,
        demo_command,
        customers_cli,
        orders_cli,
        batch_cli,
        churn_cli,
        users_cli,
        dedupe_cli,
        returns_cli,
    ):
        app.cli.add_command(command)


def create_cli_app() -> Flask:
    """Build the app for the command line."""
    from mailer import create_app

    return create_app()


def is_missing_table(error: DBAPIError) -> bool:
    """Tell whether a database error says a table does not exist, as before ``init`` built the schema."""
    if isinstance(error, OperationalError):
        # SQLite gives no error code for it; its wording is stable.
        return str(error.orig).startswith("no such table")
    if isinstance(error, ProgrammingError):
        return isinstance(error.orig, pg_errors.UndefinedTable)
    return False


class MailerGroup(FlaskGroup):
    """The command line's group: a command that finds no schema says to run ``init`` instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            if not is_missing_table(exc):
                raise
            click.echo(f"error: {NO_SCHEMA}", err=True)
            ctx.exit(2)


cli = MailerGroup(
    create_app=create_cli_app,
    help="mailer: catalog batches, returned mail and address lifecycle.",
)


def main() -> None:
    """Run the command line."""
    cli.main(prog_name="python -m mailer")
