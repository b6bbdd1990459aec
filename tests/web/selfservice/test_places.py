"""A Chinese address's province, city and district, chosen from the reference data, without the page's script."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mailer.addresses.models import AddressVerification
from mailer.web.extensions import limiter
from tests.selfservice.letters import CN_ROW, Letter, mail_letter
from tests.web.conftest import CSRF_PATTERN, data
from tests.web.selfservice.test_views import ENGLISH, _current, _field, _page

GULOU = {
    "region": "江苏省", "city": "南京市", "district": "鼓楼区", "line1": "中山路1号", "line2": "",
    "postal_code": "210008",
}


@pytest.fixture
def chinese_letter(app: Flask) -> Letter:
    with data(app) as session:
        return mail_letter(session, "C002", base=CN_ROW)


def _options(page: str, name: str) -> list[str]:
    """Return the values a select offers, without its empty first choice."""
    match = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S)
    assert match, name
    return [value for value in re.findall(r'<option value="([^"]*)"', match.group(0)) if value]


def _selected(page: str, name: str) -> str | None:
    match = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S)
    assert match, name
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', match.group(0))
    return chosen.group(1) if chosen else None


def _post(client: FlaskClient, letter: Letter, page: str, form: dict[str, str], query: str = "") -> TestResponse:
    """Send the new-address form of ``page`` as a browser without scripts would."""
    match = CSRF_PATTERN.search(page)
    assert match, page
    return client.post(f"/u/{letter.token}{query}", data={**form, "csrf_token": match.group(1)})


def test_without_the_script_the_page_fills_each_select_from_the_choice_above(
    app: Flask, client: FlaskClient, chinese_letter: Letter
) -> None:
    page = _page(client.get(f"/u/{chinese_letter.token}", headers=ENGLISH))
    provinces = _options(page, "region")
    assert len(provinces) == 34 and provinces[:2] == ["北京市", "天津市"] and "江苏省" in provinces
    assert _options(page, "city") == [] and _options(page, "district") == []
    assert "显示所选地区的下级城市和区县" in page  # the button that fills the next select

    # The province, then the button: the cities of that province.
    response = _post(client, chinese_letter, page, {**GULOU, "city": "", "district": "", "choose": "1"})
    assert response.status_code == 200
    page = _page(response)
    assert _selected(page, "region") == "江苏省"
    assert _options(page, "city")[:3] == ["南京市", "无锡市", "徐州市"] and "杭州市" not in _options(page, "city")
    assert 'value="中山路1号"' in page  # what was typed is kept

    # The city, then the button: its districts.
    page = _page(_post(client, chinese_letter, page, {**GULOU, "district": "", "choose": "1"}))
    assert _selected(page, "city") == "南京市"
    assert "鼓楼区" in _options(page, "district") and "玄武区" in _options(page, "district")
    assert _current(app, chinese_letter.customer_id).id == chinese_letter.address_id  # nothing saved yet

    response = _post(client, chinese_letter, page, {**GULOU, "save": "1"})
    assert response.status_code == 303 and response.location == "/u/thanks"
    new = _current(app, chinese_letter.customer_id)
    # The division names as verification reads them: the district heads the street line.
    assert (new.region, new.city, new.line1, new.postal_code, new.country) == (
        "江苏省", "南京市", "鼓楼区中山路1号", "210008", "CN"
    )
    assert new.verification is AddressVerification.VERIFIED, new.verification_reason
    assert new.verification_reason == "postcode 210008 is 江苏省南京市鼓楼区"


def test_a_city_of_another_province_is_refused_naming_the_city(
    app: Flask, client: FlaskClient, chinese_letter: Letter
) -> None:
    page = _page(client.get(f"/u/{chinese_letter.token}?lang=en"))
    response = _post(client, chinese_letter, page, {**GULOU, "region": "浙江省", "save": "1"}, query="?lang=en")
    assert response.status_code == 400
    page = _page(response)
    assert "南京市 is not in 浙江省. Please choose from the list." in _field(page, "city")
    assert "errors" not in _field(page, "region") and "errors" not in _field(page, "district")
    # The cities offered are the chosen province's, for the customer to choose again.
    assert _selected(page, "region") == "浙江省" and "杭州市" in _options(page, "city")
    assert _current(app, chinese_letter.customer_id).id == chinese_letter.address_id


def test_a_district_of_another_city_and_an_unknown_province_are_refused_naming_their_fields(
    app: Flask, client: FlaskClient, chinese_letter: Letter
) -> None:
    page = _page(client.get(f"/u/{chinese_letter.token}", headers=ENGLISH))
    response = _post(client, chinese_letter, page, {**GULOU, "district": "西湖区", "save": "1"})
    assert response.status_code == 400
    assert "西湖区 不属于 南京市，请从列表中选择。" in _field(_page(response), "district")

    response = _post(client, chinese_letter, page, {**GULOU, "region": "江南省", "save": "1"})
    assert response.status_code == 400
    assert "江南省 不是省份，请从列表中选择。" in _field(_page(response), "region")
    assert _current(app, chinese_letter.customer_id).id == chinese_letter.address_id


def test_a_district_must_be_chosen_where_the_city_has_districts(
    app: Flask, client: FlaskClient, chinese_letter: Letter
) -> None:
    page = _page(client.get(f"/u/{chinese_letter.token}", headers=ENGLISH))
    response = _post(client, chinese_letter, page, {**GULOU, "district": "", "save": "1"})
    assert response.status_code == 400
    assert "请填写此项。" in _field(_page(response), "district")
    assert "请填写此项。" not in _field(_page(response), "city")

    # 东莞市 has no districts under it: none is asked for, and the address verifies without one.
    dongguan = {**GULOU, "region": "广东省", "city": "东莞市", "district": "", "postal_code": "523000"}
    response = _post(client, chinese_letter, page, {**dongguan, "save": "1"})
    assert response.status_code == 303
    new = _current(app, chinese_letter.customer_id)
    assert (new.region, new.city, new.line1) == ("广东省", "东莞市", "中山路1号")
    assert new.verification is AddressVerification.VERIFIED, new.verification_reason


def test_a_provinces_cities_and_districts_come_as_json(client: FlaskClient) -> None:
    response = client.get("/u/divisions/320000.json")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["province"] == "江苏省"
    nanjing = answer["cities"][0]
    assert nanjing["name"] == "南京市" and "鼓楼区" in nanjing["districts"]
    # A municipality is its own only city.
    beijing = client.get("/u/divisions/110000.json").get_json()
    assert [city["name"] for city in beijing["cities"]] == ["北京市"] and "朝阳区" in beijing["cities"][0]["districts"]
    # A city or county code is no province.
    assert client.get("/u/divisions/320100.json").status_code == 404


def test_unknown_divisions_are_rate_limited_like_refused_links(app: Flask, client: FlaskClient) -> None:
    app.config["ADDRESS_LINK_RATE_LIMIT"] = "3 per minute"
    try:
        assert [client.get("/u/divisions/999999.json").status_code for _ in range(4)] == [404, 404, 404, 429]
    finally:
        limiter.reset()


def test_a_customer_choosing_again_and_again_is_not_held_up(app: Flask, client: FlaskClient) -> None:
    app.config["ADDRESS_LINK_RATE_LIMIT"] = "3 per minute"
    assert [client.get("/u/divisions/320000.json").status_code for _ in range(6)] == [200] * 6


def test_a_us_letter_chooses_its_state_and_types_its_city(client: FlaskClient, app: Flask) -> None:
    with data(app) as session:
        letter = mail_letter(session, "C001")
    page = _page(client.get(f"/u/{letter.token}", headers=ENGLISH))
    assert 'name="district"' not in page and "address-places.js" not in page
    assert re.search(r'<input[^>]*name="city"', page)
    states = _options(page, "region")
    assert {"IL", "NY", "DC", "PR"} <= set(states) and _selected(page, "region") is None

    chicago = {"line1": "500 Elm Avenue", "city": "Chicago", "postal_code": "60601", "save": "1"}
    response = _post(client, letter, page, {**chicago, "region": "Illinoiz"})
    assert response.status_code == 400
    assert "Illinoiz is not a US state. Please choose from the list." in _field(_page(response), "region")
    assert _current(app, letter.customer_id).id == letter.address_id

    assert _post(client, letter, page, {**chicago, "region": "IL"}).status_code == 303
    new = _current(app, letter.customer_id)
    assert (new.city, new.region) == ("Chicago", "IL") and new.verification is AddressVerification.VERIFIED


def test_a_us_customer_moving_abroad_types_the_region(client: FlaskClient, app: Flask) -> None:
    with data(app) as session:
        letter = mail_letter(session, "C001")
    page = _page(client.get(f"/u/{letter.token}", headers=ENGLISH))
    toronto = {
        "line1": "100 Queen St W", "city": "Toronto", "postal_code": "M5H 2N2", "country": "Canada",
        "abroad_region": "ON", "save": "1",
    }
    assert _post(client, letter, page, toronto).status_code == 303
    new = _current(app, letter.customer_id)
    assert (new.city, new.region, new.country) == ("Toronto", "ON", "CA")


def test_a_customer_moving_abroad_types_the_city_instead_of_choosing_it(
    app: Flask, client: FlaskClient, chinese_letter: Letter
) -> None:
    page = _page(client.get(f"/u/{chinese_letter.token}?lang=en"))
    berlin = {"line1": "Unter den Linden 5", "postal_code": "10117", "country": "Deutschland", "save": "1"}
    response = _post(client, chinese_letter, page, berlin, query="?lang=en")
    assert response.status_code == 400
    # The city missing is the typed one, in the open "moving abroad" part; the selects are not asked for.
    page = _page(response)
    assert "Please fill this in." in _field(page, "abroad_city") and "<details class=\"abroad\" open>" in page
    assert "errors" not in _field(page, "city") and "errors" not in _field(page, "district")

    response = _post(client, chinese_letter, page, {**berlin, "abroad_city": "Berlin"}, query="?lang=en")
    assert response.status_code == 303
    new = _current(app, chinese_letter.customer_id)
    assert (new.line1, new.city, new.region, new.postal_code, new.country) == (
        "Unter den Linden 5", "Berlin", None, "10117", "DE"
    )
