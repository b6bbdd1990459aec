"""The settings: read from the environment once, checked, and no file written but the key by ``init``."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import mailer
from mailer import create_app
from mailer.settings import (
    SECRET_KEY_FILE,
    MissingSecretKey,
    Settings,
    SettingsError,
    create_secret_key_file,
    require_secret_key,
)


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at an instance folder that does not exist yet, with no key in the environment."""
    folder = tmp_path / "instance"
    monkeypatch.setattr(mailer, "INSTANCE_PATH", folder)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{folder / 'mailer.sqlite3'}")
    return folder


def test_defaults_run_on_a_laptop(tmp_path: Path) -> None:
    settings = Settings.from_environment({}, instance_path=tmp_path)

    assert settings.database_url == f"sqlite:///{tmp_path / 'mailer.sqlite3'}"
    assert settings.secret_key is None
    assert settings.batch_output_dir == str(tmp_path / "batches")
    assert (settings.render_queue, settings.batch_pieces_per_file) == ("render", 5000)
    assert (settings.soft_return_window_days, settings.mailroom_key_wait_ms) == (180, 150)
    assert settings.login_rate_limit == "10 per minute;50 per hour"
    assert settings.session_cookie_secure is False and settings.timezone == "UTC"
    assert (settings.admin_email, settings.admin_password) == ("admin@example.com", None)
    assert settings.dedupe_auto_merge_score is None
    assert settings.max_upload_mb == 16
    assert settings.address_link_rate_limit == "20 per minute;200 per hour"


@pytest.mark.parametrize(
    ("variable", "value", "key", "expected"),
    [
        ("DATABASE_URL", "postgresql+psycopg://mailer@db/mailer", "DATABASE_URL", "postgresql+psycopg://mailer@db/mailer"),
        ("SECRET_KEY", "s3cret", "SECRET_KEY", "s3cret"),
        ("PUBLIC_BASE_URL", "https://mail.example.cn", "PUBLIC_BASE_URL", "https://mail.example.cn"),
        ("REDIS_URL", "redis://queue:6379/2", "REDIS_URL", "redis://queue:6379/2"),
        ("RENDER_QUEUE", "render-cn", "RENDER_QUEUE", "render-cn"),
        ("BATCH_OUTPUT_DIR", "/srv/batches", "BATCH_OUTPUT_DIR", "/srv/batches"),
        ("BATCH_PIECES_PER_FILE", "250", "BATCH_PIECES_PER_FILE", 250),
        ("SOFT_RETURN_WINDOW_DAYS", "90", "SOFT_RETURN_WINDOW_DAYS", 90),
        ("LOGIN_RATE_LIMIT", "3 per minute", "LOGIN_RATE_LIMIT", "3 per minute"),
        ("LOGIN_ACCOUNT_RATE_LIMIT", "2 per minute", "LOGIN_ACCOUNT_RATE_LIMIT", "2 per minute"),
        ("LOGIN_KNOWN_ADDRESS_DAYS", "0", "LOGIN_KNOWN_ADDRESS_DAYS", 0),
        ("SESSION_COOKIE_SECURE", "1", "SESSION_COOKIE_SECURE", True),
        ("LOGIN_SESSION_MAX_AGE_HOURS", "8.5", "LOGIN_SESSION_MAX_AGE_HOURS", 8.5),
        ("TRUSTED_PROXIES", "1", "TRUSTED_PROXIES", 1),
        ("MAILER_TIMEZONE", "Asia/Shanghai", "BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"),
        ("MAILROOM_KEY_WAIT_MS", "400", "MAILROOM_KEY_WAIT_MS", 400),
        ("RATELIMIT_STORAGE_URI", "redis://limits:6379/1", "RATELIMIT_STORAGE_URI", "redis://limits:6379/1"),
        ("SQLALCHEMY_ECHO", "1", "SQLALCHEMY_ECHO", True),
        ("MAILER_ADMIN_EMAIL", "ops@example.cn", "ADMIN_EMAIL", "ops@example.cn"),
        ("MAILER_ADMIN_PASSWORD", "correct horse", "ADMIN_PASSWORD", "correct horse"),
        ("MAILER_DEDUPE_AUTO_MERGE_SCORE", "97.5", "DEDUPE_AUTO_MERGE_SCORE", 97.5),
        ("MAX_UPLOAD_MB", "64", "MAX_UPLOAD_MB", 64),
        ("ADDRESS_LINK_RATE_LIMIT", "5 per minute", "ADDRESS_LINK_RATE_LIMIT", "5 per minute"),
    ],
)
def test_every_variable_reaches_the_app_config(
    tmp_path: Path, variable: str, value: str, key: str, expected: object
) -> None:
    config = Settings.from_environment({variable: value}, instance_path=tmp_path).as_config()

    assert config[key] == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "not a url"),
        ("PUBLIC_BASE_URL", "mail.example.cn"),
        ("BATCH_PIECES_PER_FILE", "0"),
        ("BATCH_PIECES_PER_FILE", "5001"),
        ("SOFT_RETURN_WINDOW_DAYS", "half a year"),
        ("LOGIN_RATE_LIMIT", "ten a minute"),
        ("LOGIN_KNOWN_ADDRESS_DAYS", "-1"),
        ("SESSION_COOKIE_SECURE", "maybe"),
        ("LOGIN_SESSION_MAX_AGE_HOURS", "0"),
        ("TRUSTED_PROXIES", "one"),
        ("MAILER_TIMEZONE", "Mars/Olympus"),
        ("MAILROOM_KEY_WAIT_MS", "fast"),
        ("MAILER_DEDUPE_AUTO_MERGE_SCORE", "high"),
        ("MAILER_DEDUPE_AUTO_MERGE_SCORE", "101"),
        ("MAX_UPLOAD_MB", "0"),
        ("MAX_UPLOAD_MB", "16 MB"),
        ("ADDRESS_LINK_RATE_LIMIT", "often"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}="):
        Settings.from_environment({variable: value}, instance_path=tmp_path)


def test_the_key_file_init_made_is_read_when_no_key_is_set(tmp_path: Path) -> None:
    key = create_secret_key_file(tmp_path)

    assert Settings.from_environment({}, instance_path=tmp_path).secret_key == key
    assert Settings.from_environment({"SECRET_KEY": "set"}, instance_path=tmp_path).secret_key == "set"


def test_the_key_file_is_private_from_its_creation_and_never_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "instance"
    umask = os.umask(0)  # the mode must come from the file's creation, not from a strict umask
    try:
        key = create_secret_key_file(folder)
        again = create_secret_key_file(folder)
    finally:
        os.umask(umask)

    mode = stat.S_IMODE((folder / SECRET_KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert again == key and len(key) == 64


def test_create_app_writes_no_file_and_makes_no_folder(instance: Path) -> None:
    app = create_app()

    assert not instance.exists()
    assert app.config["SECRET_KEY"] is None


def test_init_creates_the_key_file_and_the_app_uses_it(instance: Path) -> None:
    app = create_app()

    result = app.test_cli_runner().invoke(args=["init"])

    assert result.exit_code == 0, result.output
    key_file = instance / SECRET_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key_file.read_text()
    assert create_app().config["SECRET_KEY"] == key_file.read_text()
    with app.app_context():
        from mailer.db import db

        db.engine.dispose()


def test_help_works_without_a_key(instance: Path) -> None:
    from mailer.cli import cli

    result = CliRunner().invoke(cli, ["--help"])

    assert result.exit_code == 0, result.output
    assert "init" in result.output and "batch" in result.output
    assert not instance.exists()


def test_a_command_that_signs_envelopes_says_to_run_init(instance: Path, tmp_path: Path) -> None:
    app = create_app()

    with app.app_context(), pytest.raises(MissingSecretKey, match=r"run `python -m mailer init`.*or set SECRET_KEY"):
        require_secret_key(app.config, app.instance_path)
    result = app.test_cli_runner().invoke(args=["batch", "render", "1", "--out", str(tmp_path / "out")])

    assert result.exit_code == 2
    assert "python -m mailer init" in result.output and "SECRET_KEY" in result.output


def test_the_web_app_without_a_key_answers_500_and_logs_what_to_do(
    instance: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/login")

    assert response.status_code == 500
    assert "python -m mailer init" in caplog.text
    assert not instance.exists()
