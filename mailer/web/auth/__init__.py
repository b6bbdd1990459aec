"""Logging in and out, and each user's own profile."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from mailer.web.auth import views  # noqa: E402,F401  (attaches the routes)
