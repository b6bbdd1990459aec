"""``python -m mailer backup`` and ``python -m mailer restore``: the whole database to a file and back."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mailer.cli import UnusableInput, cli_actor, command_transaction, with_appcontext


def _audit(action: str, detail: dict[str, str | int]) -> None:
    """Write the audit row of a backup or restore; a database that cannot take it does not undo the work."""
    from sqlalchemy.exc import SQLAlchemyError

    from mailer.audit.service import record

    try:
        with command_transaction() as session:
            record(session, actor=cli_actor(), action=action, object_type="database", detail=detail)
    except SQLAlchemyError as exc:
        click.echo(f"warning: no audit row was written: {getattr(exc, 'orig', None) or exc}", err=True)


@click.command("backup")
@with_appcontext
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file to write (readable by you only); it must not exist yet.",
)
def backup_command(out: Path) -> None:
    """Copy the whole database to a file while the app keeps running.

    SQLite is copied through its online backup API, PostgreSQL with pg_dump. Exit status 2 if the
    file cannot be written, 1 if the copy fails.
    """
    from mailer.backup.service import BACKEND_NAMES, BackupFailed, BackupRefused, backup_database
    from mailer.db import db

    try:
        report = backup_database(engine=db.engine, out=out)
    except BackupRefused as exc:
        raise UnusableInput(str(exc)) from None
    except BackupFailed as exc:
        click.echo(f"error: {exc}; no backup was written", err=True)
        sys.exit(1)
    _audit("database.backup", {"file": report.path.name, "bytes": report.size_bytes})
    click.echo(f"Backed up the {BACKEND_NAMES[report.backend]} database to {report.path} ({report.size_bytes:,} bytes)")


@click.command("restore")
@with_appcontext
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", "replace", is_flag=True, help="Replace the tables the database holds now.")
def restore_command(backup_file: Path, replace: bool) -> None:
    """Replace the database's contents with BACKUP_FILE, made by the backup command.

    Stop the web app and the render workers first. A database that holds tables is replaced only
    with --yes. Exit status 2 if the file or the database cannot be used, 1 if the restore fails
    (the database is then unchanged).
    """
    from mailer.backup.service import BackupFailed, BackupRefused, restore_database
    from mailer.db import db

    try:
        restore_database(engine=db.engine, source=backup_file, replace=replace)
    except BackupRefused as exc:
        raise UnusableInput(f"{exc}; nothing was restored") from None
    except BackupFailed as exc:
        click.echo(f"error: {exc}; the database is unchanged", err=True)
        sys.exit(1)
    _audit("database.restore", {"file": backup_file.name})
    click.echo(f"Restored the database from {backup_file}; run python -m mailer init if it is of an older version")
