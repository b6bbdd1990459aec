"""Error pages in the page's language."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You are not allowed to open this page."),
    404: _l("There is no such page."),
    405: _l("This page cannot be used that way."),
    413: _l("The file is too large."),
    429: _l("Too many attempts. Wait a minute and try again."),
}


def _render(code: int, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", code=code, message=message), code


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    return _render(code, str(_MESSAGES.get(code, error.name)))


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return _render(400, str(_l("The form expired or was sent from elsewhere. Go back, reload and try again.")))


def register_error_handlers(app: Flask) -> None:
    """Answer HTTP errors with the site's error page."""
    app.register_error_handler(CSRFError, _csrf_error)
    for code in _MESSAGES:
        app.register_error_handler(code, _http_error)
