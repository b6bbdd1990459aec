"""The command line, ``python -m mailer COMMAND``: a thin layer over the services the web uses.

Listing and explaining the commands imports only click and the small command modules; a command
imports Flask and the services it needs, and the app is built, only when it runs. Every command
writes through ``command_transaction``, the command line's one transaction boundary.
"""

from __future__ import annotations

import getpass
import importlib
import json
import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import update_wrapper
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO, TypeVar

import click

from mailer.version import __version__

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import Session

    from mailer.imports import ImportReport

NO_SCHEMA = "the database has no tables yet: run python -m mailer init first"

# Where each command lives, as "module:attribute": a module is imported only when its command is
# listed or run.
COMMANDS: Mapping[str, str] = {
    "init": "mailer.setup_cli:init_command",
    "demo": "mailer.setup_cli:demo_command",
    "customers": "mailer.customers.cli:customers_cli",
    "orders": "mailer.orders.cli:orders_cli",
    "batch": "mailer.batches.cli:batch_cli",
    "churn": "mailer.churn.cli:churn_cli",
    "dedupe": "mailer.dedupe.cli:dedupe_cli",
    "reference": "mailer.reference.cli:reference_cli",
    "returns": "returns.cli:returns_cli",
    "users": "mailer.auth.cli:users_cli",
    "backup": "mailer.backup.cli:backup_command",
    "restore": "mailer.backup.cli:restore_command",
    "run": "mailer.cli:run_command",
}

F = TypeVar("F", bound=Callable[..., Any])


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


def provide_app(ctx: click.Context) -> None:
    """Give Flask's CLI the ScriptInfo it loads the app from: mailer's app, unless a test runner gave its own."""
    from flask.cli import ScriptInfo

    if ctx.find_object(ScriptInfo) is None:
        ctx.find_root().obj = ScriptInfo(create_app=create_cli_app)


def with_appcontext(f: F) -> F:
    """Run a command in the app's context, as Flask's ``with_appcontext``, importing Flask only when it runs."""

    @click.pass_context
    def run_in_app_context(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        from flask.cli import with_appcontext as flask_with_appcontext

        provide_app(ctx)
        return ctx.invoke(flask_with_appcontext(f), *args, **kwargs)

    # typeshed types update_wrapper's result as its own wrapper type, not as the function it stands in for.
    return update_wrapper(run_in_app_context, f)  # type: ignore[return-value]


class AppGroup(click.Group):
    """A group whose commands run in the app's context, as Flask's ``AppGroup``, without importing Flask."""

    # Only the called form, @group.command(...), of click's overloaded command().
    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:  # type: ignore[override]
        """Declare a command as click does; it runs in the app's context unless ``with_appcontext=False``."""
        in_app_context = kwargs.pop("with_appcontext", True)

        def decorator(f: Callable[..., Any]) -> click.Command:
            # Called with its options, click's command() returns the decorator that makes the command.
            declare: Callable[[Callable[..., Any]], click.Command] = super(AppGroup, self).command(*args, **kwargs)
            return declare(with_appcontext(f) if in_app_context else f)

        return decorator


@contextmanager
def command_transaction(
    *,
    refused: type[Exception] | tuple[type[Exception], ...] = (),
    exit_code: int = 2,
    outcome: str | None = None,
    bar: ProgressBar | None = None,
    commit: bool = True,
) -> Iterator[Session]:
    """Run a step of a command in one transaction: commit at its end; on ``refused``, roll back and exit.

    The error line is "error: <refusal>; <outcome>" ("nothing was stored"), and exits with
    ``exit_code``. Any other error, or an exit inside the step, rolls back and propagates.
    ``commit=False`` rolls back at the end too: a dry run, or a step that only reads. A command of
    several steps (demo, a render committing its plan before workers read it) runs one after another.
    """
    from mailer.db import db

    # A step that writes takes SQLite's write lock as it begins, so it waits for the web app's writers
    # rather than failing when one commits between its reads and its writes.
    session: Session = db.open_writing_session() if commit else db.session
    try:
        yield session
    except refused as exc:
        session.rollback()
        if bar is not None:
            bar.close()
        click.echo(f"error: {exc}; {outcome}" if outcome else f"error: {exc}", err=True)
        sys.exit(exit_code)
    except BaseException:
        session.rollback()
        raise
    if commit:
        session.commit()
    else:
        session.rollback()
    if bar is not None:
        bar.close()


@contextmanager
def output_file(path: Path) -> Iterator[TextIO]:
    """Open a file a command writes (UTF-8, CSV line endings, private); refuse a path that cannot be written."""
    from mailer.files import open_private

    try:
        handle = open_private(path)
    except OSError as exc:
        # A missing folder, a folder given for a file, no permission: say which path, not a traceback.
        raise UnusableInput(f"cannot write {path}: {exc.strerror or exc}") from None
    with handle:
        yield handle


def run_import(
    service: Callable[..., ImportReport], path: Path, *, label: str, as_json: bool
) -> None:
    """Run an import service in one transaction and exit 0, 1 (rows rejected) or 2 (file unusable)."""
    from mailer.imports import UnusableFile

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


def load_command(name: str) -> click.Command:
    """Import the command ``name`` from its module."""
    module_name, attribute = COMMANDS[name].split(":")
    command: click.Command = getattr(importlib.import_module(module_name), attribute)
    return command


def register_commands(app: Flask) -> None:
    """Attach mailer's commands to the app's own CLI (``app.cli``), as ``flask --app mailer`` and tests see it."""
    for name in COMMANDS:
        # Flask's own group brings its own run.
        if name != "run":
            app.cli.add_command(load_command(name))


def create_cli_app() -> Flask:
    """Build the app for the command line."""
    from mailer import create_app

    return create_app()


def is_missing_table(error: BaseException) -> bool:
    """Tell whether a database error says a table does not exist, as before ``init`` built the schema."""
    if "sqlalchemy.exc" not in sys.modules:
        # Nothing has touched a database, so this is no database error.
        return False
    from sqlalchemy.exc import OperationalError, ProgrammingError

    if isinstance(error, OperationalError):
        # SQLite gives no error code for it; its wording is stable.
        return str(error.orig).startswith("no such table")
    if isinstance(error, ProgrammingError):
        from psycopg import errors as pg_errors

        return isinstance(error.orig, pg_errors.UndefinedTable)
    return False


class MailerGroup(click.Group):
    """mailer's command group: each command is imported when listed or run, the app built when one runs.

    A command that finds no schema says to run init instead of a traceback.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not is_missing_table(exc):
                raise
            click.echo(f"error: {NO_SCHEMA}", err=True)
            ctx.exit(2)


@click.command(
    "run",
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.pass_context
def run_command(ctx: click.Context) -> None:
    """Run a development server."""
    # Flask's own run, with every option and its --help, loaded only when it is asked for.
    from flask.cli import run_command as flask_run_command

    from mailer.access_log import mask_tokens_in

    # Werkzeug logs each request line, the customers' address-update tokens included.
    mask_tokens_in(logging.getLogger("werkzeug"))
    provide_app(ctx)
    with flask_run_command.make_context(ctx.info_name, ctx.args, parent=ctx.parent) as run_context:
        flask_run_command.invoke(run_context)


@click.group(
    "mailer",
    cls=MailerGroup,
    # As under Flask's own group: options may come from FLASK_<COMMAND>_<OPTION> (FLASK_RUN_PORT).
    context_settings={"auto_envvar_prefix": "FLASK"},
)
@click.version_option(__version__, prog_name="mailer", message="%(prog)s %(version)s")
def cli() -> None:
    """mailer: catalog batches, returned mail and address lifecycle."""


def main() -> None:
    """Run the command line."""
    cli.main(prog_name="python -m mailer")
