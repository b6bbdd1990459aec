"""One transaction per request: committed once when the answer is a success, else rolled back whole.

Views never commit or roll back. A request answered below 400 (a page, a redirect, a download)
commits its session after the view returns; any error answer (a form shown again with 400, a 404,
an exception's 500) rolls everything back, unless the view keeps a record of a failed attempt
with ``keep_on_error`` (a failed login, an unusable upload). A service's refusal that the view
answers with a redirect is undone alone, by running the attempt in ``attempt()``. An error the
commit itself raises goes through the error handlers like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from mailer.db import db

KEEP_ON_ERROR = "keep_work_on_error"


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


def init_transactions(app: Flask) -> None:
    """End each request's transaction after its response is made, before it is sent."""
    app.after_request(_end_transaction)
