"""Campaigns and batches: create a batch, render it on the job queue, download its files."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from mailer.batches.rendering import DEFAULT_PIECES_PER_FILE

bp = Blueprint("batches", __name__)


@bp.record_once
def _settings(state: BlueprintSetupState) -> None:
    config = state.app.config
    # PDFs and manifests, one subfolder per batch. Web and render workers must see the same
    # folder at the same path (a shared mount when workers run on other machines).
    config.setdefault(
        "BATCH_OUTPUT_DIR", os.environ.get("BATCH_OUTPUT_DIR") or str(Path(state.app.instance_path) / "batches")
    )
    config.setdefault("BATCH_PIECES_PER_FILE", DEFAULT_PIECES_PER_FILE)


from mailer.web.batches import views  # noqa: E402,F401  (attaches the routes)
