"""The scanning API: answers, errors a clerk understands, and who may call it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from mailer.auth.api_tokens import ApiToken
from mailer.auth.models import Role
from mailer.auth.service import create_api_token, create_user, get_user, revoke_api_token
from mailer.batches.models import MailPiece
from mailer.web.limits import SMALL_BODY_LIMIT
from returns.models import MailReturn
from tests.returns.conftest import mail_customers
from tests.web.conftest import PASSWORD, Staff, csrf_token, data, log_in


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with one PBKDF2 round: these tests are about the API, not about hashing."""
    import mailer.auth.service

    monkeypatch.setattr(
        mailer.auth.service, "generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1"),
    )


@pytest.fixture
def staff(app: Flask) -> dict[Role, Staff]:
    """Create one user per role."""
    with data(app) as session:
        users = {
            role: create_user(session, email=f"{role.value}@example.com", password=PASSWORD, role=role, actor="t")
            for role in Role
        }
        return {role: Staff(id=user.id, email=user.email, role=role) for role, user in users.items()}


@pytest.fixture
def tokens(app: Flask, staff: dict[Role, Staff]) -> dict[Role, str]:
    """Issue one API token per role."""
    with data(app) as session:
        issued = {}
        for role, member in staff.items():
            user = get_user(session, user_id=member.id)
            assert user is not None
            issued[role] = create_api_token(session, user=user, label=f"{role.value} station", actor="t")[1]
        return issued


@pytest.fixture
def pieces(app: Flask) -> dict[str, str]:
    """Mail three customers; return their piece codes by customer number."""
    with data(app) as session:
        return {number: piece.piece_code for number, piece in mail_customers(session, "C1", "C2", "C3").items()}


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    """Return a test client with no one logged in."""
    yield app.test_client()


def post(client: FlaskClient, body: object, token: str | None = None, **headers: str):  # type: ignore[no-untyped-def]
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/api/returns", json=body, headers=headers)


def stored_returns(app: Flask) -> int:
    with data(app) as session:
        return session.scalar(select(func.count()).select_from(MailReturn)) or 0


def test_a_scan_answers_with_the_piece_the_new_validity_and_the_churn_risk(
    client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    response = post(client, {"piece_code": pieces["C1"].lower(), "reason": "V"}, tokens[Role.MAILROOM])

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "recorded" and not body["already_recorded"]
    assert body["piece"]["code"] == f"{pieces['C1'][:4]}-{pieces['C1'][4:]}"
    assert body["piece"]["lines"][0] == "PAT C1"
    assert body["reason"] == {"code": "VAC", "label_en": "Vacant", "label_zh": "房屋空置"}
    assert body["address"]["previous_validity"] == "deliverable" and body["address"]["validity"] == "undeliverable"
    assert body["customer"]["customer_no"] == "C1" and body["customer"]["churn_risk"] == pytest.approx(2 / 3)
    assert body["message"].startswith("Recorded: piece")


def test_the_log_line_of_a_scan_names_the_piece_and_customer_number_only(
    client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert post(client, {"piece_code": pieces["C1"], "reason": "V"}, tokens[Role.MAILROOM]).status_code == 201
    assert f"recorded return VAC for piece {pieces['C1']} of customer C1" in caplog.text
    for personal in ("mailroom@example.com", "PAT C1", "Oak"):
        assert personal not in caplog.text


def test_scanning_again_is_already_recorded_and_another_reason_a_correction(
    app: Flask, client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    token = tokens[Role.MAILROOM]
    post(client, {"piece_code": pieces["C1"], "reason": "ANK"}, token)

    again = post(client, {"piece_code": pieces["C1"], "reason": "原址查无此人"}, token)
    corrected = post(client, {"piece_code": pieces["C1"], "reason": "TA"}, token)

    assert again.status_code == 200 and again.get_json()["already_recorded"] is True
    assert "Already recorded" in again.get_json()["message"]
    assert corrected.status_code == 200 and corrected.get_json()["corrected_from"] == "ANK"
    assert stored_returns(app) == 2


def test_a_misread_code_gets_404_with_what_to_do(
    app: Flask, client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    code = pieces["C1"]
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")

    misread = post(client, {"piece_code": typo, "reason": "VAC"}, tokens[Role.MAILROOM])
    unknown = post(client, {"piece_code": "0000-0000", "reason": "VAC"}, tokens[Role.MAILROOM])

    assert misread.status_code == 404
    assert "fails its check character" in misread.get_json()["error"]
    assert "Scan the code again" in misread.get_json()["error"]
    assert unknown.status_code == 404 and "No piece with code 0000-0000" in unknown.get_json()["error"]
    assert stored_returns(app) == 0


def test_an_unknown_reason_gets_422_listing_the_reasons(
    client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    response = post(client, {"piece_code": pieces["C1"], "reason": "lost"}, tokens[Role.MAILROOM])

    assert response.status_code == 422
    assert response.get_json()["error"].startswith("Unknown return reason 'lost'. Use one of: ANK")


def test_a_move_with_an_address_and_a_correction_it_refuses(
    client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    token = tokens[Role.MAILROOM]
    new_address = {"line1": "9 Pine Road", "city": "Peoria", "region": "IL", "postal_code": "61602", "country": "US"}

    moved = post(client, {"piece_code": pieces["C2"], "reason": "MOVED", "new_address": new_address}, token)
    conflict = post(client, {"piece_code": pieces["C2"], "reason": "VAC"}, token)
    bad_address = post(
        client, {"piece_code": pieces["C3"], "reason": "MOVED", "new_address": {**new_address, "country": "XX"}}, token
    )

    assert moved.status_code == 201 and moved.get_json()["address"]["moved_to"]["line1"] == "9 Pine Road"
    assert conflict.status_code == 409 and "customer's page" in conflict.get_json()["error"]
    assert bad_address.status_code == 422 and "unknown country 'XX'" in bad_address.get_json()["error"]


def test_a_return_dated_before_the_mailing_or_beyond_storing_gets_422(
    app: Flask, client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    token = tokens[Role.MAILROOM]

    too_early = post(client, {"piece_code": pieces["C1"], "reason": "ANK", "returned_at": "1900-01-01"}, token)
    unstorable = post(
        client, {"piece_code": pieces["C1"], "reason": "ANK", "returned_at": "0001-01-01T00:00:00+05:00"}, token
    )

    assert too_early.status_code == 422 and "cannot have come back on 1900-01-01" in too_early.get_json()["error"]
    assert unstorable.status_code == 422 and "cannot be stored" in unstorable.get_json()["error"]
    assert stored_returns(app) == 0


def test_malformed_requests_get_400(client: FlaskClient, tokens: dict[Role, str]) -> None:
    token = tokens[Role.MAILROOM]

    not_json = client.post("/api/returns", data="piece", headers={"Authorization": f"Bearer {token}"})
    no_reason = post(client, {"piece_code": "ABCD-EFGH"}, token)
    wrong_type = post(client, {"piece_code": "ABCD-EFGH", "reason": "VAC", "change_address": "no"}, token)

    assert not_json.status_code == 400 and "JSON object" in not_json.get_json()["error"]
    assert no_reason.status_code == 400 and "reason is missing" in no_reason.get_json()["error"]
    assert wrong_type.status_code == 400


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"note": "a\u0000b"}, "note contains a NUL character"),
        ({"note": "x" * 1001}, "note may have at most 1000 characters"),
        ({"new_address": "500 Elm Avenue"}, "new_address must be an object of text fields"),
        ({"new_address": {"line1": 5}}, "line1 must be text"),
        ({"new_address": {"street": "500 Elm Avenue", "zip": "60601"}}, "new_address has unknown fields street, zip"),
    ],
)
def test_a_bad_field_gets_400_naming_it_and_nothing_is_recorded(
    app: Flask, client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str], extra: dict[str, object],
    error: str,
) -> None:
    response = post(client, {"piece_code": pieces["C1"], "reason": "MOVED", **extra}, tokens[Role.MAILROOM])
    assert response.status_code == 400 and error in response.get_json()["error"]
    assert stored_returns(app) == 0


def test_json_nested_too_deep_gets_400(client: FlaskClient, tokens: dict[Role, str]) -> None:
    response = client.post(
        "/api/returns", data="[" * 100_000, content_type="application/json",
        headers={"Authorization": f"Bearer {tokens[Role.MAILROOM]}"},
    )
    assert response.status_code == 400 and "JSON object" in response.get_json()["error"]


def test_addresses_of_the_api_that_do_not_exist_or_take_no_get_answer_in_json(
    client: FlaskClient, tokens: dict[Role, str]
) -> None:
    headers = {"Authorization": f"Bearer {tokens[Role.MAILROOM]}"}
    for response, status in ((client.get("/api/returns", headers=headers), 405),
                             (client.post("/api/anything", json={}, headers=headers), 404)):
        assert response.status_code == status and response.is_json and response.get_json()["error"]


# --- who may call ---------------------------------------------------------------------------------


def test_an_anonymous_program_gets_401_and_writes_nothing(
    app: Flask, client: FlaskClient, pieces: dict[str, str]
) -> None:
    response = post(client, {"piece_code": pieces["C1"], "reason": "VAC"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "API token" in response.get_json()["error"]
    assert stored_returns(app) == 0


def test_an_anonymous_browser_is_sent_to_log_in(client: FlaskClient, pieces: dict[str, str]) -> None:
    response = client.post("/api/returns", data={"piece_code": pieces["C1"], "reason": "VAC"})

    assert response.status_code == 302 and response.location.endswith("/login")


def test_a_wrong_or_revoked_token_gets_401(
    app: Flask, client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    wrong = post(client, {"piece_code": pieces["C1"], "reason": "VAC"}, "not-a-token")
    basic = client.post("/api/returns", json={"piece_code": pieces["C1"], "reason": "VAC"},
                        headers={"Authorization": "Basic dXNlcjpwYXNz"})
    with data(app) as session:
        for api_token in session.scalars(select(ApiToken)):
            revoke_api_token(session, token_id=api_token.id, actor="admin")
    revoked = post(client, {"piece_code": pieces["C1"], "reason": "VAC"}, tokens[Role.MAILROOM])

    assert wrong.status_code == basic.status_code == revoked.status_code == 401
    assert "not valid or was revoked" in revoked.get_json()["error"]
    assert stored_returns(app) == 0


def test_marketing_may_not_record_returns(
    app: Flask, client: FlaskClient, staff: dict[Role, Staff], tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    by_token = post(client, {"piece_code": pieces["C1"], "reason": "VAC"}, tokens[Role.MARKETING])
    log_in(client, staff[Role.MARKETING])
    by_session = post(client, {"piece_code": pieces["C1"], "reason": "VAC"}, **{"X-CSRFToken": csrf_token(client)})

    assert by_token.status_code == by_session.status_code == 403
    assert "may not record returned mail" in by_token.get_json()["error"]
    assert stored_returns(app) == 0


def test_admins_may_record_returns_with_a_token(
    client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    assert post(client, {"piece_code": pieces["C1"], "reason": "VAC"}, tokens[Role.ADMIN]).status_code == 201


def test_a_logged_in_page_must_send_the_csrf_token(
    app: Flask, client: FlaskClient, staff: dict[Role, Staff], pieces: dict[str, str]
) -> None:
    log_in(client, staff[Role.MAILROOM])

    without = post(client, {"piece_code": pieces["C1"], "reason": "VAC"})
    forged = post(client, {"piece_code": pieces["C1"], "reason": "VAC"}, **{"X-CSRFToken": "forged"})
    with_token = post(client, {"piece_code": pieces["C1"], "reason": "VAC"}, **{"X-CSRFToken": csrf_token(client)})

    assert without.status_code == forged.status_code == 400
    assert "CSRF token" in without.get_json()["error"]
    assert with_token.status_code == 201, with_token.get_json()
    with data(app) as session:
        (row,) = session.scalars(select(MailReturn))
        assert row.actor == "mailroom@example.com"


def test_a_token_decides_over_a_logged_in_session(
    app: Flask, client: FlaskClient, staff: dict[Role, Staff], tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    log_in(client, staff[Role.MAILROOM])

    response = post(client, {"piece_code": pieces["C1"], "reason": "VAC"}, tokens[Role.MARKETING])

    assert response.status_code == 403
    assert stored_returns(app) == 0


def test_a_token_request_sets_no_session_cookie(
    client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    response = post(client, {"piece_code": pieces["C1"], "reason": "VAC"}, tokens[Role.MAILROOM])

    assert response.status_code == 201 and "Set-Cookie" not in response.headers


def test_the_returns_api_is_the_only_place_a_token_works(
    client: FlaskClient, tokens: dict[Role, str]
) -> None:
    response = client.get("/profile", headers={"Authorization": f"Bearer {tokens[Role.ADMIN]}"})

    assert response.status_code == 302 and response.location.endswith("/login")


def test_the_recorded_piece_is_the_scanned_one(
    app: Flask, client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    post(client, {"piece_code": pieces["C3"], "reason": "REF", "note": "envelope unopened"}, tokens[Role.MAILROOM])

    with data(app) as session:
        (row,) = session.scalars(select(MailReturn))
        piece = session.get_one(MailPiece, row.piece_id)
        assert piece.piece_code == pieces["C3"] and row.note == "envelope unopened"
        assert row.actor == "mailroom@example.com"


def test_the_clerks_messages_come_in_the_language_of_the_request(
    client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9"}
    answer = post(client, {"piece_code": pieces["C1"], "reason": "VAC"}, tokens[Role.MAILROOM], **chinese)
    assert answer.status_code == 201
    message = answer.get_json()["message"]
    assert message.startswith("已登记：") and "该地址现为无法投递。" in message
    # The data stays as stored, whatever the language.
    assert answer.get_json()["address"]["validity"] == "undeliverable"

    unknown = post(client, {"piece_code": pieces["C2"], "reason": "XYZ"}, tokens[Role.MAILROOM], **chinese)
    assert unknown.status_code == 422 and unknown.get_json()["error"].startswith("未知的退回原因 'XYZ'。")
    english = post(client, {"piece_code": pieces["C2"], "reason": "XYZ"}, tokens[Role.MAILROOM])
    assert english.get_json()["error"].startswith("Unknown return reason 'XYZ'.")


# --- body size ------------------------------------------------------------------------------------


def test_a_body_over_the_limit_gets_413_in_json_and_nothing_is_recorded(
    app: Flask, client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    body = {"piece_code": pieces["C1"], "reason": "VAC", "padding": " " * SMALL_BODY_LIMIT}

    response = post(client, body, tokens[Role.MAILROOM])

    assert response.status_code == 413
    assert response.get_json() == {"error": "The request is too large."}
    assert stored_returns(app) == 0


def test_a_300_mb_body_is_refused_before_a_byte_of_it_is_read(client: FlaskClient, tokens: dict[Role, str]) -> None:
    body = io.BytesIO(b"{}")

    response = client.post(
        "/api/returns", content_type="application/json", headers={"Authorization": f"Bearer {tokens[Role.MAILROOM]}"},
        environ_overrides={"CONTENT_LENGTH": str(300 * 1024 * 1024), "wsgi.input": body},
    )

    assert response.status_code == 413 and response.get_json() == {"error": "The request is too large."}
    assert body.tell() == 0


def test_an_undo_takes_back_the_last_scan_once_and_keeps_it_as_corrected(
    app: Flask, client: FlaskClient, tokens: dict[Role, str], pieces: dict[str, str]
) -> None:
    token = tokens[Role.MAILROOM]
    headers = {"Authorization": f"Bearer {token}"}
    post(client, {"piece_code": pieces["C1"], "reason": "ANK"}, token)

    undone = client.post("/api/returns/undo", json={"piece_code": pieces["C1"], "reason": "ANK"}, headers=headers)
    again = client.post("/api/returns/undo", json={"piece_code": pieces["C1"], "reason": "ANK"}, headers=headers)
    unknown = client.post("/api/returns/undo", json={"piece_code": "0000-0000", "reason": "ANK"}, headers=headers)
    anonymous = client.post("/api/returns/undo", json={"piece_code": pieces["C1"], "reason": "ANK"})

    assert undone.status_code == 200, undone.get_json()
    body = undone.get_json()
    assert body["status"] == "undone" and body["undone"] is True
    assert body["address"]["validity"] == "deliverable" and body["message"].startswith("Undone: piece")
    assert again.status_code == 409 and "nothing of that to undo" in again.get_json()["error"]
    assert unknown.status_code == 404 and anonymous.status_code == 401
    with data(app) as session:
        assert session.scalars(select(MailReturn.is_current)).all() == [False]
