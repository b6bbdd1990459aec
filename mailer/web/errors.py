"""Error pages in the page's language."""

from __future__ import annotations

import logging
from types import TracebackType

from flask import Flask, current_app, has_request_context, jsonify, render_template, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.wrappers import Response

from mailer.web.i18n import DEFAULT_LOCALE, LANGUAGES
from mailer.web.limits import takes_a_file, upload_limit_mb

log = logging.getLogger(__name__)

_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You are not allowed to open this page."),
    404: _l("There is no such page."),
    405: _l("This page cannot be used that way."),
    413: _l("The request is too large."),
    429: _l("Too many attempts. Wait a minute and try again."),
    503: _l("The database is busy. Try again in a moment."),
}
SERVER_ERROR = _l(
    "Something went wrong on our side. Try again in a moment; if it keeps happening, tell an administrator."
)
# The customers' pages: no administrator of ours to tell.
SERVER_ERROR_FOR_CUSTOMERS = _l("Something went wrong on our side. Please try again in a moment.")


# Programs call these addresses: they are answered in JSON, even where no API route matched.
API_PREFIX = "/api/"


def _render(code: int, message: str) -> tuple[str | Response, int]:
    if request.path.startswith(API_PREFIX):
        return jsonify(error=message), code
    if request.blueprint == "selfservice":
        # A customer (too many links tried, too large a form) gets the customers' page, no staff menu.
        return render_template("selfservice/error.html", status=code, message=message), code
    return render_template("errors/error.html", code=code, message=message), code


def _http_error(error: HTTPException) -> tuple[str | Response, int]:
    code = error.code or 500
    return _render(code, str(_MESSAGES.get(code, error.name)))


def _too_large(error: RequestEntityTooLarge) -> tuple[str | Response, int]:
    if not takes_a_file():
        return _http_error(error)
    message = _(
        "The file is larger than %(limit)s MB, the most this page takes. Import a larger file on the command "
        "line: python -m mailer customers import FILE (or orders import).",
        limit=upload_limit_mb(),
    )
    return _render(413, message)


def _csrf_error(error: CSRFError) -> tuple[str | Response, int]:
    return _render(400, str(_l("The form expired or was sent from elsewhere. Go back, reload and try again.")))


def _browser_language() -> str:
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LOCALE


def _server_error_language(for_customers: bool) -> str:
    if for_customers:
        return _browser_language()
    try:
        # The staff user's own language; it loads the user, so the database may be what failed.
        return str(get_locale())
    except Exception as exc:  # most likely the very failure being answered, logged in full already
        log.warning("the error page cannot read the user's language (%s); using the browser's", type(exc).__name__)
        return _browser_language()


def _server_error(error: InternalServerError) -> tuple[str | Response, int]:
    if request.path.startswith(API_PREFIX):
        # In the language the page would speak, read without trusting the database.
        with force_locale(_server_error_language(for_customers=False)):
            return jsonify(error=str(SERVER_ERROR)), 500
    # errors/500.html stands alone (no user, no menu, no database), so it renders whatever broke; and
    # not through render_template, whose context processors load the logged-in user for current_user.
    for_customers = request.blueprint == "selfservice"
    template = current_app.jinja_env.get_template("errors/500.html")
    with force_locale(_server_error_language(for_customers)):
        message = SERVER_ERROR_FOR_CUSTOMERS if for_customers else SERVER_ERROR
        page = template.render(message=str(message), for_customers=for_customers)
    return page, 500


def _log_unhandled_exception(
    exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
) -> None:
    # Instead of Flask's line, which names the path: a customer's link carries its token there.
    endpoint = request.endpoint if has_request_context() else None
    log.error("unhandled %s in %s", exc_info[0].__name__ if exc_info[0] else "error", endpoint, exc_info=exc_info)


def register_error_handlers(app: Flask) -> None:
    """Answer HTTP errors, and exceptions nothing else handled, with the site's error pages."""
    app.register_error_handler(CSRFError, _csrf_error)
    for code in _MESSAGES:
        app.register_error_handler(code, _http_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(InternalServerError, _server_error)
    # Replacing the method on this app alone; mypy refuses any assignment to a method.
    app.log_exception = _log_unhandled_exception  # type: ignore[method-assign]
