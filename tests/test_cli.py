"""The command line as ``python -m mailer`` runs it: its commands and help, a database without its
schema, output files, the transaction of a command's step."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from psycopg import errors as pg_errors
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from mailer import PROJECT_ROOT, create_app
from mailer.auth.models import Role
from mailer.batches.models import Campaign
from mailer.batches.rendering import DEFAULT_PIECES_PER_FILE
from mailer.batches.selection import RISK_BANDS
from mailer.churn.bgnbd import TimeUnit
from mailer.churn.evidence import DEFAULT_HALF_LIFE_DAYS
from mailer.cli import UnusableInput, cli, command_transaction, is_missing_table, output_file
from mailer.db import db
from mailer.dedupe.scoring import DEFAULT_THRESHOLD
from mailer.dedupe.service import AUTO_MERGE_FLOOR
from mailer.envelopes import PROFILES
from mailer.files import PRIVATE_FILE_MODE
from mailer.version import __version__
from tests.conftest import file_mode, postgres_database

NO_SCHEMA = "error: the database has no tables yet: run python -m mailer init first\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of a database that exists but where ``init`` never ran."""
    if request.param == "sqlite":
        path = tmp_path / "empty.sqlite3"
        path.touch()
        yield f"sqlite:///{path}"
        return
    with postgres_database("empty") as url:
        yield url


@contextmanager
def _app(url: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"})
    yield app
    with app.app_context():
        db.engine.dispose()


def _run(app: Flask, *args: str) -> Result:
    # The group python -m mailer runs, on this app (so its engine can be closed afterwards).
    return CliRunner().invoke(
        cli, list(args), obj=ScriptInfo(create_app=lambda: app), env={"FLASK_RUN_FROM_CLI": None}
    )


@pytest.mark.parametrize(
    "args",
    [["customers", "show", "C1"], ["batch", "finish", "1", "--out", "unused"], ["batch", "cancel", "1"],
     ["dedupe", "merges"]],
)
def test_a_command_on_a_database_without_tables_says_to_run_init(empty_database_url: str, args: list[str]) -> None:
    with _app(empty_database_url) as app:
        result = _run(app, *args)

        assert result.exit_code == 2
        assert result.stderr == NO_SCHEMA


def test_init_then_works_on_that_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    with _app(f"sqlite:///{path}") as app:
        assert _run(app, "init", "--admin-password", "correct horse battery").exit_code == 0

        result = _run(app, "customers", "show", "C1")

        assert result.exit_code == 1 and result.stderr == "error: no customer C1\n"


def test_python_m_mailer_says_to_run_init(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()

    result = subprocess.run(
        [sys.executable, "-m", "mailer", "customers", "show", "C1"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "x"},
    )

    assert result.returncode == 2
    assert result.stderr == NO_SCHEMA


def test_other_database_errors_propagate(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    connection.close()
    with _app(f"sqlite:///{path}") as app:
        result = _run(app, "customers", "show", "C1")

        assert isinstance(result.exception, OperationalError)
        assert "no such column" in str(result.exception)


def test_missing_tables_are_told_from_other_errors_on_each_backend() -> None:
    assert is_missing_table(OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: customers")))
    assert not is_missing_table(OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked")))
    assert is_missing_table(ProgrammingError("SELECT", {}, pg_errors.UndefinedTable("relation does not exist")))
    assert not is_missing_table(ProgrammingError("SELECT", {}, pg_errors.UndefinedColumn("column does not exist")))


@pytest.mark.usefixtures("open_umask")
def test_an_output_file_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    with pytest.raises(UnusableInput, match=f"cannot write {tmp_path}: Is a directory"), output_file(tmp_path):
        pass
    with output_file(tmp_path / "out.csv") as handle:
        handle.write("a\n")
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "a\n"
    assert file_mode(tmp_path / "out.csv") == PRIVATE_FILE_MODE


MAILER_COMMANDS = {
    "backup", "batch", "churn", "customers", "dedupe", "demo", "init", "orders", "reference", "restore", "returns",
    "run", "users",
}
# What listing and explaining the commands must not import: Flask, the models, the app's extensions
# and the numeric, PDF and matching libraries; a command imports them when it runs.
HEAVY_MODULES = (
    "flask", "werkzeug", "jinja2", "sqlalchemy", "psycopg", "alembic", "numpy", "scipy", "pypinyin", "rapidfuzz",
    "reportlab", "rq", "redis", "mailer.db", "mailer.models", "mailer.web",
)


def _command(*path: str) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, path
        command = found
    return command


def _command_paths(command: click.Command = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            subcommand = command.get_command(context, name)
            assert subcommand is not None
            yield from _command_paths(subcommand, (*path, name))


def _option(path: tuple[str, ...], name: str) -> click.Parameter:
    return next(param for param in _command(*path).params if param.name == name)


def test_help_lists_mailers_commands_only() -> None:
    result = CliRunner().invoke(cli, ["--help"], prog_name="python -m mailer")

    assert result.exit_code == 0
    listed = result.output.split("Commands:\n")[1].splitlines()
    assert {line.split()[0] for line in listed} == MAILER_COMMANDS
    options = result.output.split("Options:\n")[1].split("Commands:\n")[0]
    assert [line.split()[0] for line in options.splitlines() if line.strip()] == ["--version", "--help"]


def test_version_is_mailers_own() -> None:
    result = CliRunner().invoke(cli, ["--version"])

    assert result.exit_code == 0
    assert result.output == f"mailer {__version__}\n"
    # pyproject.toml takes the version from the same constant: one place to change it.
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mailer.version.__version__"}


@pytest.mark.parametrize("path", list(_command_paths()), ids=lambda path: " ".join(path) or "mailer")
def test_every_help_text_reads_as_plain_text(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="python -m mailer")

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: {' '.join(('python -m mailer', *path))} ")
    assert "``" not in result.output


def test_run_serves_the_app_with_flasks_server_options() -> None:
    result = CliRunner().invoke(cli, ["run", "--help"], prog_name="python -m mailer")

    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output


def test_listing_and_explaining_every_command_imports_no_service_and_builds_no_app() -> None:
    script = (
        "import sys, click\n"
        "from mailer.cli import cli\n"
        "def explain(command, name):\n"
        "    context = click.Context(command, info_name=name)\n"
        "    command.get_help(context)\n"
        "    if isinstance(command, click.Group):\n"
        "        for sub in command.list_commands(context):\n"
        "            explain(command.get_command(context, sub), sub)\n"
        "explain(cli, 'mailer')\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=True
    )

    loaded = result.stdout.split()
    assert "mailer.dedupe.cli" in loaded and "mailer.churn.cli" in loaded
    assert [name for name in loaded if name.startswith(HEAVY_MODULES)] == []


def test_the_choices_and_defaults_help_shows_are_the_services() -> None:
    def choices(path: tuple[str, ...], name: str) -> list[str]:
        param_type = _option(path, name).type
        assert isinstance(param_type, click.Choice)
        return list(param_type.choices)

    assert choices(("users", "create"), "role") == [role.value for role in Role]
    assert choices(("batch", "create"), "profile") == sorted(PROFILES)
    assert choices(("batch", "create"), "risk_bands") == sorted(RISK_BANDS)
    assert _option(("batch", "render"), "pieces_per_file").default == DEFAULT_PIECES_PER_FILE
    for command in ("fit", "refresh"):
        assert choices(("churn", command), "unit") == [unit.value for unit in TimeUnit]
        assert _option(("churn", command), "unit").default == TimeUnit.WEEK.value
    assert _option(("churn", "refresh"), "half_life_days").default == DEFAULT_HALF_LIFE_DAYS
    assert _option(("dedupe",), "threshold").default == DEFAULT_THRESHOLD
    assert _option(("dedupe", "find"), "threshold").default == DEFAULT_THRESHOLD
    auto_help = _option(("dedupe", "auto"), "min_score").help
    assert auto_help is not None and auto_help.endswith(f"at least {AUTO_MERGE_FLOOR:g}.")


def test_a_refused_step_is_rolled_back_and_exits_with_its_code(session: Session) -> None:
    with pytest.raises(SystemExit) as exited, command_transaction(refused=LookupError, exit_code=3) as step:
        step.add(Campaign(name="Refused", created_by="test"))
        step.flush()
        raise LookupError("no such thing")

    assert exited.value.code == 3
    assert session.scalars(select(Campaign)).all() == []


def test_a_step_that_only_reads_is_rolled_back_at_its_end(session: Session) -> None:
    with command_transaction(commit=False) as step:
        step.add(Campaign(name="Dry run", created_by="test"))
        step.flush()
    with command_transaction() as step:
        step.add(Campaign(name="Stored", created_by="test"))

    assert [campaign.name for campaign in session.scalars(select(Campaign))] == ["Stored"]
