"""The mailroom: the scanning page for returned mail and the printable reason card."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mailroom", __name__, url_prefix="/mailroom")


from mailer.web.mailroom import views  # noqa: E402,F401  (attaches the routes)
