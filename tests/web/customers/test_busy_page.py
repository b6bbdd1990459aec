"""The customer page writes who looked: on a busy SQLite file it waits for the writer, never a 503."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from mailer.audit.models import AuditEntry
from mailer.auth.models import Role
from mailer.auth.service import create_user
from tests.factories import add_customer
from tests.web.conftest import PASSWORD, csrf_token, data
from tests.web.test_busy_sqlite import (
    file_app,  # noqa: F401  (the fixture: the app on its own SQLite file)
    write_lock_held,
)


def test_the_customer_page_waits_for_a_long_write_and_logs_the_look(file_app: Flask) -> None:  # noqa: F811
    with data(file_app) as session:
        create_user(session, email="marketing@example.com", password=PASSWORD, role=Role.MARKETING, actor="t")
        customer_id = add_customer(session, "C1").id
    client = file_app.test_client()
    login = {"email": "marketing@example.com", "password": PASSWORD, "csrf_token": csrf_token(client)}
    assert client.post("/login", data=login).status_code == 302
    # Another process holds the write lock, then commits: the page's read snapshot would be stale.
    with write_lock_held(file_app, "UPDATE customers SET phone = '555' WHERE id = ?", (customer_id,), seconds=1.5):
        response = client.get(f"/customers/{customer_id}")

    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    with data(file_app) as session:
        assert session.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "customer.view")).all() == ["C1"]
