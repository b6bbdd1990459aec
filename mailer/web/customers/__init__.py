"""The customer list with search and filters, and the customer page."""

from flask import Blueprint

bp = Blueprint("customers", __name__, url_prefix="/customers")

from mailer.web.customers import actions, privacy, views  # noqa: E402,F401  (attach the routes)
