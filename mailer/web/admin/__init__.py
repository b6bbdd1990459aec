"""The admin area: staff users and roles, API tokens, and the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from mailer.web.admin import views  # noqa: E402,F401  (attaches the routes)
