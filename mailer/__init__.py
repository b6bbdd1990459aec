"""mailer: a direct-mail address lifecycle manager."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailer.config import load_secret_key, settings_from_environment

if TYPE_CHECKING:
    from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app; ``config`` overrides settings taken from the environment."""
    # Imported here: the command line lists and explains its commands without loading Flask.
    from flask import Flask

    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.update(settings_from_environment(app.instance_path))
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(app.instance_path)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    import mailer.models  # noqa: F401  (registers every table on the metadata)
    from mailer.db import db

    db.init_app(app)

    from mailer.cli import register_commands

    register_commands(app)

    from mailer.web import init_web

    init_web(app)
    return app
