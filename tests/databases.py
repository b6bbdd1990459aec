"""Scratch PostgreSQL databases for tests and benchmarks, created fresh and dropped afterwards."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def postgres_admin(statement: str) -> None:
    """Run one statement on the server's admin database, outside any transaction."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


def create_postgres_database(name: str) -> str:
    """Create an empty database ``name`` (dropping one left over) and return its URL."""
    postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    postgres_admin(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(name: str) -> None:
    """Drop database ``name``, ending its connections."""
    postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
