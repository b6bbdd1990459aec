"""The page of an unexpected error: branded, in the page's language, even with the database gone."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import sessionmaker

from mailer.auth.models import Role
from mailer.db import make_engine
from mailer.web.access import public
from tests.web.conftest import post

TOKEN = "not-for-the-logs-4711"
STAFF_MESSAGE = "Something went wrong on our side. Try again in a moment; if it keeps happening, tell an administrator."
CUSTOMER_MESSAGE = "Something went wrong on our side. Please try again in a moment."
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The test app with a page that always raises, and exceptions answered as in production."""

    @public
    def broken(token: str) -> str:
        raise RuntimeError("the view broke")

    app.add_url_rule("/broken/<token>", "broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # TESTING lets them through to the test instead
    return app


def test_an_unexpected_error_gets_the_branded_page_and_is_logged_without_the_path(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = failing_app.test_client().get(f"/broken/{TOKEN}")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page and STAFF_MESSAGE in page
    assert 'class="brand"' in page and 'href="/"' in page
    assert "the view broke" not in page and "Traceback" not in page

    (line,) = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert line.name == "mailer.web.errors"
    assert line.getMessage() == "unhandled RuntimeError in broken"
    assert "the view broke" in caplog.text  # the traceback
    assert TOKEN not in caplog.text


def test_the_error_page_speaks_the_browsers_language(failing_app: Flask) -> None:
    response = failing_app.test_client().get(f"/broken/{TOKEN}", headers=CHINESE)
    assert response.status_code == 500
    assert '<html lang="zh-Hans">' in response.get_data(as_text=True)


def test_staff_get_it_in_the_language_of_their_profile(failing_app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.MARKETING)
    post(client, "/profile", {"locale": "zh"})
    response = client.get(f"/broken/{TOKEN}", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert '<html lang="zh-Hans">' in response.get_data(as_text=True)


def test_the_page_renders_when_the_database_is_unreachable(
    failing_app: Flask, logged_in, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    client: FlaskClient = logged_in(Role.MARKETING)
    post(client, "/profile", {"locale": "zh"})
    # From now on every session fails to connect, as when the database server is down.
    engine = make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'mailer.sqlite3'}")
    monkeypatch.setattr(failing_app.extensions["mailer.db"], "sessionmaker", sessionmaker(bind=engine))

    # Loading the logged-in user fails before the page, and again when the error page asks their language.
    response = client.get("/customers", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page and STAFF_MESSAGE in page  # the browser's: the profile cannot be read
    assert "unhandled OperationalError in customers.index" in [record.getMessage() for record in caplog.records]


def test_a_customer_gets_a_plain_page_without_staff_links(
    failing_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mailer.web.selfservice.views

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the link check broke")

    monkeypatch.setattr(mailer.web.selfservice.views, "find_piece_for_token", broken)
    client = failing_app.test_client()
    response = client.get(f"/u/{TOKEN}", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert CUSTOMER_MESSAGE in page and "administrator" not in page
    assert "href=\"/\"" not in page and "/login" not in page and "mailer" not in page.split("<body>")[1]
    assert '<meta name="robots" content="noindex, nofollow">' in page

    chinese = client.get(f"/u/{TOKEN}", headers=CHINESE)
    assert chinese.status_code == 500 and '<html lang="zh-Hans">' in chinese.get_data(as_text=True)


def test_an_unexpected_error_under_the_api_is_answered_in_json(failing_app: Flask) -> None:
    failing_app.add_url_rule("/api/broken/<token>", "api_broken", public(lambda token: 1 / 0))
    response = failing_app.test_client().get(f"/api/broken/{TOKEN}")
    assert response.status_code == 500 and response.is_json
    assert response.get_json() == {"error": STAFF_MESSAGE}


def test_an_api_error_is_json_when_the_database_is_unreachable(
    failing_app: Flask, logged_in, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    failing_app.add_url_rule("/api/broken/<token>", "api_broken", public(lambda token: 1 / 0))
    client: FlaskClient = logged_in(Role.MAILROOM)
    engine = make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'mailer.sqlite3'}")
    monkeypatch.setattr(failing_app.extensions["mailer.db"], "sessionmaker", sessionmaker(bind=engine))

    # Loading the logged-in user fails, and again when the error asks the user's language.
    response = client.get(f"/api/broken/{TOKEN}", headers={"Accept-Language": "en"})
    assert response.status_code == 500 and response.is_json
    assert response.get_json() == {"error": STAFF_MESSAGE}
