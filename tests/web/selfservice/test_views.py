"""The customers' address-update page: masked letter, new address, confirmation, refused links, languages."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from mailer.addresses.models import Address, AddressEvent, AddressEventKind, AddressValidity, ChangeSource
from mailer.addresses.service import current_address
from mailer.audit.models import AuditEntry
from mailer.batches.models import MailPiece
from mailer.batches.piece_codes import new_piece_code
from mailer.customers.consent import current_consents
from mailer.customers.models import ConsentChannel, ConsentSource
from mailer.web.extensions import limiter
from tests.selfservice.letters import CN_ROW, Letter, mail_letter
from tests.web.conftest import CSRF_PATTERN, data

ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
NEW_ADDRESS = {"line1": "500 Elm Avenue", "line2": "", "city": "Chicago", "region": "IL", "postal_code": "60601"}
# What the letters' customers must never see on a page that refuses a link.
PERSONAL = (
    "John", "JOHN", "Smith", "SMITH", "Oak", "OAK", "Springfield", "62704", "627", "C001",
    "王磊", "王", "文三路", "杭州", "310012",
)


@pytest.fixture
def letter(app: Flask) -> Letter:
    with data(app) as session:
        return mail_letter(session, "C001")


@pytest.fixture
def chinese_letter(app: Flask) -> Letter:
    with data(app) as session:
        return mail_letter(session, "C002", base=CN_ROW)


def _page(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _send(client: FlaskClient, letter: Letter, form: dict[str, str], **kwargs: object) -> TestResponse:
    """Open the letter's page and send one of its forms with the page's CSRF token, as a browser would."""
    page = _page(client.get(f"/u/{letter.token}", **kwargs))  # type: ignore[arg-type]
    match = CSRF_PATTERN.search(page)
    assert match, page
    return client.post(f"/u/{letter.token}", data={**form, "csrf_token": match.group(1)}, **kwargs)  # type: ignore[arg-type]


def _field(page: str, name: str) -> str:
    """Return the HTML of one form field's block: label, input and its errors."""
    match = re.search(rf'<div class="field ">(?:(?!<div class="field).)*name="{name}"(?:(?!<div class="field).)*', page,
                      re.S)
    assert match, name
    return match.group(0)


def _current(app: Flask, customer_id: int) -> Address:
    with data(app) as session:
        address = current_address(session, customer_id=customer_id)
        assert address is not None
        return address


def _events(app: Flask, customer_id: int) -> list[AddressEvent]:
    with data(app) as session:
        return list(session.scalars(
            select(AddressEvent).where(AddressEvent.customer_id == customer_id).order_by(AddressEvent.id)
        ))


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with data(app) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _assert_plain_refusal(response: TestResponse, status: int) -> None:
    page = _page(response)
    assert response.status_code == status, page
    for secret in PERSONAL:
        assert secret not in page, secret
    assert "<form" not in page and "/login" not in page and 'name="robots" content="noindex' in page


# --- the page -----------------------------------------------------------------------------------


def test_the_page_shows_the_letter_partly_hidden(client: FlaskClient, letter: Letter) -> None:
    response = client.get(f"/u/{letter.token}", headers=ENGLISH)
    page = _page(response)
    assert response.status_code == 200 and '<html lang="en">' in page
    assert "J*** S****" in page and "** O** S*****" in page and "A** *" in page and "Springfield, IL 627**" in page
    for secret in ("John", "JOHN", "Smith", "Oak", "62704", "C001", letter.token, letter.piece_code):
        assert secret not in page, secret
    # The US form: street first, "State" and "ZIP code", the country fixed.
    assert page.index('name="line1"') < page.index('name="city"') < page.index('name="postal_code"')
    assert ">State<" in page and ">ZIP code<" in page and "United States" in page
    assert 'autocomplete="postal-code"' in page and "This address is still right" in page
    # ZIP codes are digits: the numeric keypad; a customer moving abroad names the country.
    postal_code = re.search(r'<input[^>]*name="postal_code"[^>]*>', page)
    assert postal_code and 'inputmode="numeric"' in postal_code.group(0)
    assert "I am moving to another country" in page and 'name="country"' in page
    # Whose letter it is, as the envelope says, and what they do with the address.
    assert "Evergreen Books" in page and 'href="tel:1-800-555-0199"' in page and "evergreen.example.com" in page
    assert "uses your address only to send you its own mail" in page
    assert '/u/sender/us-10.css' in page
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "same-origin"
    # A customer's page: nothing of the staff pages.
    assert "/login" not in page and "Log out" not in page


def test_a_chinese_letter_speaks_chinese_by_default(client: FlaskClient, chinese_letter: Letter) -> None:
    page = _page(client.get(f"/u/{chinese_letter.token}"))
    assert '<html lang="zh-Hans">' in page
    assert "王*" in page and "浙江省杭州市文******" in page and "310***" in page and "王磊" not in page
    assert "更新您的地址" in page and "此地址仍然正确" in page and "省/直辖市" in page and "中国" in page
    # Province, city, street: the order a Chinese address is written in.
    assert page.index('name="region"') < page.index('name="city"') < page.index('name="line1"')


def test_the_page_speaks_the_letters_language_with_a_switch(
    client: FlaskClient, letter: Letter, chinese_letter: Letter
) -> None:
    # The envelope's country decides, whatever the browser asks for.
    english = _page(client.get(f"/u/{letter.token}", headers=CHINESE))
    assert '<html lang="en">' in english and 'href="?lang=zh"' in english
    chinese = _page(client.get(f"/u/{chinese_letter.token}", headers=ENGLISH))
    assert '<html lang="zh-Hans">' in chinese and 'href="?lang=en"' in chinese and "长青书友会" in chinese
    # The switch: the other language, the letter's country and fields unchanged.
    switched = _page(client.get(f"/u/{letter.token}?lang=zh", headers=ENGLISH))
    assert '<html lang="zh-Hans">' in switched and "州" in switched and "美国" in switched
    english = _page(client.get(f"/u/{chinese_letter.token}?lang=en"))
    assert '<html lang="en">' in english and "Province" in english and "China" in english
    # A language we do not have is no switch.
    french = _page(client.get(f"/u/{chinese_letter.token}?lang=fr"))
    assert '<html lang="zh-Hans">' in french


def test_the_senders_colour_is_a_style_sheet_of_its_own(client: FlaskClient) -> None:
    response = client.get("/u/sender/cn-dl.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert response.get_data(as_text=True) == ":root { --sender: #2e6b3f; }\n"
    assert client.get("/u/sender/nope.css").status_code == 404


# --- links that do not work ---------------------------------------------------------------------


def test_a_wrong_or_tampered_link_gets_a_plain_404(app: Flask, client: FlaskClient, letter: Letter) -> None:
    with data(app) as session:
        other = mail_letter(session, "C003", base=CN_ROW)
    code, signature = letter.token.rsplit("-", 1)
    flipped = ("B" if signature[0] != "B" else "C") + signature[1:]
    for token in (
        "nonsense", f"{code}-{flipped}", f"{code}-{other.token.rsplit('-', 1)[1]}", f"{new_piece_code()}-{signature}",
        f"{code}-ÄÄÄÄÄÄÄÄÄÄ",
    ):
        _assert_plain_refusal(client.get(f"/u/{token}"), 404)
        _assert_plain_refusal(client.post(f"/u/{token}", data=NEW_ADDRESS), 404)
    page = _page(client.get(f"/u/{code}-{flipped}", headers=CHINESE))
    assert '<html lang="zh-Hans">' in page and "此链接无效" in page


def test_an_expired_link_gets_a_plain_410(app: Flask, client: FlaskClient) -> None:
    with data(app) as session:
        old = mail_letter(session, "C004", today=date.today() - timedelta(days=400))
    assert old.expires_on < date.today()
    _assert_plain_refusal(client.get(f"/u/{old.token}", headers=ENGLISH), 410)
    _assert_plain_refusal(client.post(f"/u/{old.token}", data=NEW_ADDRESS), 410)
    assert _current(app, old.customer_id).id == old.address_id


def test_an_expired_chinese_link_is_refused_in_chinese(app: Flask, client: FlaskClient) -> None:
    with data(app) as session:
        old = mail_letter(session, "C005", base=CN_ROW, today=date.today() - timedelta(days=400))
    response = client.get(f"/u/{old.token}")
    _assert_plain_refusal(response, 410)
    assert "此链接已无法使用" in _page(response)


# --- a new address ------------------------------------------------------------------------------


def test_a_bad_postal_code_is_named_next_to_its_field(app: Flask, client: FlaskClient, letter: Letter) -> None:
    response = _send(client, letter, {**NEW_ADDRESS, "postal_code": "6060", "save": "1"}, headers=ENGLISH)
    page = _page(response)
    assert response.status_code == 400
    assert "A ZIP code has five digits" in _field(page, "postal_code")
    assert "errors" not in _field(page, "city")
    assert 'value="500 Elm Avenue"' in page  # what was typed is kept
    assert _current(app, letter.customer_id).id == letter.address_id


def test_a_line_break_or_tab_is_named_next_to_its_field(app: Flask, client: FlaskClient, letter: Letter) -> None:
    response = _send(client, letter, {**NEW_ADDRESS, "line1": "500 Elm\tAvenue", "save": "1"}, headers=ENGLISH)
    page = _page(response)
    assert response.status_code == 400
    assert "no line breaks or tabs" in _field(page, "line1") and "errors" not in _field(page, "city")
    assert _current(app, letter.customer_id).id == letter.address_id


def test_missing_fields_are_each_named(client: FlaskClient, chinese_letter: Letter) -> None:
    response = _send(client, chinese_letter, {"region": "上海市", "line1": "", "city": "", "postal_code": "200002"})
    page = _page(response)
    assert response.status_code == 400
    assert "请填写此项。" in _field(page, "line1") and "请填写此项。" in _field(page, "city")
    assert "请填写此项。" not in _field(page, "postal_code")


def test_a_new_address_is_applied_with_history_and_the_link_is_used_up(
    app: Flask, client: FlaskClient, letter: Letter
) -> None:
    response = _send(client, letter, {**NEW_ADDRESS, "save": "1"})
    assert response.status_code == 303 and response.location == "/u/thanks"
    thanks = client.get("/u/thanks")
    assert thanks.status_code == 200 and "We have saved your new address" in _page(thanks)

    new = _current(app, letter.customer_id)
    assert (new.line1, new.city, new.region, new.postal_code) == ("500 Elm Avenue", "Chicago", "IL", "60601")
    assert new.validity is AddressValidity.DELIVERABLE and new.confirmed_via is ChangeSource.CUSTOMER
    with data(app) as session:
        old = session.get_one(Address, letter.address_id)
        assert old.validity is AddressValidity.SUPERSEDED and not old.is_current
        assert session.get_one(MailPiece, letter.piece_id).address_updated_at is not None
    events = _events(app, letter.customer_id)
    assert [(e.kind, e.source, e.actor) for e in events] == [
        (AddressEventKind.SUPERSEDED, ChangeSource.CUSTOMER, "customer"),
        (AddressEventKind.CREATED, ChangeSource.CUSTOMER, "customer"),
    ]
    (entry,) = _audit(app, "customer.address_update")
    assert (entry.actor, entry.object_id) == ("customer", letter.customer_no)

    # The link changes an address once.
    _assert_plain_refusal(client.get(f"/u/{letter.token}"), 410)
    again = client.post(f"/u/{letter.token}", data={**NEW_ADDRESS, "line1": "9 Pine Road"})
    _assert_plain_refusal(again, 410)
    assert _current(app, letter.customer_id).id == new.id


def test_a_chinese_customer_is_thanked_in_chinese(app: Flask, client: FlaskClient, chinese_letter: Letter) -> None:
    new_address = {
        "region": "上海市", "city": "上海市", "district": "黄浦区", "line1": "中山东一路18号", "postal_code": "200002",
    }
    response = _send(client, chinese_letter, {**new_address, "save": "1"})
    assert response.status_code == 303
    thanks = _page(client.get("/u/thanks"))
    assert '<html lang="zh-Hans">' in thanks and "我们已保存您的新地址" in thanks
    assert _current(app, chinese_letter.customer_id).line1 == "黄浦区中山东一路18号"


def test_a_form_without_its_csrf_token_changes_nothing(app: Flask, client: FlaskClient, letter: Letter) -> None:
    client.get(f"/u/{letter.token}")
    response = client.post(f"/u/{letter.token}", data={**NEW_ADDRESS, "save": "1"}, headers=ENGLISH)
    assert response.status_code == 400 and "This form has expired" in _page(response)
    response = client.post(f"/u/{letter.token}", data={"confirm": "1", "csrf_token": "forged"})
    assert response.status_code == 400
    assert _current(app, letter.customer_id).id == letter.address_id
    assert _events(app, letter.customer_id) == []


# --- "this address is still right" ---------------------------------------------------------------


def test_still_right_confirms_the_address_and_keeps_the_link(app: Flask, client: FlaskClient, letter: Letter) -> None:
    response = _send(client, letter, {"confirm": "1"}, headers=ENGLISH)
    assert response.status_code == 303 and response.location == "/u/thanks"
    assert "Thank you for confirming your address" in _page(client.get("/u/thanks", headers=ENGLISH))

    address = _current(app, letter.customer_id)
    assert address.id == letter.address_id and address.validity is AddressValidity.DELIVERABLE
    assert address.confirmed_via is ChangeSource.CUSTOMER
    (event,) = _events(app, letter.customer_id)
    assert (event.kind, event.source, event.actor) == (AddressEventKind.VALIDITY, ChangeSource.CUSTOMER, "customer")
    assert len(_audit(app, "customer.address_confirm")) == 1
    # Pressed again: nothing new is recorded, and the page still takes a new address.
    assert _send(client, letter, {"confirm": "1"}).status_code == 303
    assert len(_events(app, letter.customer_id)) == 1
    assert client.get(f"/u/{letter.token}").status_code == 200


def test_the_thank_you_page_needs_a_finished_update(client: FlaskClient) -> None:
    _assert_plain_refusal(client.get("/u/thanks"), 404)


# --- logs ---------------------------------------------------------------------------------------


def test_no_token_or_personal_data_reaches_the_logs(
    app: Flask, client: FlaskClient, letter: Letter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code, signature = letter.token.rsplit("-", 1)
    client.get(f"/u/{code}-{'A' * len(signature)}")
    _send(client, letter, {**NEW_ADDRESS, "postal_code": "1"})
    _send(client, letter, {"confirm": "1"})
    _send(client, letter, {**NEW_ADDRESS, "save": "1"})
    client.get(f"/u/{letter.token}")
    assert caplog.records, "the page logs what it refuses and what it changes"
    for secret in (letter.token, code, signature, "John", "Smith", "Oak", "Elm", "Chicago", "60601", "62704", "C001"):
        assert secret not in caplog.text, secret


# --- trying links -------------------------------------------------------------------------------


def test_refused_links_are_rate_limited_per_address_with_a_plain_page(
    app: Flask, client: FlaskClient, letter: Letter
) -> None:
    app.config["ADDRESS_LINK_RATE_LIMIT"] = "3 per minute"
    signature = letter.token.rsplit("-", 1)[1]
    for _ in range(3):
        _assert_plain_refusal(client.get(f"/u/{new_piece_code()}-{signature}"), 404)

    _assert_plain_refusal(client.get(f"/u/{new_piece_code()}-{signature}", headers=ENGLISH), 429)
    # Until the minute is over, even a right link waits: trying links from here is what is slowed.
    response = client.get(f"/u/{letter.token}", headers=ENGLISH)
    _assert_plain_refusal(response, 429)
    assert "Too many attempts" in _page(response)
    page = _page(client.post(f"/u/{letter.token}", data=NEW_ADDRESS, headers=CHINESE))
    assert '<html lang="zh-Hans">' in page and "尝试次数过多" in page
    assert _current(app, letter.customer_id).id == letter.address_id

    limiter.reset()
    assert client.get(f"/u/{letter.token}").status_code == 200


def test_a_customer_opening_their_own_page_again_and_again_is_not_held_up(
    app: Flask, client: FlaskClient, letter: Letter
) -> None:
    app.config["ADDRESS_LINK_RATE_LIMIT"] = "3 per minute"

    assert [client.get(f"/u/{letter.token}").status_code for _ in range(6)] == [200] * 6


# --- "stop sending me catalogs" -------------------------------------------------------------------


def test_stop_sending_withdraws_mail_consent_from_the_customers_page(
    app: Flask, client: FlaskClient, letter: Letter
) -> None:
    response = _send(client, letter, {"stop_mail": "1"}, headers=ENGLISH)

    assert response.status_code == 303 and response.location == "/u/thanks"
    assert "no more catalogs by post" in _page(client.get("/u/thanks", headers=ENGLISH))
    with data(app) as session:
        mail = current_consents(session, customer_id=letter.customer_id)[ConsentChannel.MAIL]
        assert (mail.granted, mail.source, mail.actor) == (False, ConsentSource.CUSTOMER_PAGE, "customer")
        assert mail.wording == "Stop sending me catalogs by post."
    assert len(_audit(app, "customer.consent")) == 1
    # The address is left alone: withdrawing consent says nothing of its validity.
    assert _current(app, letter.customer_id).id == letter.address_id
