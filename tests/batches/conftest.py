"""Fixtures for rendering: workers read committed data, so these tests use their own databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from mailer import create_app
from mailer.db import db
from mailer.schema import upgrade_schema
from tests.conftest import postgres_database


def _migrated_app(url: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    # Queue workers take the database and the signing key from their environment, as deployed.
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "render-secret")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "render-secret",
                      "PUBLIC_BASE_URL": "https://mail.example.com"})
    with app.app_context(), db.engine.begin() as connection:
        upgrade_schema(connection)
    return app


@pytest.fixture
def committed_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """Return an app on its own migrated SQLite file, for code that commits and spawns workers."""
    app = _migrated_app(f"sqlite:///{tmp_path / 'render.sqlite3'}", monkeypatch)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def committed_postgres_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """Return an app on its own fresh PostgreSQL database (skipped where PostgreSQL is absent)."""
    with postgres_database("render") as url:
        app = _migrated_app(url, monkeypatch)
        yield app
        with app.app_context():
            db.engine.dispose()
