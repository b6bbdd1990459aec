"""mailer: a direct-mail address lifecycle manager."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mailer.settings import INSTANCE_PATH, PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["PROJECT_ROOT", "create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from the settings in the environment; ``config`` overrides them.

    Writes no file and creates no folder: ``python -m mailer init`` makes the instance folder's
    database and secret key.
    """
    # Imported here: the command line lists and explains its commands without loading Flask.
    from flask import Flask

    app = Flask(__name__, instance_path=str(INSTANCE_PATH), template_folder=str(PROJECT_ROOT / "templates"))
    app.config.update(Settings.from_environment(instance_path=app.instance_path).as_config())
    if config:
        app.config.update(config)

    import mailer.models  # noqa: F401  (registers every table on the metadata)
    from mailer.db import db

    db.init_app(app)

    from mailer.reference.store import configure

    # Where an updated reference file lives; verification reads it wherever addresses are written.
    configure(app.config["REFERENCE_DATA_PATH"])

    from mailer.cli import register_commands

    register_commands(app)

    from mailer.web import init_web

    init_web(app)
    return app
