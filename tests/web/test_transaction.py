"""One transaction per request: committed on success, rolled back whole on an error answer."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask, abort, session
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from mailer.audit.models import AuditEntry
from mailer.audit.service import record
from mailer.db import db
from mailer.web.access import public
from mailer.web.extensions import csrf
from mailer.web.transaction import RETRY_AFTER_SECONDS, attempt, keep_on_error
from tests.test_db import _busy_error


class Refused(Exception):
    """A service's refusal, as the views catch them."""


def _note(action: str) -> None:
    record(db.session, actor="test", action=action, object_type="probe")


@pytest.fixture
def probe_app(app: Flask) -> Flask:
    """The test app with pages that write an audit row and answer in various ways."""

    @public
    def ok() -> str:
        _note("probe.ok")
        return "done"

    @public
    def form_again() -> tuple[str, int]:
        _note("probe.form_again")
        return "shown again", 400

    @public
    def not_found() -> str:
        _note("probe.not_found")
        abort(404)

    @public
    def failed_attempt() -> tuple[str, int]:
        _note("probe.failed_attempt")
        keep_on_error()
        return "wrong password", 401

    @public
    def broken() -> str:
        _note("probe.broken")
        raise RuntimeError("the view broke")

    @public
    def refused_attempt() -> str:
        _note("probe.before_attempt")
        try:
            with attempt() as session:
                record(session, actor="test", action="probe.attempt", object_type="probe")
                session.flush()
                raise Refused
        except Refused:
            return "refused, the rest kept"
        return "unreachable"

    @public
    def unstorable() -> str:
        # NOT NULL fails when the request commits, after the view has answered.
        db.session.add(AuditEntry(actor=None, action="probe.unstorable", object_type="probe"))
        return "answered before the commit"

    for rule, view in [
        ("/probe/ok", ok), ("/probe/form-again", form_again), ("/probe/not-found", not_found),
        ("/probe/failed-attempt", failed_attempt), ("/probe/broken", broken),
        ("/probe/refused-attempt", refused_attempt), ("/probe/unstorable", unstorable),
        ("/api/probe/unstorable", unstorable),
    ]:
        app.add_url_rule(rule, rule, view)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer exceptions as in production
    return app


def _stored(app: Flask, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


@pytest.mark.parametrize(
    ("path", "status", "action", "kept"),
    [
        ("/probe/ok", 200, "probe.ok", 1),
        ("/probe/form-again", 400, "probe.form_again", 0),
        ("/probe/not-found", 404, "probe.not_found", 0),
        ("/probe/failed-attempt", 401, "probe.failed_attempt", 1),
        ("/probe/broken", 500, "probe.broken", 0),
    ],
)
def test_a_request_commits_on_success_and_rolls_back_on_an_error_answer(
    probe_app: Flask, path: str, status: int, action: str, kept: int
) -> None:
    response = probe_app.test_client().get(path)

    assert response.status_code == status
    assert _stored(probe_app, action) == kept


def test_an_attempt_the_view_answers_undoes_only_its_own_work(probe_app: Flask) -> None:
    response = probe_app.test_client().get("/probe/refused-attempt")

    assert response.status_code == 200
    assert _stored(probe_app, "probe.before_attempt") == 1
    assert _stored(probe_app, "probe.attempt") == 0


def test_a_failing_commit_gets_the_branded_error_page_and_the_next_request_works(probe_app: Flask) -> None:
    client = probe_app.test_client()
    response = client.get("/probe/unstorable")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page and "answered before the commit" not in page
    assert client.get("/probe/ok").status_code == 200
    assert _stored(probe_app, "probe.ok") == 1


def test_a_failing_commit_under_the_api_gets_a_json_error(probe_app: Flask) -> None:
    response = probe_app.test_client().get("/api/probe/unstorable")

    assert response.status_code == 500
    assert response.is_json and "Something went wrong" in response.get_json()["error"]


# --- write conflicts --------------------------------------------------------------------------------


@pytest.fixture
def conflict_app(app: Flask, tmp_path: Path) -> tuple[Flask, Counter[str]]:
    """The test app with pages that meet a write conflict (a locked SQLite) once or every time; and their runs."""
    runs: Counter[str] = Counter()
    conflict = OperationalError("UPDATE ...", {}, _busy_error(tmp_path))

    @public
    def conflicted_once() -> str:
        runs["once"] += 1
        _note("probe.conflicted_once")
        session["runs_seen"] = session.get("runs_seen", 0) + 1
        if runs["once"] == 1:
            raise conflict
        return "done"

    @public
    def conflicted_always() -> str:
        runs["always"] += 1
        _note("probe.conflicted_always")
        raise conflict

    @public
    @csrf.exempt
    def upload_conflicted() -> str:
        runs["upload"] += 1
        raise conflict

    @public
    def broken_counted() -> str:
        runs["broken"] += 1
        raise RuntimeError("the view broke")

    for rule, view, methods in [
        ("/probe/conflicted-once", conflicted_once, ["GET"]),
        ("/probe/conflicted-always", conflicted_always, ["GET"]),
        ("/api/probe/conflicted-always", conflicted_always, ["GET"]),
        ("/probe/upload-conflicted", upload_conflicted, ["POST"]),
        ("/probe/broken-counted", broken_counted, ["GET"]),
    ]:
        app.add_url_rule(rule, rule, view, methods=methods)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app, runs


def test_a_request_meeting_a_write_conflict_runs_once_more_from_the_start(
    conflict_app: tuple[Flask, Counter[str]],
) -> None:
    app, runs = conflict_app
    client = app.test_client()
    response = client.get("/probe/conflicted-once")

    assert response.status_code == 200 and runs["once"] == 2
    # The first run's work and its change to the cookie session are gone; the second run's are kept.
    assert _stored(app, "probe.conflicted_once") == 1
    with client.session_transaction() as cookie:
        assert cookie["runs_seen"] == 1


def test_a_request_conflicting_twice_is_answered_503_with_retry_after(
    conflict_app: tuple[Flask, Counter[str]],
) -> None:
    app, runs = conflict_app
    client = app.test_client()

    page = client.get("/probe/conflicted-always")
    assert page.status_code == 503 and page.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "The database is busy" in page.get_data(as_text=True)
    api = client.get("/api/probe/conflicted-always")
    assert api.status_code == 503 and api.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert api.get_json() == {"error": "The database is busy. Try again in a moment."}
    assert runs["always"] == 4
    assert _stored(app, "probe.conflicted_always") == 0


def test_an_upload_meeting_a_write_conflict_is_not_run_again(conflict_app: tuple[Flask, Counter[str]]) -> None:
    app, runs = conflict_app
    response = app.test_client().post(
        "/probe/upload-conflicted", data={"file": (io.BytesIO(b"customer_no\n"), "customers.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 503 and runs["upload"] == 1


def test_another_error_is_not_run_again(conflict_app: tuple[Flask, Counter[str]]) -> None:
    app, runs = conflict_app
    assert app.test_client().get("/probe/broken-counted").status_code == 500
    assert runs["broken"] == 1
