"""The mailroom in a real headless Chromium: scan returns with the keyboard only, and print the reason card."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from mailer.auth.models import Role
from mailer.auth.service import create_user
from mailer.batches.piece_codes import ALPHABET, PieceCodeError, check_symbol, display_piece_code, parse_piece_code
from mailer.db import db
from returns.catalog import REASONS
from tests.returns.conftest import mail_customers
from tests.web.browser.conftest import PASSWORD, LiveServer
from tests.web.browser.test_pages import log_in

pytestmark = pytest.mark.browser

CLERK = "mailroom@example.com"
# A generous wait for a lone key: the test's keystrokes may lag on a busy machine, and a code
# typed while a piece waits must never be taken for a key. The page's logic is the same.
KEY_WAIT_MS = 400


@dataclass(frozen=True, slots=True)
class Mailed:
    """A piece mailed to a customer: its code and the customer's page."""

    code: str
    customer_id: int


@pytest.fixture(scope="module")
def clerk(live_server: LiveServer) -> str:
    """Add a mailroom clerk; return their email."""
    app = live_server.app
    app.config["MAILROOM_KEY_WAIT_MS"] = KEY_WAIT_MS
    with app.app_context():
        create_user(db.session, email=CLERK, password=PASSWORD, role=Role.MAILROOM, actor="test")
        db.session.commit()
    return CLERK


@pytest.fixture(scope="module")
def mailed(live_server: LiveServer, clerk: str) -> dict[str, Mailed]:
    """Mail one batch to three customers with a churn risk of 40%."""
    app = live_server.app
    with app.app_context():
        pieces = mail_customers(db.session, "C1", "C2", "C3", churn_risk=0.4)
        found = {number: Mailed(piece.piece_code, piece.customer_id) for number, piece in pieces.items()}
        db.session.commit()
    return found


def clerk_logs_in(page, server: LiveServer, *, wait_for_script: bool = True) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/login")
    page.fill("input[name=email]", CLERK)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#scan-input")
    # The field is in the page before its script runs; of what is typed before, the script takes only
    # a whole code, so wait for it (on a busy machine it can lag the page by a moment).
    if wait_for_script:
        page.wait_for_function("() => window.Mailroom !== undefined")


def customer_card(page, server: LiveServer, customer_id: int) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    """Open a customer's page; return the current address's validity and the churn risk."""
    page.goto(f"{server.url}/customers/{customer_id}")
    validity = page.locator("section:has(h2:text('Current address')) .badge").first.inner_text()
    risk = page.inner_text(".risk-figure")
    figure = re.match(r"(\d+)%", risk)
    assert figure, risk
    return validity, int(figure.group(1)) / 100


def result(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Return the result panel's tone, headline and facts as shown."""
    panel = page.locator("#scan-result")
    shown = {"tone": panel.get_attribute("data-tone") or "", "headline": panel.locator(".headline").inner_text()}
    for role in ("detail", "customer", "address", "reason", "validity", "risk", "message"):
        part = panel.locator(f"[data-role={role}]")
        shown[role] = part.inner_text() if part.is_visible() else ""
    return shown


def tally(page) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    return tuple(  # type: ignore[return-value]
        int(page.inner_text(f"[data-count={name}]")) for name in ("recorded", "already", "errors")
    )


def scan(page, typed: str) -> None:  # type: ignore[no-untyped-def]
    """Type what a scanner types: the code, then Enter."""
    page.keyboard.type(typed)
    page.keyboard.press("Enter")


def wait_for_answer(page, count: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``count`` scans are listed and none is still on its way."""
    page.wait_for_function(
        "count => document.querySelectorAll('#recent-scans li').length === count"
        " && !document.querySelector('#recent-scans li[data-tone=pending]')",
        arg=count,
    )


def test_a_clerk_scans_three_returns_with_the_keyboard_only(
    live_server: LiveServer, mailed: dict[str, Mailed], open_page, screenshots: Path  # type: ignore[no-untyped-def]
) -> None:
    office = open_page()
    log_in(office, live_server, Role.MARKETING)
    assert customer_card(office, live_server, mailed["C1"].customer_id) == ("deliverable", 0.4)

    page = open_page(width=1024, height=768)
    clerk_logs_in(page, live_server)
    assert page.url == live_server.url + "/mailroom"
    assert page.evaluate("document.activeElement.id") == "scan-input"
    # On a tablet the field, the result and every reason key fit the first screen.
    for selector in ("#scan-input", "#scan-result", ".reason-key >> nth=-1"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 768, selector

    # 1. A piece code and Enter arm the piece; the key 1 picks ANK, a hard return.
    c1 = mailed["C1"].code
    scan(page, c1)
    assert page.inner_text("#scan-prompt").startswith(f"Piece {display_piece_code(c1)}: press its reason key")
    page.keyboard.press("1")
    wait_for_answer(page, 1)
    shown = result(page)
    assert shown["tone"] == "good" and shown["headline"] == "Recorded"
    assert shown["customer"] == "Pat C1 (C1)"
    assert shown["address"].splitlines()[0] == "1 OAK STREET"
    assert shown["reason"] == "ANK · Attempted – not known"
    assert shown["validity"] == "deliverable → undeliverable"
    assert shown["risk"] == "63%"  # odds 2/3 × 2.5 for ANK
    assert tally(page) == (1, 0, 0)
    assert page.get_attribute("#scanner", "data-last-cue") == "good"

    # A misread code is refused on the spot: the check character does not match.
    c2 = mailed["C2"].code
    misread = c2[:-1] + next(symbol for symbol in ALPHABET if symbol != c2[-1])
    scan(page, misread)
    wait_for_answer(page, 2)
    shown = result(page)
    assert shown["tone"] == "bad" and shown["headline"] == "Misread code"
    assert f"The check character of {misread} does not match" in shown["detail"]
    assert tally(page) == (1, 0, 1)
    assert page.get_attribute("#scanner", "data-last-cue") == "error"

    # 2. Typed as printed, with the hyphen and in lower case; the key 3 picks NSN.
    scan(page, display_piece_code(c2).lower())
    page.keyboard.press("3")
    wait_for_answer(page, 3)
    shown = result(page)
    assert shown["tone"] == "good" and shown["customer"] == "Pat C2 (C2)"
    assert shown["reason"] == "NSN · No such number / address"
    assert shown["validity"] == "deliverable → undeliverable"

    # 3. The reason card's barcode types the reason's code and Enter: UNC, a soft return.
    scan(page, mailed["C3"].code)
    scan(page, "UNC")
    wait_for_answer(page, 4)
    shown = result(page)
    assert shown["tone"] == "good" and shown["customer"] == "Pat C3 (C3)"
    assert shown["validity"] == "deliverable → suspect"
    assert tally(page) == (3, 0, 1)
    recent = page.locator("#recent-scans li")
    assert [recent.nth(i).get_attribute("data-tone") for i in range(4)] == ["good", "good", "bad", "good"]
    assert "Recorded · Pat C3" in recent.first.inner_text()
    page.wait_for_function("() => !document.querySelector('.reason-key.picked')")  # the key's flash is over
    page.screenshot(path=str(screenshots / "mailroom.png"), full_page=True)

    # The same piece and reason again: already recorded, in amber, nothing changes.
    scan(page, c1)
    page.keyboard.press("1")
    wait_for_answer(page, 5)
    shown = result(page)
    assert shown["tone"] == "warn" and shown["headline"] == "Already recorded: nothing changed"
    assert tally(page) == (3, 1, 1)

    # Another piece scanned where a reason was expected: the first one is not recorded, and the
    # page says so; Escape lets the second one go too; a reason with no piece is refused.
    scan(page, c2)
    scan(page, mailed["C3"].code)
    shown = result(page)
    assert shown["tone"] == "warn"
    assert shown["headline"] == f"Piece {display_piece_code(c2)} was not recorded: no reason was picked for it."
    page.keyboard.press("Escape")
    assert result(page)["headline"] == f"Cancelled: piece {display_piece_code(mailed['C3'].code)} was not recorded."
    scan(page, "ANK")
    assert result(page)["headline"] == "Scan the piece first, then pick its reason."
    assert page.inner_text("#scan-prompt") == "Scan the piece code on the envelope."
    assert tally(page) == (3, 1, 1) and recent.count() == 5
    assert page.evaluate("document.activeElement.id") == "scan-input"

    # The office sees what the mailroom did.
    validity, risk = customer_card(office, live_server, mailed["C1"].customer_id)
    assert validity == "undeliverable" and risk > 0.4
    assert customer_card(office, live_server, mailed["C2"].customer_id)[0] == "undeliverable"
    assert customer_card(office, live_server, mailed["C3"].customer_id)[0] == "suspect"


@pytest.mark.usefixtures("clerk")
def test_tapping_a_reason_picks_it_and_the_field_keeps_the_focus(
    live_server: LiveServer, open_page  # type: ignore[no-untyped-def]
) -> None:
    with live_server.app.app_context():
        code = mail_customers(db.session, "C4", churn_risk=0.4)["C4"].piece_code
        db.session.commit()
    page = open_page(width=1024, height=768)
    clerk_logs_in(page, live_server)
    # A tap beside the field takes the focus away for a moment only.
    page.click("#scan-result")
    page.wait_for_function("() => document.activeElement.id === 'scan-input'")

    scan(page, code)
    page.click(".reason-key[data-code=UNC]")
    wait_for_answer(page, 1)
    shown = result(page)
    assert shown["headline"] == "Recorded" and shown["customer"] == "Pat C4 (C4)"
    assert page.evaluate("document.activeElement.id") == "scan-input"
    page.click("#sound-toggle")
    assert page.inner_text("#sound-toggle") == "Sound off"
    assert page.evaluate("document.activeElement.id") == "scan-input"


@pytest.mark.usefixtures("clerk")
def test_a_code_scanned_before_the_page_script_ran_is_taken_when_it_runs(
    live_server: LiveServer, open_page  # type: ignore[no-untyped-def]
) -> None:
    with live_server.app.app_context():
        code = mail_customers(db.session, "C7", churn_risk=0.4)["C7"].piece_code
        db.session.commit()
    page = open_page(width=1024, height=768)
    held = []
    page.route("**/static/mailroom.js", lambda route: held.append(route))  # the script waits to be let through
    clerk_logs_in(page, live_server, wait_for_script=False)
    page.wait_for_function("() => document.activeElement.id === 'scan-input'")
    page.wait_for_function("() => window.Mailroom === undefined")
    scan(page, code)  # its Enter falls on a page with no script yet
    assert page.input_value("#scan-input") == code
    page.wait_for_timeout(100)
    (route,) = held
    route.continue_()
    page.wait_for_function("() => window.Mailroom !== undefined")

    assert page.input_value("#scan-input") == ""
    assert page.inner_text("#scan-prompt") == f"Piece {display_piece_code(code)}: press its reason key."
    scan(page, "UNC")
    wait_for_answer(page, 1)
    assert result(page)["headline"] == "Recorded"


@pytest.mark.usefixtures("clerk")
def test_what_the_server_refuses_shows_in_red_and_an_old_token_is_renewed(
    live_server: LiveServer, browser  # type: ignore[no-untyped-def]
) -> None:
    # Chromium reports every 4xx answer as a console error, so this test keeps its own tab and
    # allows exactly those (open_page fails a test on any console error).
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        clerk_logs_in(page, live_server)

        # A code whose check character is right but which no envelope carries: the server's words.
        scan(page, "0000-0000")
        page.keyboard.press("1")
        wait_for_answer(page, 1)
        shown = result(page)
        assert shown["tone"] == "bad" and shown["headline"] == "Unknown piece"
        assert "No piece with code 0000-0000" in shown["message"]
        assert tally(page) == (0, 0, 1)

        # The page has been open longer than its CSRF token lives: it fetches a new one and
        # records the return all the same.
        with live_server.app.app_context():
            code = mail_customers(db.session, "C5", churn_risk=0.4)["C5"].piece_code
            db.session.commit()
        live_server.app.config["WTF_CSRF_TIME_LIMIT"] = 1
        try:
            page.wait_for_timeout(2_100)
            scan(page, code)
            page.keyboard.press("2")
            wait_for_answer(page, 2)
        finally:
            del live_server.app.config["WTF_CSRF_TIME_LIMIT"]
        assert result(page)["customer"] == "Pat C5 (C5)" and tally(page) == (1, 0, 1)

        # Logged out in another tab: the scan says so instead of failing silently.
        other = context.new_page()
        other.goto(live_server.url + "/mailroom")
        other.click("text=Log out")
        other.wait_for_selector("input[name=email]")
        scan(page, code)
        page.keyboard.press("2")
        wait_for_answer(page, 3)
        shown = result(page)
        assert shown["tone"] == "bad" and shown["detail"].startswith("You are logged out. Log in again")
    finally:
        context.close()
    assert errors and all(re.search(r"status of (400|401|404) ", error) for error in errors), errors


def _python_verdict(typed: str) -> list[object]:
    try:
        return ["code", parse_piece_code(typed)]
    except PieceCodeError as exc:
        message = str(exc)
    if length := re.search(r"has (\d+)$", message):
        return ["length", int(length.group(1))]
    if symbols := re.search(r"contains '(.*)', which", message):
        return ["symbols", symbols.group(1)]
    assert "fails its check character" in message, message
    return ["check"]


def _codes_to_try() -> list[str]:
    payloads = ["0000000", "ZZZZZZZ", "1A2B3C4", "QRSTVWX", "9876543", "0123456", "HJKMNPQ"]
    valid = [payload + check_symbol(payload) for payload in payloads]
    tries = [*valid, *(display_piece_code(c) for c in valid), *(c.lower() for c in valid)]
    tries += ["O1IL" + valid[5][4:], " 0123 4567 ", "0123_456.7", "", "-", "ABC", "ABCDEFGHJ", "UUUUUUUU"]
    tries += ["ÀBCDEFGH", "ABCD-EFG!", "ab\tcd efgh", "ABCDEFG\u00a0H", "😀BCDEFGH", "ẞBCDEFG"]
    code = valid[2]
    # Every single wrong symbol and every swap of neighbours of one code.
    tries += [code[:i] + symbol + code[i + 1 :] for i in range(len(code)) for symbol in ALPHABET if symbol != code[i]]
    tries += [code[:i] + code[i + 1] + code[i] + code[i + 2 :] for i in range(len(code) - 1)]
    return tries


@pytest.mark.usefixtures("clerk")
def test_the_page_checks_piece_codes_exactly_as_the_server_does(
    live_server: LiveServer, open_page  # type: ignore[no-untyped-def]
) -> None:
    page = open_page()
    clerk_logs_in(page, live_server)
    tries = _codes_to_try()

    in_browser = page.evaluate(
        """codes => codes.map(typed => {
             const parsed = window.Mailroom.parsePieceCode(typed);
             if (parsed.code) return ["code", parsed.code];
             if (parsed.error === "length") return ["length", parsed.count];
             if (parsed.error === "symbols") return ["symbols", parsed.symbols];
             return [parsed.error];
           })""",
        tries,
    )

    verdicts = {typed: (_python_verdict(typed), found) for typed, found in zip(tries, in_browser, strict=True)}
    assert {typed: pair for typed, pair in verdicts.items() if pair[0] != pair[1]} == {}
    kinds = {str(python[0]) for python, _ in verdicts.values()}
    assert kinds == {"code", "length", "symbols", "check"}


@pytest.mark.usefixtures("clerk")
def test_the_reason_card_prints_on_one_page_and_every_barcode_reads(
    live_server: LiveServer, open_page, screenshots: Path  # type: ignore[no-untyped-def]
) -> None:
    page = open_page(width=1024, height=768)
    clerk_logs_in(page, live_server)
    page.click("text=Reason card")
    page.wait_for_selector(".reason-card")
    assert page.locator(".reason-card-item").count() == len(REASONS)
    page.screenshot(path=str(screenshots / "reason-card.png"), full_page=True)

    # Read on screen as a scanner would read a printed card.
    shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("L")
    read = {found.text for found in zxingcpp.read_barcodes(shot, formats=zxingcpp.BarcodeFormat.Code128)}
    assert read == set(REASONS)

    page.emulate_media(media="print")
    assert page.locator(".topbar").is_hidden() and page.locator("button[data-action=print]").is_hidden()
    pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True, print_background=False)))
    assert len(pdf.pages) == 1
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = pdf.pages[0].extract_text()
    assert all(reason.code in text for reason in REASONS.values())
