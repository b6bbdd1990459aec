"""Uploading customer and order files, with the result row by row."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")

from mailer.web.imports import views  # noqa: E402,F401  (attaches the routes)
