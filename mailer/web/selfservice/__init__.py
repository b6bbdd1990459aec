"""The customers' page: updating or confirming their address through the link on the envelope."""

from flask import Blueprint

bp = Blueprint("selfservice", __name__, url_prefix="/u")

from mailer.web.selfservice import views  # noqa: E402,F401  (attaches the routes)
