"""Who looked at whom: page openings, searches and exports, by user and by customer, for admins only."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from mailer.auth.models import Role
from tests.factories import add_customer
from tests.web.conftest import data, post


def test_views_searches_and_exports_are_listed_by_user_and_customer(
    app: Flask, logged_in: Callable[[Role], FlaskClient]
) -> None:
    with data(app) as session:
        first = add_customer(session, "C1").id
        second = add_customer(session, "C2", line1="9 Elm Street").id
    marketing = logged_in(Role.MARKETING)
    marketing.get(f"/customers/{first}")
    post(marketing, "/customers/search", {"q": "Smith"})
    admin = logged_in(Role.ADMIN)
    admin.get(f"/customers/{second}")
    admin.get(f"/customers/{second}/export.json")

    everything = admin.get("/admin/looks").get_data(as_text=True)
    assert everything.count("<tr>") == 1 + 4
    assert "opened the customer page" in everything and "searched the customers" in everything
    assert "term: Smith" in everything and "exported everything held" in everything

    by_user = admin.get("/admin/looks?user=marketing@example.com").get_data(as_text=True)
    assert by_user.count("<tr>") == 1 + 2 and "admin@example.com</td>" not in by_user

    by_customer = admin.get(f"/admin/looks?customer={second}").get_data(as_text=True)
    assert by_customer.count("<tr>") == 1 + 2 and "Customer C2 only." in by_customer
    assert "C1" not in by_customer.split("<table", 1)[1]


def test_only_admins_see_who_looked(app: Flask, logged_in: Callable[[Role], FlaskClient]) -> None:
    assert logged_in(Role.MARKETING).get("/admin/looks").status_code == 403
