"""The mailroom: the scanning page for returned mail and the printable reason card."""

from __future__ import annotations

import os

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

bp = Blueprint("mailroom", __name__, url_prefix="/mailroom")

# A reason key pressed alone picks its reason after this many milliseconds with nothing typed
# after it. A scanner types a whole code (which may begin with a key) far faster; raise it for
# a scanner that types slowly (some Bluetooth ones), lower it for clerks who find it sluggish.
DEFAULT_KEY_WAIT_MS = 150


@bp.record_once
def _settings(state: BlueprintSetupState) -> None:
    state.app.config.setdefault(
        "MAILROOM_KEY_WAIT_MS", int(os.environ.get("MAILROOM_KEY_WAIT_MS") or DEFAULT_KEY_WAIT_MS)
    )


from mailer.web.mailroom import views  # noqa: E402,F401  (attaches the routes)
