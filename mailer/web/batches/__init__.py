"""Campaigns and batches: create a batch, render it on the job queue, download its files."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("batches", __name__)


from mailer.web.batches import views  # noqa: E402,F401  (attaches the routes)
