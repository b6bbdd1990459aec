"""Request bodies are held to their page's limit and refused with 413 before they are read."""

from __future__ import annotations

import io
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from mailer.audit.models import AuditEntry
from mailer.auth.models import Role
from mailer.web.limits import SMALL_BODY_LIMIT
from tests.web.conftest import Staff, csrf_token, data

FORM = "application/x-www-form-urlencoded"


class EndlessBody(io.RawIOBase):
    """A request body that never ends, counting what the app reads of it."""

    # An app reading this far is reading all of it: stop it here rather than fill the memory.
    GAVE_UP_AFTER = 8 * 1024 * 1024

    def __init__(self) -> None:
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.bytes_read > self.GAVE_UP_AFTER:
            raise AssertionError(f"the app read {self.bytes_read:,} bytes of the body")
        buffer[:] = b"a" * len(buffer)
        self.bytes_read += len(buffer)
        return len(buffer)


def _post_endless(client: FlaskClient, path: str, body: EndlessBody, *, declared_length: int | None) -> TestResponse:
    """Post a body of the declared length, or chunked (without a length) as a proxy may pass it on."""
    if declared_length is None:
        headers, environ = {"Transfer-Encoding": "chunked"}, {"wsgi.input_terminated": True}
    else:
        headers, environ = {}, {"CONTENT_LENGTH": str(declared_length)}
    return client.post(path, content_type=FORM, headers=headers, environ_overrides={**environ, "wsgi.input": body})


def _audit_rows(app: Flask) -> int:
    with data(app) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_an_anonymous_400_mb_login_is_refused_unread(app: Flask, client: FlaskClient) -> None:
    body = EndlessBody()

    response = _post_endless(client, "/login", body, declared_length=400 * 1024 * 1024)

    assert response.status_code == 413
    assert "The request is too large." in response.get_data(as_text=True)
    assert body.bytes_read == 0
    assert _audit_rows(app) == 0


def test_a_body_sent_without_its_length_is_refused_once_it_runs_past_the_limit(app: Flask, client: FlaskClient) -> None:
    body = EndlessBody()

    response = _post_endless(client, "/login", body, declared_length=None)

    assert response.status_code == 413
    assert body.bytes_read <= SMALL_BODY_LIMIT + 1
    assert _audit_rows(app) == 0


def test_a_page_that_reads_no_body_refuses_a_large_one_all_the_same(client: FlaskClient) -> None:
    body = EndlessBody()

    response = _post_endless(client, "/no-such-page", body, declared_length=SMALL_BODY_LIMIT + 1)

    assert response.status_code == 413 and body.bytes_read == 0


def test_the_api_refuses_a_large_body_in_json_even_where_no_route_matched(client: FlaskClient) -> None:
    response = client.post("/api/nothing-here", data=b"[" * (SMALL_BODY_LIMIT + 1), content_type="application/json")

    assert response.status_code == 413
    assert response.get_json() == {"error": "The request is too large."}


def test_a_login_sent_without_its_length_under_the_limit_works(
    app: Flask, client: FlaskClient, staff: dict[Role, Staff]
) -> None:
    user = staff[Role.MAILROOM]
    form = urlencode({"email": user.email, "password": user.password, "csrf_token": csrf_token(client)}).encode()

    response = client.post(
        "/login", content_type=FORM, headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True, "wsgi.input": io.BytesIO(form)},
    )

    assert response.status_code == 302
