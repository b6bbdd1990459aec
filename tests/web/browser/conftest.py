"""A live server on a migrated SQLite file and a headless Chromium, for the real-browser tests.

The browser talks to the server over HTTP from another thread, so these tests cannot share the
rolled-back transaction of the other tests: each module gets its own database file, built by
the migrations. Screenshots go to the folder named by MAILER_SCREENSHOTS (docs/screenshots to
refresh the README's), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from mailer import PROJECT_ROOT, create_app
from mailer.auth.models import Role
from mailer.auth.service import create_user
from mailer.db import db, make_engine
from mailer.schema import upgrade_schema

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PASSWORD = "browser test password"
EMAILS = {Role.ADMIN: "admin@example.com", Role.MARKETING: "marketing@example.com"}


@dataclass(frozen=True, slots=True)
class LiveServer:
    """The app being served and where."""

    app: Flask
    url: str


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the app on 127.0.0.1 at a free port, on a fresh migrated SQLite file with two users."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'mailer.sqlite3'}"
    engine = make_engine(database_url)
    with engine.begin() as connection:
        upgrade_schema(connection)
    engine.dispose()

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "browser-tests"})
    with app.app_context():
        for role, email in EMAILS.items():
            create_user(db.session, email=email, password=PASSWORD, role=role, actor="test")
        db.session.commit()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Launch the system's headless Chromium (never a downloaded one)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_tab(  # type: ignore[no-untyped-def]
    browser, errors: list[str], *, width: int = 1280, height: int = 900, locale: str = "en-US"
):
    """Open a tab in a browser context of its own, adding its console errors and uncaught exceptions to ``errors``.

    The caller closes ``page.context``.
    """
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


@pytest.fixture
def open_page(browser):  # type: ignore[no-untyped-def]
    """Return a function opening a fresh browser tab; every console error fails the test."""
    contexts = []
    errors: list[str] = []

    def new_page(*, width: int = 1280, height: int = 900, locale: str = "en-US"):  # type: ignore[no-untyped-def]
        page = new_tab(browser, errors, width=width, height=height, locale=locale)
        contexts.append(page.context)
        return page

    yield new_page
    for context in contexts:
        context.close()
    # A refused inline style or script (the content security policy) shows up here.
    assert errors == []


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Return the folder screenshots are saved to."""
    folder = os.environ.get("MAILER_SCREENSHOTS")
    if not folder:
        return tmp_path
    path = Path(folder)
    path = path if path.is_absolute() else PROJECT_ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    return path
