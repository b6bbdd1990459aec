"""POST /api/returns with any body: always a JSON answer, 2xx or 4xx, and nothing stored on a 4xx."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mailer.addresses.models import Address, AddressEvent
from mailer.auth.models import Role
from mailer.auth.service import create_api_token, create_user
from mailer.customers.models import Customer
from returns.catalog import load_reasons
from returns.models import MailReturn
from tests.returns.conftest import mail_customers
from tests.web.conftest import data

KEYS = ["piece_code", "reason", "returned_at", "new_address", "change_address", "note"]
ADDRESS_KEYS = ["line1", "line2", "city", "region", "postal_code", "country", "street"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "\x00", "2026-11-19", "2026-11-19T08:00:00+14:00", "9999-12-31T23:59:59-23:59",
                     "US", "60601", "x" * 1001]),
)
moments = st.datetimes(min_value=datetime(2025, 6, 2), max_value=datetime(2026, 11, 1)).map(datetime.isoformat)
new_addresses = st.dictionaries(st.sampled_from(ADDRESS_KEYS), texts | json_values, max_size=6)


@st.composite
def bodies(draw: st.DrawFn, codes: list[str]) -> object:
    """Return a body: mostly an object with the API's keys, holding right, wrong and odd values."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    well_formed = st.sampled_from(codes) | st.sampled_from(codes).map(lambda code: f" {code[:4].lower()}-{code[4:]}")
    reasons = st.sampled_from(sorted(load_reasons()))
    body: dict[str, Any] = {
        # Mostly a real piece and reason, so that the odd values elsewhere reach the recording.
        "piece_code": draw(st.one_of(well_formed, well_formed, well_formed, texts, json_values)),
        "reason": draw(st.one_of(reasons, reasons, reasons, texts, json_values)),
    }
    for key in draw(st.lists(st.sampled_from(KEYS[2:]), unique=True, max_size=2)):
        if key == "returned_at":
            body[key] = draw(moments | moments | texts | json_values)
        elif key == "new_address":
            body[key] = draw(new_addresses | json_values)
        elif key == "change_address":
            body[key] = draw(st.booleans() | json_values)
        else:
            body[key] = draw(texts | json_values)
    return body


@pytest.fixture
def station(app: Flask) -> tuple[str, list[str]]:
    """Issue a mailroom token and mail eight customers; return the token and their piece codes."""
    with data(app) as session:
        user = create_user(session, email="station@example.com", password="x" * 12, role=Role.MAILROOM, actor="t")
        token = create_api_token(session, user=user, label="station", actor="t")[1]
        pieces = mail_customers(session, *(f"C{number}" for number in range(1, 9)))
        codes = [piece.piece_code for piece in pieces.values()]
    return token, codes


def _stored(app: Flask) -> tuple[int, ...]:
    with data(app) as session:
        current = session.scalar(select(func.count()).select_from(MailReturn).where(MailReturn.is_current)) or 0
        return (current, *(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (MailReturn, AddressEvent, Address, Customer)
        ))


def _check(app: Flask, client: FlaskClient, token: str, body: bytes, content_type: str) -> None:
    before = _stored(app)
    response = client.post(
        "/api/returns", data=body, headers={"Authorization": f"Bearer {token}", "Content-Type": content_type}
    )
    after = _stored(app)
    event(f"status {response.status_code}")
    assert response.is_json, (response.status_code, response.get_data(as_text=True)[:300])
    answer = response.get_json()
    assert isinstance(answer, dict)
    if 400 <= response.status_code < 500:
        assert answer["error"]
        assert after == before
        return
    assert response.status_code in (200, 201), (response.status_code, answer)
    # A piece is recorded once: a rescan adds nothing, a correction replaces its current return.
    current, rows = after[0] - before[0], after[1] - before[1]
    expected = {"recorded": (1, 1), "already_recorded": (0, 0), "corrected": (0, 1)}[answer["status"]]
    assert (current, rows) == expected, answer
    assert response.status_code == (201 if answer["status"] == "recorded" else 200)


@settings(max_examples=80)
@given(st.data())
def test_any_json_body_gets_a_json_answer_and_a_refusal_stores_nothing(
    app: Flask, station: tuple[str, list[str]], data: st.DataObject
) -> None:
    token, codes = station
    body = data.draw(bodies(codes))
    _check(app, app.test_client(), token, json.dumps(body).encode(), "application/json")


@settings(max_examples=40)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.integers(1, 200_000).map(lambda depth: b"[" * depth),
        st.integers(1, 50_000).map(lambda depth: b'{"piece_code":' * depth),
    ),
    st.sampled_from(
        ["application/json", "application/json; charset=utf-16", "text/plain", "application/x-www-form-urlencoded"]
    ),
)
@example(b"[" * 100_000, "application/json")
@example(b'{"piece_code": "\\ud800", "reason": "ANK"}', "application/json")
@example(b"\xff\xfe{}", "application/json")
def test_any_bytes_get_a_json_answer_and_store_nothing(
    app: Flask, station: tuple[str, list[str]], body: bytes, content_type: str
) -> None:
    token, _ = station
    _check(app, app.test_client(), token, body, content_type)
