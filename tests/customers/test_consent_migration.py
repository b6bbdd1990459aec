"""The upgrade to consent per channel carries every do-not-mail customer over as a withdrawn mail consent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from mailer.db import make_engine
from mailer.schema import alembic_config
from tests.conftest import postgres_database

BEFORE_CONSENT = "e2fd5ed035a1"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of an empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    with postgres_database("consent_upgrade") as url:
        yield url


def test_do_not_mail_customers_get_a_withdrawn_mail_consent_from_the_legacy_flag(empty_database: str) -> None:
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection=connection), BEFORE_CONSENT)
        for number, status in (("C1", "active"), ("C2", "do_not_mail"), ("C3", "deceased")):
            connection.execute(
                text("INSERT INTO customers (customer_no, name, name_incomplete, status, created_at, updated_at) "
                     "VALUES (:no, 'Pat', false, :status, '2026-01-02 03:04:05', '2026-02-03 04:05:06')"),
                {"no": number, "status": status},
            )
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection=connection), "head")
        rows = connection.execute(text(
            "SELECT c.customer_no, s.channel, s.granted, s.source, s.is_current, s.decided_at "
            "FROM consents s JOIN customers c ON c.id = s.customer_id"
        )).all()
    engine.dispose()
    assert len(rows) == 1
    number, channel, granted, source, current, decided_at = rows[0]
    assert (number, channel, bool(granted), source, bool(current)) == ("C2", "mail", False, "legacy", True)
    assert str(decided_at).startswith("2026-02-03")
