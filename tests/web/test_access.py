"""Every route, every role: who may open what, declared once here and checked against the app."""

from __future__ import annotations

from contextlib import suppress
from uuid import uuid4

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from mailer.auth.models import Role
from mailer.auth.service import create_api_token, get_user
from tests.web.conftest import Staff, csrf_token, data, import_demo_customers, log_in

PUBLIC = "everybody"
STAFF = "any logged-in user"
ADMIN_ONLY: frozenset[Role] = frozenset()
MARKETING = frozenset({Role.MARKETING})

# Who may use each endpoint besides admins, who may use all. A new route must be added here.
ACCESS: dict[str, str | frozenset[Role]] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "selfservice.update": PUBLIC,
    "selfservice.thanks": PUBLIC,
    "selfservice.sender_style": PUBLIC,
    "selfservice.divisions": PUBLIC,
    "auth.home": STAFF,
    "auth.logout": STAFF,
    "auth.profile": STAFF,
    "auth.change_own_password": STAFF,
    "dashboard.index": MARKETING,
    "customers.index": MARKETING,
    "customers.search": MARKETING,
    "customers.show": MARKETING,
    "customers.accept_address_suggestion": MARKETING,
    "customers.correct": MARKETING,
    "customers.consent": MARKETING,
    "customers.note": MARKETING,
    "customers.export_page": ADMIN_ONLY,
    "customers.export_json": ADMIN_ONLY,
    "customers.erase": ADMIN_ONLY,
    "dedupe.index": MARKETING,
    "dedupe.search": MARKETING,
    "dedupe.merge": MARKETING,
    "dedupe.merges": MARKETING,
    "dedupe.undo": MARKETING,
    "dedupe.dismiss": MARKETING,
    "dedupe.restore": MARKETING,
    "retention.index": MARKETING,
    "retention.export": MARKETING,
    "imports.upload": MARKETING,
    "batches.campaigns": MARKETING,
    "batches.campaign_results": MARKETING,
    "batches.new_batch": MARKETING,
    "batches.show": MARKETING,
    "batches.render": MARKETING,
    "batches.cancel": MARKETING,
    "batches.proof": MARKETING,
    "batches.progress": MARKETING,
    "batches.download_file": MARKETING,
    "batches.download_manifest": MARKETING,
    "batches.download_held": MARKETING,
    "admin.users": ADMIN_ONLY,
    "admin.new_user": ADMIN_ONLY,
    "admin.update_user": ADMIN_ONLY,
    "admin.tokens": ADMIN_ONLY,
    "admin.new_token": ADMIN_ONLY,
    "admin.revoke_token": ADMIN_ONLY,
    "admin.audit": ADMIN_ONLY,
    "admin.looks": ADMIN_ONLY,
    "admin.audit_customer": ADMIN_ONLY,
    "returns_api.record": frozenset({Role.MAILROOM}),
    "returns_api.undo": frozenset({Role.MAILROOM}),
    "mailroom.scan": frozenset({Role.MAILROOM}),
    "mailroom.reason_card": frozenset({Role.MAILROOM}),
}


def may(entry: str | frozenset[Role], role: Role | None) -> bool:
    """Tell whether the table lets this role (None: nobody logged in) use an endpoint."""
    if entry == PUBLIC:
        return True
    if role is None:
        return False
    return entry == STAFF or role is Role.ADMIN or role in entry


def test_every_route_is_in_the_table(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - ACCESS.keys() == set(), "declare who may use the new routes in ACCESS"
    assert ACCESS.keys() - endpoints == set(), "remove routes that no longer exist from ACCESS"


def _requests(app: Flask, arguments: dict[str, object]) -> list[tuple[str, str, str]]:
    """Return (endpoint, method, url) for every route, logout last (it ends the session)."""
    with app.test_request_context():
        from flask import url_for

        found = []
        for rule in app.url_map.iter_rules():
            url = url_for(rule.endpoint, **{name: arguments[name] for name in rule.arguments})
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url))
    return sorted(found, key=lambda item: item[0] == "auth.logout")


@pytest.mark.parametrize("role", [None, Role.MAILROOM, Role.MARKETING, Role.ADMIN], ids=str)
def test_each_role_gets_exactly_what_the_table_allows(
    app: Flask, client: FlaskClient, staff: dict[Role, Staff], role: Role | None, tmp_path
) -> None:
    (customer_id,) = import_demo_customers(app, tmp_path, 1)
    with data(app) as session:
        mailroom = get_user(session, user_id=staff[Role.MAILROOM].id)
        assert mailroom is not None
        api_token, _ = create_api_token(session, user=mailroom, label="station", actor="test")
        token_id = api_token.id
    arguments = {
        "customer_id": customer_id, "user_id": staff[Role.MAILROOM].id, "token_id": token_id,
        "filename": "mailer.css", "batch_id": 999_999, "file_no": 1,  # no such batch: nothing is queued
        "campaign_id": 999_999,  # no such campaign: a 404 for those who may ask
        "token": "NOT-A-LINK",  # an address-update link no envelope carries: the plain error page
        "profile": "cn-dl",
        "code": "320000",
    }
    if role is not None:
        assert log_in(client, staff[role]).status_code == 302

    # Routes that queue a job (the duplicate search) queue it on a queue of this test's own, emptied after.
    app.config["RENDER_QUEUE"] = f"access-test-{uuid4().hex[:12]}"
    try:
        _request_every_route(app, client, arguments, role)
    finally:
        with suppress(RedisError):
            Queue(app.config["RENDER_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"])).empty()


def _request_every_route(
    app: Flask, client: FlaskClient, arguments: dict[str, object], role: Role | None
) -> None:
    for endpoint, method, url in _requests(app, arguments):
        token = csrf_token(client)
        response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        response.close()  # the static file's
        where = f"{method} {url} as {role}: {response.status_code}"
        assert response.status_code < 500, where
        if may(ACCESS[endpoint], role):
            assert response.status_code != 403, where
            if role is None:
                assert not (response.status_code == 302 and response.location.endswith("/login")), where
        elif role is None:
            assert response.status_code == 302 and response.location.endswith("/login"), where
        else:
            assert response.status_code == 403, where


def test_a_view_that_declares_nothing_is_refused_to_everyone(
    app: Flask, client: FlaskClient, staff: dict[Role, Staff]
) -> None:
    app.add_url_rule("/undeclared", "undeclared", lambda: "open to all?")
    log_in(client, staff[Role.ADMIN])
    assert client.get("/undeclared").status_code == 403


def test_a_stranger_is_sent_to_log_in_and_then_to_the_page_they_asked_for(
    client: FlaskClient, staff: dict[Role, Staff]
) -> None:
    response = client.get("/customers?status=active")
    assert response.status_code == 302 and response.location.endswith("/login")
    response = log_in(client, staff[Role.MARKETING])
    assert response.location == "/customers?status=active"


def test_the_start_page_depends_on_the_role(logged_in) -> None:  # type: ignore[no-untyped-def]
    assert logged_in(Role.MARKETING).get("/").location == "/dashboard"
    assert logged_in(Role.ADMIN).get("/").location == "/dashboard"
    assert logged_in(Role.MAILROOM).get("/").location == "/mailroom"


def test_the_menu_shows_only_what_the_role_may_open(logged_in) -> None:  # type: ignore[no-untyped-def]
    mailroom_page = logged_in(Role.MAILROOM).get("/profile").get_data(as_text=True)
    marketing_page = logged_in(Role.MARKETING).get("/profile").get_data(as_text=True)
    admin_page = logged_in(Role.ADMIN).get("/profile").get_data(as_text=True)
    assert 'href="/customers"' not in mailroom_page and 'href="/admin/users"' not in mailroom_page
    assert 'href="/customers"' in marketing_page and 'href="/admin/users"' not in marketing_page
    assert 'href="/customers"' in admin_page and 'href="/admin/audit"' in admin_page
