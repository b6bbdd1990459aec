"""The scanning page and the reason card.

The scanning page records nothing itself: its script (static/mailroom.js) checks each piece
code's check character, then posts the piece and the picked reason to ``POST /api/returns``
with the session's CSRF token, and shows the answer. The reason card prints every reason's
shortcut key and a Code 128 barcode of its code, which a scanner types like a piece code.
"""

from __future__ import annotations

from flask import current_app, render_template, url_for

from mailer.addresses.models import AddressValidity
from mailer.auth.models import Role
from mailer.customers.models import CustomerStatus
from mailer.web.access import allow
from mailer.web.i18n import label, reason_label
from mailer.web.mailroom import bp
from mailer.web.mailroom.barcodes import code128_bars
from returns.catalog import REASONS

# The page lists this many of its latest scans.
RECENT_SCANS = 10


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"reasons": list(REASONS.values()), "reason_label": reason_label}


@bp.route("")
@allow(Role.MAILROOM)
def scan() -> str:
    """Show the scanning page: a piece code, then one key for its reason."""
    return render_template(
        "mailroom/scan.html",
        api_url=url_for("returns_api.record"),
        undo_url=url_for("returns_api.undo"),
        key_wait_ms=int(current_app.config["MAILROOM_KEY_WAIT_MS"]),
        recent_scans=RECENT_SCANS,
        validities={validity.value: label(validity) for validity in AddressValidity},
        statuses={status.value: label(status) for status in CustomerStatus},
    )


@bp.route("/reason-card")
@allow(Role.MAILROOM)
def reason_card() -> str:
    """Show the printable card of reasons: each one's key, code, labels and barcode."""
    barcodes = {code: code128_bars(code) for code in REASONS}
    return render_template("mailroom/reason_card.html", barcodes=barcodes)
