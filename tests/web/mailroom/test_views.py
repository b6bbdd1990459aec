"""The mailroom's scanning page and reason card, without a browser (tests/web/browser has the clicks)."""

from __future__ import annotations

import re
from html import unescape

import numpy as np
import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient

from mailer.auth.models import Role
from mailer.envelopes.codes import code128_pattern
from mailer.web.mailroom.barcodes import QUIET_MODULES, code128_bars
from returns.catalog import REASONS
from tests.returns.conftest import mail_customers
from tests.web.conftest import Staff, data, log_in

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
REASON_BUTTON = re.compile(r'<button type="button" class="reason-key"[^>]*data-key="(\w)" data-code="(\w+)"')
CARD_ITEM = re.compile(r'<li class="reason-card-item" data-code="(\w+)">(.*?)</li>', re.DOTALL)
SVG = re.compile(r'<svg class="barcode"[^>]*viewBox="0 0 (\d+) 30"[^>]*data-value="([^"]+)">(.*?)</svg>', re.DOTALL)
BAR = re.compile(r'<rect x="(\d+)" y="0" width="(\d+)" height="30"/>')


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def attribute(page: str, name: str) -> str:
    found = re.search(rf'\b{name}="([^"]*)"', page)
    assert found, name
    return unescape(found.group(1))


def pattern_of(bars: list[tuple[int, int]], width: int) -> str:
    """Return the bar/space pattern drawn by the bars, quiet zones left out ('A'-'D' bars, 'a'-'d' spaces)."""
    elements = []
    for (x, w), following in zip(bars, [*bars[1:], (width - QUIET_MODULES, 0)], strict=True):
        elements.append(chr(ord("A") + w - 1))
        if following[0] > x + w:
            elements.append(chr(ord("a") + following[0] - x - w - 1))
    return "".join(elements)


def decode(bars: list[tuple[int, int]], width: int, scale: int = 3) -> str:
    """Draw the bars into an image, as a scanner would see them printed, and read it back."""
    image = np.full((40, width * scale), 255, dtype=np.uint8)
    for x, w in bars:
        image[:, x * scale : (x + w) * scale] = 0
    found = zxingcpp.read_barcode(image)
    assert found is not None and found.format == zxingcpp.BarcodeFormat.Code128
    return str(found.text)


def test_a_mailroom_clerk_lands_on_the_scanning_page_and_sees_only_it(
    client: FlaskClient, staff: dict[Role, Staff]
) -> None:
    response = log_in(client, staff[Role.MAILROOM])
    assert client.get(response.location).location == "/mailroom"

    page = text(client.get("/mailroom"))
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', page, re.DOTALL)
    assert nav and re.findall(r'href="([^"]+)"', nav.group(1)) == ["/mailroom"]
    # Nothing on the page leads to customers, campaigns or downloads.
    assert not re.search(r'href="/(customers|campaigns|batches|imports|dashboard|admin)', page)
    assert client.get("/customers").status_code == 403


def test_admins_may_scan_too_but_land_on_the_dashboard(logged_in) -> None:  # type: ignore[no-untyped-def]
    admin = logged_in(Role.ADMIN)
    assert admin.get("/").location == "/dashboard"
    assert admin.get("/mailroom").status_code == 200
    assert 'href="/mailroom"' in text(admin.get("/dashboard"))
    assert logged_in(Role.MARKETING).get("/mailroom").status_code == 403


def test_the_page_lists_every_reason_with_its_key(logged_in) -> None:  # type: ignore[no-untyped-def]
    page = text(logged_in(Role.MAILROOM).get("/mailroom"))

    shown = {code: key for key, code in REASON_BUTTON.findall(page)}
    assert shown == {reason.code: reason.key for reason in REASONS.values()}
    assert "<kbd>1</kbd><span class=\"code\">ANK</span><span class=\"label\">Attempted – not known</span>" in page
    assert 'id="scan-input" class="scan-input" autofocus' in page
    assert '<script src="/static/mailroom.js" defer></script>' in page
    assert "<script>" not in page and "style=" not in page


def test_the_page_gives_its_script_an_api_and_a_token_that_records_a_return(
    app: Flask, logged_in  # type: ignore[no-untyped-def]
) -> None:
    with data(app) as session:
        code = mail_customers(session, "C1")["C1"].piece_code
    client = logged_in(Role.MAILROOM)
    page = text(client.get("/mailroom"))

    response = client.post(
        attribute(page, "data-api-url"), json={"piece_code": code, "reason": "ANK"},
        headers={"X-CSRFToken": attribute(page, "data-csrf-token")},
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["address"]["validity"] == "undeliverable"
    assert attribute(page, "data-page-url") == "/mailroom"
    assert int(attribute(page, "data-key-wait-ms")) > 0
    assert attribute(page, "data-validity-undeliverable") == "undeliverable"
    assert attribute(page, "data-text-prompt-armed") == "Piece {code}: press its reason key."


def test_the_page_speaks_the_clerks_language(logged_in) -> None:  # type: ignore[no-untyped-def]
    page = text(logged_in(Role.MAILROOM).get("/mailroom", headers=CHINESE))

    assert '<html lang="zh-Hans">' in page
    assert "<kbd>1</kbd><span class=\"code\">ANK</span><span class=\"label\">原址查无此人</span>" in page
    assert attribute(page, "data-validity-undeliverable") == "无法投递"
    # The script's texts keep their placeholders in every language.
    for name in ("prompt-armed", "misread-detail", "pending", "not-recorded-previous"):
        message = attribute(page, f"data-text-{name}")
        assert re.search(r"[\u4e00-\u9fff]", message) and "{code}" in message, name


@pytest.mark.parametrize("value", [reason.code for reason in REASONS.values()])
def test_code128_bars_draw_the_envelopes_pattern(value: str) -> None:
    symbol = code128_bars(value)

    assert pattern_of(list(symbol.bars), symbol.width) == code128_pattern(value)
    assert decode(list(symbol.bars), symbol.width) == value


def test_the_reason_card_shows_every_reason_with_a_barcode_of_its_code(
    logged_in,  # type: ignore[no-untyped-def]
) -> None:
    page = text(logged_in(Role.MAILROOM).get("/mailroom/reason-card"))

    items = dict(CARD_ITEM.findall(page))
    assert list(items) == list(REASONS)
    for code, item in items.items():
        reason = REASONS[code]
        assert f'<kbd class="reason-card-key" title="Key">{reason.key}</kbd>' in item
        assert f'<div class="reason-card-code">{code}</div>' in item
        assert unescape(reason.label_en) in unescape(item) and reason.label_zh in item
        svg = SVG.search(item)
        assert svg, code
        width, value, body = int(svg.group(1)), svg.group(2), svg.group(3)
        bars = [(int(x), int(w)) for x, w in BAR.findall(body)]
        assert value == code
        assert pattern_of(bars, width) == code128_pattern(code), code
        assert decode(bars, width) == code
    assert 'data-action="print"' in page and "@page" not in page

