"""The marketing dashboard: customers, addresses and churn risk at a glance."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from mailer.web.dashboard import views  # noqa: E402,F401  (attaches the routes)
