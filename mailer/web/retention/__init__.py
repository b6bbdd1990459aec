"""The retention list: customers likely to leave, most spend at stake first, and its audited CSV export."""

from flask import Blueprint

bp = Blueprint("retention", __name__, url_prefix="/retention")

from mailer.web.retention import views  # noqa: E402,F401  (attaches the routes)
