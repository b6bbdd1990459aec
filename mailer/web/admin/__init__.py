"""The admin area: staff users and roles, API tokens, and the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from mailer.web.admin import looks, views  # noqa: E402,F401  (attach the routes)
