"""Users and roles, API tokens and the audit log in the admin area."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.audit.models import AuditEntry
from mailer.audit.service import record
from mailer.auth.api_tokens import ApiToken
from mailer.auth.models import Role, User
from mailer.auth.service import authenticate_api_token
from tests.web.conftest import Staff, data, log_in, post


@pytest.fixture
def admin(logged_in) -> FlaskClient:  # type: ignore[no-untyped-def]
    return logged_in(Role.ADMIN)


def _user(app: Flask, user_id: int) -> User:
    with data(app) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


def test_the_users_page_lists_everyone(admin: FlaskClient, staff: dict[Role, Staff]) -> None:
    page = admin.get("/admin/users").get_data(as_text=True)
    for user in staff.values():
        assert user.email in page


def test_a_new_user_gets_a_generated_password_shown_once(app: Flask, admin: FlaskClient) -> None:
    response = post(admin, "/admin/users/new", {"email": "New.Person@Example.com", "role": "mailroom"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    password = re.search(r'<div class="secret">([^<]+)</div>', page).group(1)  # type: ignore[union-attr]
    assert len(password) >= 10
    newcomer = app.test_client()
    newcomer_staff = Staff(id=0, email="new.person@example.com", role=Role.MAILROOM, password=password)
    assert log_in(newcomer, newcomer_staff).status_code == 302
    with data(app) as session:
        created = select(AuditEntry).where(AuditEntry.action == "user.create").order_by(AuditEntry.id)
        entry = session.scalars(created).all()[-1]
        assert entry.detail == {"role": "mailroom"}
        assert password not in str(entry.detail)


def test_a_new_user_with_a_chosen_password(admin: FlaskClient) -> None:
    form = {"email": "x@example.com", "role": "marketing", "password": "long enough pw"}
    response = post(admin, "/admin/users/new", form)
    assert response.status_code == 200
    assert 'class="secret"' not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"email": "marketing@example.com", "role": "marketing"}, "already exists"),
        ({"email": "not-an-address", "role": "marketing"}, "is not an email address"),
        ({"email": "y@example.com", "role": "marketing", "password": "short"}, "between 10 and 200 characters"),
        ({"email": "y@example.com", "role": "emperor"}, "Not a valid choice"),
    ],
)
def test_a_user_that_cannot_be_made_is_refused_with_the_reason(
    admin: FlaskClient, form: dict[str, str], message: str
) -> None:
    response = post(admin, "/admin/users/new", form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_roles_change_and_users_are_deactivated_and_reactivated(
    app: Flask, admin: FlaskClient, staff: dict[Role, Staff]
) -> None:
    target = staff[Role.MAILROOM]
    assert post(admin, f"/admin/users/{target.id}", {"action": "role", "role": "marketing"}).status_code == 302
    assert _user(app, target.id).role is Role.MARKETING
    post(admin, f"/admin/users/{target.id}", {"action": "deactivate"})
    assert _user(app, target.id).is_active is False
    post(admin, f"/admin/users/{target.id}", {"action": "activate"})
    assert _user(app, target.id).is_active is True
    with data(app) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == str(target.id)).order_by(AuditEntry.id)
        ).all()
    assert actions[-3:] == ["user.update", "user.deactivate", "user.activate"]


def test_an_admin_cannot_lock_themselves_out(app: Flask, admin: FlaskClient, staff: dict[Role, Staff]) -> None:
    me = staff[Role.ADMIN]
    response = post(admin, f"/admin/users/{me.id}", {"action": "deactivate"})
    assert response.status_code == 302
    assert "you cannot deactivate yourself" in admin.get("/admin/users").get_data(as_text=True)
    post(admin, f"/admin/users/{me.id}", {"action": "role", "role": "mailroom"})
    assert _user(app, me.id).role is Role.ADMIN and _user(app, me.id).is_active


def test_bad_user_changes_are_refused(admin: FlaskClient, staff: dict[Role, Staff]) -> None:
    assert post(admin, "/admin/users/999999", {"action": "deactivate"}).status_code == 404
    assert post(admin, f"/admin/users/{staff[Role.MAILROOM].id}", {"action": "delete"}).status_code == 400
    assert post(admin, f"/admin/users/{staff[Role.MAILROOM].id}", {"action": "role"}).status_code == 400


def test_an_api_token_is_shown_once_stored_hashed_and_can_be_revoked(
    app: Flask, admin: FlaskClient, staff: dict[Role, Staff]
) -> None:
    station = staff[Role.MAILROOM]
    response = post(admin, "/admin/tokens/new", {"user_id": station.id, "label": "Mailroom scanner 1"})
    assert response.status_code == 200
    token = re.search(r'<div class="secret">([^<]+)</div>', response.get_data(as_text=True)).group(1)  # type: ignore[union-attr]

    listing = admin.get("/admin/tokens").get_data(as_text=True)
    assert "Mailroom scanner 1" in listing and token[:8] in listing and token not in listing
    with data(app) as session:
        stored = session.scalars(select(ApiToken)).one()
        assert token not in (stored.token_hash, stored.prefix)
        user = authenticate_api_token(session, token=token)
        assert user is not None and user.id == station.id
        token_id = stored.id

    assert post(admin, f"/admin/tokens/{token_id}/revoke").status_code == 302
    with data(app) as session:
        assert authenticate_api_token(session, token=token) is None
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "api_token")))
    assert actions == {"api_token.create", "api_token.revoke"}
    assert "revoked" in admin.get("/admin/tokens").get_data(as_text=True)
    assert post(admin, "/admin/tokens/999999/revoke").status_code == 404


def test_a_token_needs_a_label_and_an_active_user(admin: FlaskClient, staff: dict[Role, Staff]) -> None:
    assert post(admin, "/admin/tokens/new", {"user_id": staff[Role.MAILROOM].id, "label": ""}).status_code == 400
    post(admin, f"/admin/users/{staff[Role.MAILROOM].id}", {"action": "deactivate"})
    response = post(admin, "/admin/tokens/new", {"user_id": staff[Role.MAILROOM].id, "label": "x"})
    assert response.status_code == 400


def test_the_audit_log_pages_newest_first_and_filters_by_action(app: Flask, admin: FlaskClient) -> None:
    with data(app) as session:
        for number in range(120):
            record(session, actor="test", action="test.step", object_type="thing", object_id=str(number))
    seen: list[str] = []
    url: str | None = "/admin/audit?action=test.step"
    while url:
        page = admin.get(url).get_data(as_text=True)
        seen += re.findall(r"test\.step thing (\d+) <span", page)
        match = re.search(r'href="([^"]+)" rel="next"', page)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == [str(n) for n in reversed(range(120))]

    everything = admin.get("/admin/audit").get_data(as_text=True)
    assert "auth.login" in everything and "test.step" in everything
    assert "auth.login" not in admin.get("/admin/audit?action=test.step").get_data(as_text=True).split("<tbody>")[1]


def test_spaces_around_a_token_label_do_not_count_against_its_length(app: Flask, logged_in, staff) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(Role.ADMIN)
    label = " " * 50 + "x" * 60
    response = post(client, "/admin/tokens/new", {"user_id": staff[Role.MAILROOM].id, "label": label})
    assert response.status_code == 200 and "x" * 60 in response.get_data(as_text=True)
    with data(app) as session:
        assert session.scalar(select(ApiToken.label)) == "x" * 60


def test_the_audit_log_says_changes_in_words_and_filters_by_user_customer_and_date(
    app: Flask, admin: FlaskClient
) -> None:
    from datetime import UTC, datetime

    from tests.factories import add_customer

    with data(app) as session:
        customer = add_customer(session, "C-AUD-1")
        add_customer(session, "C-AUD-2")
        record(session, actor="clerk@example.com", action="customer.update", object_type="customer",
               object_id="C-AUD-1", detail={"fields": ["name", "phone"], "source": "import"})
        record(session, actor="boss@example.com", action="user.update", object_type="user", object_id="7",
               detail={"role": ["marketing", "admin"]})
        record(session, actor="clerk@example.com", action="customer.update", object_type="customer",
               object_id="C-AUD-2", detail={"fields": ["email"]})
        old = record(session, actor="clerk@example.com", action="customer.update", object_type="customer",
                     object_id="C-AUD-1", detail={"fields": ["email"]})
        old.created_at = datetime(2026, 1, 15, 12, tzinfo=UTC)
        customer_id = customer.id

    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "changed customer C-AUD-1" in page and "changed user 7" in page
    assert "role:</span> marketing → admin" in page
    assert "fields:</span> name, phone" in page

    by_user = admin.get("/admin/audit?actor=boss@example.com").get_data(as_text=True).split("<tbody>")[1]
    assert "changed user 7" in by_user and "C-AUD-1" not in by_user

    response = post(admin, "/admin/audit/customer", {"customer_no": "C-AUD-1", "actor": "clerk@example.com"})
    assert response.status_code == 302
    assert response.location == f"/admin/audit?actor=clerk@example.com&customer={customer_id}"
    by_customer = admin.get(response.location).get_data(as_text=True).split("<tbody>")[1]
    assert by_customer.count("changed customer C-AUD-1") == 2 and "C-AUD-2" not in by_customer

    january = admin.get(f"/admin/audit?customer={customer_id}&since=2026-01-01&until=2026-01-31")
    rows = january.get_data(as_text=True).split("<tbody>")[1]
    assert rows.count("changed customer C-AUD-1") == 1 and "fields:</span> email" in rows

    unknown = post(admin, "/admin/audit/customer", {"customer_no": "NOPE"}, follow_redirects=True)
    assert "No customer has the number “NOPE”." in unknown.get_data(as_text=True)
