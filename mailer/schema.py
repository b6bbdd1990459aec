"""Creating and upgrading the schema through the Alembic migrations."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from mailer.settings import PROJECT_ROOT


def alembic_config(*, connection: Connection | None = None, database_url: str | None = None) -> Config:
    """Return an Alembic config for the project's migrations, bound to a connection or URL."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def upgrade_schema(connection: Connection) -> None:
    """Bring the database on this connection up to the newest migration."""
    command.upgrade(alembic_config(connection=connection), "head")
