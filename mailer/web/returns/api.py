"""The returned-mail API: a mailroom station or an integration records a returned piece.

``POST /api/returns`` with ``{"piece_code": ..., "reason": ...}`` (optionally ``returned_at``,
``new_address`` for a move, ``change_address: false`` to log without changing the address, and
``note``). Who may call it: mailroom staff and admins (``@allow(Role.MAILROOM)``), either

- with an API token, ``Authorization: Bearer <token>`` (stations, integrations): no CSRF token,
  since another site's page cannot send that header; or
- from a logged-in page, with the session's CSRF token in the ``X-CSRFToken`` header.

A JSON request with neither gets 401; a bad or revoked token 401; a marketing user 403. Every
answer is JSON: the outcome, or ``{"error": ...}`` in words a clerk understands.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn, cast

from flask import Blueprint, Request, current_app, g, jsonify, make_response, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, abort

from mailer.addresses.service import ADDRESS_FIELDS
from mailer.auth.models import Role, User
from mailer.auth.service import authenticate_api_token
from mailer.db import db
from mailer.web.access import actor_name, allow, logged_in_user, rule_for
from mailer.web.extensions import csrf, login_manager
from mailer.web.i18n import say
from returns.models import ReturnSource
from returns.service import (
    PieceNotFound,
    ReturnConflict,
    ReturnError,
    UnknownReason,
    parse_returned_at,
    record_return,
    undo_return,
)

logger = logging.getLogger(__name__)

bp = Blueprint("returns_api", __name__, url_prefix="/api")

# A note or reason is a line or two; an address field is bounded in the address check itself.
TEXT_MAX_LENGTH = 1000
ADDRESS_FIELD_MAX_LENGTH = 1000

_MESSAGES = {
    400: "The request could not be understood.",
    401: "Log in, or send an API token: Authorization: Bearer <token>.",
    403: "Your account may not record returned mail. Ask an admin for the mailroom role.",
    404: "There is no such address in the API.",
    405: "This address of the API cannot be used that way.",
    413: "The request is too large.",
    415: "Send JSON (Content-Type: application/json).",
    429: "Too many requests. Wait a minute and try again.",
    503: "The database is busy. Send the scan again in a moment.",
}


def _fail(status: int, message: str) -> NoReturn:
    response = make_response(jsonify(error=message), status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mailer"'
    abort(response)


def _json_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    message = error.description if isinstance(error, CSRFError) else _MESSAGES.get(status, error.name)
    response = make_response(jsonify(error=message), status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mailer"'
    return response


for _status in _MESSAGES:
    bp.register_error_handler(_status, _json_error)


# --- who is calling ------------------------------------------------------------------------------


def _token_user() -> User | None:
    """Return the user of the request's API token, None without one; answer 401 for a bad one."""
    if "api_token_user" in g:
        # Flask's g holds untyped attributes: this one is set below, to a User.
        return cast(User, g.api_token_user)
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        _fail(401, "Send the API token as: Authorization: Bearer <token>.")
    user = authenticate_api_token(db.session, token=token.strip())
    if user is None:
        _fail(401, "This API token is not valid or was revoked. Ask an admin for a new one.")
    g.api_token_user = user
    return user


def _user_from_request(incoming: Request) -> User | None:
    # Flask-Login asks this when no one is logged in; only this API takes tokens.
    if incoming.blueprint != bp.name:
        return None
    user = _token_user()
    if user is None and incoming.is_json:
        # A program calling the API gets an answer it can read, not the login page.
        _fail(401, _MESSAGES[401])
    return user


@bp.record_once
def _accept_api_tokens(state: BlueprintSetupState) -> None:
    login_manager.request_loader(_user_from_request)


@bp.before_request
def _authenticate() -> None:
    """Settle who calls: a token's user (no CSRF), or the logged-in user with the CSRF token."""
    token_user = _token_user()
    if token_user is not None:
        # check_access may have admitted a logged-in user instead; the token decides.
        rule = rule_for(request.endpoint or "")
        if rule is None or not rule.admits(token_user):
            _fail(403, _MESSAGES[403])
        g.api_user = token_user
        return
    user = logged_in_user()
    if user is None:
        _fail(401, _MESSAGES[401])
    csrf.protect()
    g.api_user = user


# --- recording a return --------------------------------------------------------------------------


def _text(data: dict[str, Any], name: str, *, required: bool = False, max_length: int = TEXT_MAX_LENGTH) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            _fail(400, f"{name} is missing: send {{\"piece_code\": ..., \"reason\": ...}}.")
        return None
    if not isinstance(value, str):
        _fail(400, f"{name} must be text")
    if "\x00" in value:
        # No one types one, and PostgreSQL cannot store one in text.
        _fail(400, f"{name} contains a NUL character")
    if len(value) > max_length:
        _fail(400, f"{name} may have at most {max_length} characters")
    return value


def _new_address(data: dict[str, Any]) -> dict[str, str]:
    value = data.get("new_address")
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(400, f"new_address must be an object of text fields: {', '.join(ADDRESS_FIELDS)}")
    unknown = sorted(set(value) - set(ADDRESS_FIELDS))
    if unknown:
        # A forwarding address under other names must not be taken for "moved, left no address".
        _fail(400, f"new_address has unknown fields {', '.join(unknown)}; use {', '.join(ADDRESS_FIELDS)}")
    return {name: _text(value, name, max_length=ADDRESS_FIELD_MAX_LENGTH) or "" for name in value}


@bp.post("/returns")
@allow(Role.MAILROOM)
@csrf.exempt  # token requests need no CSRF token; session requests are checked in _authenticate
def record() -> ResponseReturnValue:
    """Record a returned piece: its reason changes the address, the customer and churn at once."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested too deep for the JSON parser
        data = None
    if not isinstance(data, dict):
        _fail(400, 'Send a JSON object: {"piece_code": ..., "reason": ...}.')
    piece_code = _text(data, "piece_code", required=True)
    reason = _text(data, "reason", required=True)
    returned_at_text = _text(data, "returned_at")
    new_address = _new_address(data)
    change_address = data.get("change_address", True)
    if not isinstance(change_address, bool):
        _fail(400, "change_address must be true or false")

    session = db.session
    user: User = g.api_user
    try:
        outcome = record_return(
            session,
            piece_code=piece_code or "",
            reason=reason or "",
            source=ReturnSource.SCAN,
            actor=actor_name(user),
            returned_at=parse_returned_at(returned_at_text) if returned_at_text else None,
            new_address=new_address,
            change_address=change_address,
            note=_text(data, "note"),
            window_days=current_app.config["SOFT_RETURN_WINDOW_DAYS"],
        )
    except ReturnError as exc:
        status = 404 if isinstance(exc, PieceNotFound) else 409 if isinstance(exc, ReturnConflict) else 422
        if isinstance(exc, UnknownReason | PieceNotFound):
            logger.info("user %s: return not recorded: %s", user.id, exc)
        _fail(status, say(exc))
    status = 200 if outcome.already_recorded or outcome.corrected else 201
    answer = outcome.as_dict()
    answer["message"] = say(outcome.message)  # in the clerk's language; the rest is data
    return jsonify(answer), status


@bp.post("/returns/undo")
@allow(Role.MAILROOM)
@csrf.exempt  # as for recording: token requests need no CSRF token, session requests are checked
def undo() -> ResponseReturnValue:
    """Take back the last scan of a piece (``{"piece_code": ..., "reason": ...}``), kept as a correction."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        _fail(400, 'Send a JSON object: {"piece_code": ..., "reason": ...}.')
    piece_code = _text(data, "piece_code", required=True)
    reason = _text(data, "reason", required=True)
    user: User = g.api_user
    try:
        outcome = undo_return(
            db.session, piece_code=piece_code or "", reason=reason or "", source=ReturnSource.SCAN,
            actor=actor_name(user), window_days=current_app.config["SOFT_RETURN_WINDOW_DAYS"],
        )
    except ReturnError as exc:
        status = 404 if isinstance(exc, PieceNotFound) else 409 if isinstance(exc, ReturnConflict) else 422
        _fail(status, say(exc))
    answer = outcome.as_dict()
    answer["message"] = say(outcome.message)
    return jsonify(answer), 200
