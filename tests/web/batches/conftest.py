"""Fixtures of the batch pages: an app on a committed SQLite file whose renders run on a private queue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue

from mailer import create_app
from mailer.auth.models import Role
from mailer.auth.service import create_user
from mailer.db import db, make_engine
from mailer.schema import upgrade_schema
from tests.batches.test_jobs import TEST_REDIS_URL, private_render_queue
from tests.web.conftest import PASSWORD, Staff, log_in


@dataclass(frozen=True, slots=True)
class RenderSite:
    """An app whose data is committed (render workers read it), its render queue and a marketing user."""

    app: Flask
    queue: Queue
    marketer: Staff

    def client(self) -> FlaskClient:
        """Return a client logged in as the marketing user."""
        client = self.app.test_client()
        assert log_in(client, self.marketer).status_code == 302
        return client


@pytest.fixture
def render_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RenderSite]:
    """Return an app on its own migrated SQLite file, rendering into tmp_path on a queue of its own."""
    url = f"sqlite:///{tmp_path / 'batches.sqlite3'}"
    # Queue workers take the database and the signing key from their environment, as deployed.
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "render-secret")
    engine = make_engine(url)
    with engine.begin() as connection:
        upgrade_schema(connection)
    engine.dispose()
    with private_render_queue() as queue:
        app = create_app({
            "TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "render-secret",
            "PUBLIC_BASE_URL": "https://mail.example.com", "BATCH_OUTPUT_DIR": str(tmp_path / "batches"),
            "BATCH_PIECES_PER_FILE": 2, "REDIS_URL": TEST_REDIS_URL, "RENDER_QUEUE": queue.name,
        })
        with app.app_context():
            user = create_user(db.session, email="marketing@example.com", password=PASSWORD, role=Role.MARKETING,
                               actor="test")
            db.session.commit()
            marketer = Staff(id=user.id, email=user.email, role=Role.MARKETING)
        yield RenderSite(app=app, queue=queue, marketer=marketer)
        with app.app_context():
            db.engine.dispose()
