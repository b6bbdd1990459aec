"""Reviewing likely duplicate customers side by side, merging them, and undoing merges."""

from flask import Blueprint

bp = Blueprint("dedupe", __name__, url_prefix="/duplicates")

from mailer.web.dedupe import views  # noqa: E402,F401  (attaches the routes)
