"""One transaction per request: committed once when the answer is a success, else rolled back whole.

Views never commit or roll back. A request answered below 400 (a page, a redirect, a download)
commits its session after the view returns; any error answer (a form shown again with 400, a 404,
an exception's 500) rolls everything back, unless the view keeps a record of a failed attempt
with ``keep_on_error`` (a failed login, an unusable upload). A service's refusal that the view
answers with a redirect is undone alone, by running the attempt in ``attempt()``. An error the
commit itself raises goes through the error handlers like any other.

A busy database: a request that may write (any method but GET, HEAD and OPTIONS) takes SQLite's
write lock when its transaction begins, so it waits for another writer (up to the busy timeout)
instead of failing when it first writes. A request that still meets a write conflict (SQLite
locked, a PostgreSQL serialization failure or deadlock) is rolled back and run once more from the
start, with the cookie session and ``g`` as they came in: the body Flask read is kept, and nothing
was committed. A request with uploaded files is not run again (their streams are spent), nor one
that conflicts twice: it is answered 503 with ``Retry-After``. Any other exception is rolled back
before the error handlers answer it, so they never meet a broken session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import Flask, Response, current_app, g, request
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.exceptions import ServiceUnavailable

from mailer.db import db, is_write_conflict

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., object])

KEEP_ON_ERROR = "keep_work_on_error"
WRITES_ATTRIBUTE = "mailer_writes"
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a 503 for a busy database tells the client to wait before trying again, in seconds.
RETRY_AFTER_SECONDS = 5


def keep_on_error() -> None:
    """Commit this request's work even though it answers with an error status."""
    g.setdefault(KEEP_ON_ERROR, True)


@contextmanager
def attempt() -> Iterator[Session]:
    """Run the block in a savepoint, so an exception it raises undoes only its own work."""
    with db.session.begin_nested():
        yield db.session


def _end_transaction(response: Response) -> Response:
    session: Session | None = g.get("db_session")
    if session is None:
        return response
    status = response.status_code
    # A 500 never commits: the work may be half done, or the commit itself may be what failed.
    if status < 400 or (status < 500 and g.get(KEEP_ON_ERROR, False)):
        session.commit()
    else:
        session.rollback()
    return response


def writes(view: View) -> View:
    """Mark a view answering GET that writes all the same (an audit row of who looked), so its
    transaction takes SQLite's write lock as it begins and waits for other writers like a POST."""
    setattr(view, WRITES_ATTRIBUTE, True)
    return view


def _open_session_for_request() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method not in READ_ONLY_METHODS or getattr(view, WRITES_ATTRIBUTE, False):
        db.open_writing_session()


def _roll_back() -> None:
    """Roll back the request's session, so nothing after it (an error page, a second run) meets a broken one."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.rollback()


class _RequestState:
    """What a request's first run may change and a second run must start from: ``g`` and the cookie session."""

    def __init__(self) -> None:
        self.globals = {name: g.get(name) for name in g}
        self.cookie = dict(cookie_session)
        self.cookie_modified = cookie_session.modified

    def restore(self) -> None:
        for name in [name for name in g if name not in self.globals]:
            dropped = g.pop(name)
            if isinstance(dropped, Session):
                dropped.close()
        for name, value in self.globals.items():
            setattr(g, name, value)
        cookie_session.clear()
        cookie_session.update(self.cookie)
        cookie_session.modified = self.cookie_modified


def _retrying_write_conflicts(app: Flask, dispatch: Callable[[], Response]) -> Callable[[], Response]:
    """Wrap Flask's request dispatch: roll back on any exception, run a conflicted request once more."""

    def dispatch_request() -> Response:
        state = _RequestState()

        def attempt() -> Response | None:
            # The view's answer, or None after a write conflict (rolled back, the request state restored).
            try:
                return dispatch()
            except Exception as exc:
                _roll_back()
                if not is_write_conflict(exc):
                    raise
            state.restore()
            return None

        if (answer := attempt()) is not None:
            return answer
        if request.files:
            log.warning("write conflict in %s, not run again: it carries files", request.endpoint)
            return _busy(app)
        log.warning("write conflict in %s; running it once more", request.endpoint)
        if (answer := attempt()) is not None:
            return answer
        log.warning("write conflict in %s again; answered 503", request.endpoint)
        return _busy(app)

    return dispatch_request


def _busy(app: Flask) -> Response:
    answer: ResponseReturnValue = app.handle_user_exception(ServiceUnavailable())
    response = app.finalize_request(answer, from_error_handler=True)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def init_transactions(app: Flask) -> None:
    """Open each request's session for its method, end its transaction after the response is made,
    before it is sent, and run a request that met a write conflict once more."""
    app.before_request(_open_session_for_request)
    app.after_request(_end_transaction)
    # Replacing the method on this app alone (as errors.py does for log_exception); mypy refuses any
    # assignment to a method.
    app.full_dispatch_request = _retrying_write_conflicts(app, app.full_dispatch_request)  # type: ignore[method-assign]
