"""How large a request body each page takes: a few kilobytes, except the import page's file.

A body over its page's limit is answered 413: by its declared length at once, before a byte of it
is read; a body sent without one (chunked) once the limit is read and more follows.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

# Every form, the login and the returns API's JSON fit many times over; nothing else sends a file.
SMALL_BODY_LIMIT = 128 * 1024
# The pages that take a file, up to MAX_UPLOAD_MB; larger files are imported on the command line.
UPLOAD_ENDPOINTS = frozenset({"imports.upload"})


def takes_a_file() -> bool:
    """Tell whether this request's page takes an uploaded file."""
    return request.endpoint in UPLOAD_ENDPOINTS


def upload_limit_mb() -> int:
    """Return the largest file, in MB, the import page takes."""
    return int(current_app.config["MAX_UPLOAD_MB"])


def _limit_request_body() -> None:
    limit = upload_limit_mb() * 1024 * 1024 if takes_a_file() else SMALL_BODY_LIMIT
    # Whatever reads the body (a form, JSON, a file) is held to this page's limit.
    request.max_content_length = limit
    length = request.content_length
    # Checked here too, so a page that never reads its body refuses it all the same, unread.
    if length is not None and length > limit:
        raise RequestEntityTooLarge()
    if length is None and request.headers.get("Transfer-Encoding"):
        # Sent without its length (chunked), a body is read only up to the limit, and werkzeug stops
        # there without a word: a form cut short would pass for the whole. Read it now (kept for the
        # view) and refuse it if more follows.
        request.get_data(cache=True)
        if request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()


def init_body_limits(app: Flask) -> None:
    """Hold every request body to its page's limit, before anything else reads it."""
    # Flask's own default is no limit at all; this one holds wherever no page is known yet.
    app.config["MAX_CONTENT_LENGTH"] = SMALL_BODY_LIMIT
    app.before_request(_limit_request_body)
