"""The customer list (filters, search, keyset pages) and the customer page."""

from __future__ import annotations

import html
import itertools
import math
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from mailer.addresses.lifecycle import record_event
from mailer.addresses.models import Address, AddressEventKind, AddressValidity, ChangeSource
from mailer.auth.models import Role
from mailer.batches.models import MailPiece
from mailer.batches.piece_codes import display_piece_code
from mailer.batches.selection import BatchFilters, create_batch
from mailer.churn import evidence, explanation, wording
from mailer.churn.bgnbd import TimeUnit
from mailer.churn.explanation import explain
from mailer.customers.importing import import_customers
from mailer.customers.models import Customer, CustomerStatus
from mailer.orders.models import Order
from returns.catalog import REASONS
from returns.models import MailReturn, ReturnSource
from returns.service import record_return
from tests.factories import CN_ROW, add_customer, customer_row, write_csv
from tests.web.conftest import data, import_demo_customers, post

ROW_LINK = re.compile(r'<td class="mono"><a href="/customers/(\d+)">')
NEXT_LINK = re.compile(r'href="([^"]+)" rel="next"')
PREVIOUS_LINK = re.compile(r'href="([^"]+)" rel="prev"')


def _ids(page: str) -> list[int]:
    return [int(i) for i in ROW_LINK.findall(page)]


def _link(pattern: re.Pattern[str], page: str) -> str | None:
    match = pattern.search(page)
    return match.group(1).replace("&amp;", "&") if match else None


def _walk(client: FlaskClient, url: str) -> tuple[list[list[int]], str]:
    """Follow the next links from ``url``; return each page's ids and the last page's HTML."""
    pages = []
    while True:
        page = client.get(url).get_data(as_text=True)
        pages.append(_ids(page))
        following = _link(NEXT_LINK, page)
        if following is None:
            return pages, page
        url = following


@pytest.fixture
def marketing(logged_in) -> FlaskClient:  # type: ignore[no-untyped-def]
    return logged_in(Role.MARKETING)


def test_pages_follow_each_other_by_id_without_gaps_or_repeats(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    ids = import_demo_customers(app, tmp_path, 130)
    pages, last_page = _walk(marketing, "/customers")
    assert [len(p) for p in pages] == [50, 50, 30]
    for earlier, later in itertools.pairwise(pages):
        assert later[0] > earlier[-1]  # the next page starts after the last id shown
    assert [i for p in pages for i in p] == ids

    # And back again with the previous links.
    backwards = []
    page = last_page
    while (previous := _link(PREVIOUS_LINK, page)) is not None:
        page = marketing.get(previous).get_data(as_text=True)
        backwards.append(_ids(page))
    assert backwards == [pages[1], pages[0]]
    assert _link(PREVIOUS_LINK, page) is None


def test_a_page_stays_right_when_rows_change_meanwhile(app: Flask, marketing: FlaskClient, tmp_path: Path) -> None:
    ids = import_demo_customers(app, tmp_path, 120)
    first = marketing.get("/customers").get_data(as_text=True)
    following = _link(NEXT_LINK, first)
    assert following == f"/customers?after={ids[49]}"
    # A customer earlier in the list leaves the filter: with OFFSET the next page would skip one.
    with data(app) as session:
        session.execute(update(Customer).where(Customer.id == ids[10]).values(status=CustomerStatus.DECEASED))
    second = _ids(marketing.get(following + "&status=active").get_data(as_text=True))
    assert second == ids[50:100]


def test_filters_narrow_the_list_and_stay_in_the_page_links(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    ids = import_demo_customers(app, tmp_path, 120)
    with data(app) as session:
        session.execute(update(Customer).where(Customer.id.in_(ids[::2])).values(status=CustomerStatus.DO_NOT_MAIL))
        session.execute(update(Customer).where(Customer.id.in_(ids[:60])).values(churn_risk=0.85))
        session.execute(
            update(Address).where(Address.customer_id.in_(ids[:3])).values(validity=AddressValidity.UNDELIVERABLE)
        )
        ny = list(
            session.scalars(select(Address.customer_id).where(Address.region == "NY").order_by(Address.customer_id))
        )

    pages, _ = _walk(marketing, "/customers?status=do_not_mail&risk=high")
    assert [i for p in pages for i in p] == ids[:60:2]
    pages, _ = _walk(marketing, "/customers?status=do_not_mail&region=")
    assert [len(p) for p in pages] == [50, 10]
    first = marketing.get("/customers?status=do_not_mail&region=").get_data(as_text=True)
    assert _link(NEXT_LINK, first) == f"/customers?after={ids[98]}&status=do_not_mail"

    assert _ids(marketing.get("/customers?validity=undeliverable").get_data(as_text=True)) == ids[:3]
    assert [i for p in _walk(marketing, "/customers?region=NY")[0] for i in p] == ny
    assert _ids(marketing.get("/customers?risk=unscored").get_data(as_text=True)) == ids[60:110]
    # A value that is not a filter value is ignored rather than failing the page.
    assert _ids(marketing.get("/customers?status=bogus").get_data(as_text=True)) == ids[:50]


def test_search_by_customer_number_or_any_word_of_a_name_is_posted_and_remembered(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    rows = [
        customer_row(customer_no="K100", name="Anna Berg"),
        customer_row(customer_no="K101", name="Annabel Lee"),
        customer_row(customer_no="K102", name="Hanna Anders"),
        customer_row(CN_ROW, customer_no="K103", name="王磊"),
        customer_row(CN_ROW, customer_no="Anna", name="王芳"),
    ]
    with data(app) as session:
        import_customers(session, path=write_csv(tmp_path / "c.csv", rows), actor="test")

    def names(page: str) -> list[str]:
        return re.findall(r'<td><a href="/customers/\d+">([^<]+)</a></td>', page)

    response = post(marketing, "/customers/search", {"q": "Anna"})
    assert response.location == "/customers"
    page = marketing.get("/customers").get_data(as_text=True)
    assert names(page) == ["Anna Berg", "Annabel Lee", "王芳"]  # the start of a name's word, or of the number
    assert "Clear search" in page
    # The term stays for the next pages and filters, until cleared.
    assert names(marketing.get("/customers?status=active").get_data(as_text=True)) == names(page)

    post(marketing, "/customers/search", {"q": "王"})
    assert names(marketing.get("/customers").get_data(as_text=True)) == ["王磊", "王芳"]
    post(marketing, "/customers/search", {"q": "K102"})
    assert names(marketing.get("/customers").get_data(as_text=True)) == ["Hanna Anders"]
    post(marketing, "/customers/search", {"q": "anna"})  # in any case
    assert names(marketing.get("/customers").get_data(as_text=True)) == ["Anna Berg", "Annabel Lee", "王芳"]
    post(marketing, "/customers/search", {"q": "anders"})  # any word of the name
    assert names(marketing.get("/customers").get_data(as_text=True)) == ["Hanna Anders"]
    post(marketing, "/customers/search", {"q": "wang"})  # pinyin of a Chinese name
    assert names(marketing.get("/customers").get_data(as_text=True)) == ["王磊", "王芳"]
    post(marketing, "/customers/search", {"q": "%_"})  # LIKE wildcards are no words
    assert len(names(marketing.get("/customers").get_data(as_text=True))) == 5
    post(marketing, "/customers/search", {"q": "Berg%"})  # nor parts of one
    assert names(marketing.get("/customers").get_data(as_text=True)) == ["Anna Berg"]

    response = post(marketing, "/customers/search", {"q": "Anna", "clear": "1", "status": "active"})
    assert response.location == "/customers?status=active"
    assert len(names(marketing.get("/customers").get_data(as_text=True))) == 5


def test_the_customer_page_shows_address_history_orders_and_churn(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    first = customer_row(CN_ROW, customer_no="H1")
    moved = customer_row(CN_ROW, customer_no="H1", line1="西湖区文一西路969号", postal_code="311121")
    with data(app) as session:
        import_customers(session, path=write_csv(tmp_path / "a.csv", [first]), actor="importer@example.com")
        import_customers(session, path=write_csv(tmp_path / "b.csv", [moved]), actor="importer@example.com")
        customer = session.scalars(select(Customer).where(Customer.customer_no == "H1")).one()
        customer.churn_risk = 0.42
        customer.churn_explanation = [
            {"kind": "base", "text": "Base figure from 3 purchases: 30%.", "risk_after": 0.30},
            {"kind": "evidence", "text": "2026-05-02: returned mail (NSN) raised the risk.", "risk_after": 0.42},
            {"kind": "result", "text": "Churn risk: 42%.", "risk_after": 0.42},
        ]
        session.execute(
            insert(Order),
            [
                {"customer_id": customer.id, "ordered_on": date(2025, 3, 1), "amount_cents": 12_000},
                {"customer_id": customer.id, "ordered_on": date(2026, 1, 9), "amount_cents": 5_050},
            ],
        )
        customer_id = customer.id

    page = marketing.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "王磊" in page and "H1" in page
    assert "西湖区文一西路969号" in page  # current address
    timeline = page[page.index('class="timeline"'):]
    # Newest first: the new address, the old one superseded, the first address.
    kinds = re.findall(r'<li class="(created|superseded|edited|validity)">', timeline)
    assert kinds == ["created", "superseded", "created"]
    assert "文三路478号华星时代广场A座1201室" in timeline
    assert "customer import" in timeline and "importer@example.com" in timeline
    assert "42%" in page and "returned mail (NSN) raised the risk" in page
    assert "170.50" in page  # order total
    assert "Jan 9, 2026" in page  # last order


def test_the_customer_page_lists_returned_mail_with_corrections(app: Flask, marketing: FlaskClient) -> None:
    with data(app) as session:
        customer = add_customer(session, "R1", base=CN_ROW)
        create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
        piece = session.scalars(select(MailPiece).where(MailPiece.customer_id == customer.id)).one()
        first = MailReturn(
            piece_id=piece.id, batch_id=piece.batch_id, customer_id=customer.id, address_id=piece.address_id,
            reason="UNC", source=ReturnSource.SCAN, returned_at=datetime(2026, 5, 2, tzinfo=UTC), actor="clerk",
            is_current=False,
        )
        session.add(first)
        session.flush()
        session.add(
            MailReturn(
                piece_id=piece.id, batch_id=piece.batch_id, customer_id=customer.id, address_id=piece.address_id,
                reason="ANK", source=ReturnSource.SCAN, returned_at=datetime(2026, 5, 3, tzinfo=UTC), actor="clerk",
                corrects_id=first.id,
            )
        )
        customer_id, piece_code = customer.id, display_piece_code(piece.piece_code)

    page = marketing.get(f"/customers/{customer_id}").get_data(as_text=True)
    returned = page[page.index("Returned mail"):page.index("Address history")]
    assert returned.index("Attempted – not known") < returned.index("Unclaimed (corrected)")
    assert returned.count(piece_code) == 2


def test_the_address_history_notes_are_said_in_the_staff_members_language(
    app: Flask, marketing: FlaskClient
) -> None:
    with data(app) as session:
        customer = add_customer(session, "N1", base=CN_ROW)
        create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
        piece = session.scalars(select(MailPiece).where(MailPiece.customer_id == customer.id)).one()
        record_return(session, piece_code=piece.piece_code, reason="VAC", source=ReturnSource.SCAN, actor="clerk")
        # A note without a phrase (typed by a person, or stored before notes kept one) is shown as written.
        address = session.get_one(Address, piece.address_id)
        record_event(session, address=address, kind=AddressEventKind.EDITED, changes={}, source=ChangeSource.STAFF,
                     actor="t", note="typed by hand")
        customer_id, code = customer.id, display_piece_code(piece.piece_code)

    history = _history(marketing.get(f"/customers/{customer_id}").get_data(as_text=True))
    assert f"returned mail: VAC (Vacant), piece {code}" in history
    post(marketing, "/profile", {"locale": "zh"})
    history = _history(marketing.get(f"/customers/{customer_id}").get_data(as_text=True))
    assert f"退件：VAC，邮件 {code}" in history and "returned mail" not in history
    assert "typed by hand" in history


def _history(page: str) -> str:
    return html.unescape(page[page.index('<ol class="timeline">'):])


SCORED_ON = date(2026, 6, 30)
WHY = re.compile(r'<ol class="explanation">(.*?)</ol>', re.S)
WHY_LINE = re.compile(r"<li>(.*?)(?: <span class=\"after\">[^<]*</span>)?</li>", re.S)


def _explained(app: Flask) -> tuple[int, explanation.Assessment]:
    """Store a customer whose churn explanation has a model base, a refused return and a self-service update."""
    base = evidence.BaseFigure(log_odds=math.log(0.3 / 0.7), from_prior=False, x=4, t_x=20.0, T=52.0,
                               unit=TimeUnit.WEEK, interval_days=(30.0, 90.0))
    refused = REASONS["REF"]
    assessment = explain(
        base,
        [
            evidence.Evidence(refused.evidence_label, refused.churn_weight, SCORED_ON - timedelta(days=100)),
            evidence.self_update(SCORED_ON - timedelta(days=10)),
        ],
        as_of=SCORED_ON,
    )
    with data(app) as session:
        customer = add_customer(session, "W1", base=CN_ROW)
        customer.churn_risk = assessment.risk
        customer.churn_explanation = assessment.to_json()
        return customer.id, assessment


def _why(client: FlaskClient, customer_id: int) -> list[str]:
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    match = WHY.search(page)
    assert match, "no explanation on the page"
    return [html.unescape(line.strip()) for line in WHY_LINE.findall(match.group(1))]


def test_the_customer_page_says_the_explanation_in_the_staff_members_language(
    app: Flask, marketing: FlaskClient
) -> None:
    customer_id, assessment = _explained(app)

    english = _why(marketing, customer_id)
    post(marketing, "/profile", {"locale": "zh"})
    chinese = _why(marketing, customer_id)

    # Every line but the closing one, which would repeat the figure the page shows above it.
    assert english == assessment.text[:-1]
    assert assessment.text[-1].startswith("Churn risk (no order within 365 days): ")
    # The refused return by the catalog's Chinese name, not the English one.
    assert "拒收" in chinese[1]
    assert not any("Refused" in line for line in chinese)


def test_the_customer_page_explains_the_churn_risk_in_chinese(app: Flask, marketing: FlaskClient) -> None:
    """The sentences of a Chinese customer page, from the Chinese catalog."""
    customer_id, assessment = _explained(app)
    base, refused, updated, _ = (wording.format_risk(line.risk_after) for line in assessment.lines)
    post(marketing, "/profile", {"locale": "zh"})

    chinese = _why(marketing, customer_id)
    page = marketing.get(f"/customers/{customer_id}").get_data(as_text=True)

    assert chinese[0] == "5 个月内下单 5 次，最近 7 个月没有下单；类似的客户通常每 1–3 个月下单一次。"
    assert chinese[1] == (
        f"{SCORED_ON - timedelta(days=100)}：退件：拒收——流失风险由 {base} 升至 {refused}"
        "（权重 ×8，100 天后衰减为 ×5.6；半衰期 365 天）。"
    )
    assert chinese[2].startswith(
        f"{SCORED_ON - timedelta(days=10)}：客户自行更新了地址——流失风险由 {refused} 降至 {updated}（权重 ×0.25，"
    )
    assert len(chinese) == 3
    assert "评分日之后 365 天内不再下单的概率。" in page
    assert "计算方法" in page and "MBG/NBD" in page


def test_the_customer_page_says_what_the_risk_means_and_how_it_is_computed(
    app: Flask, marketing: FlaskClient
) -> None:
    customer_id, _ = _explained(app)

    page = html.unescape(marketing.get(f"/customers/{customer_id}").get_data(as_text=True))

    assert "Chance of no order within 365 days of the scoring day." in page
    assert "How this is computed" in page
    # The model is named in the note, not in the explanation's lines.
    why = page[page.index('<ol class="explanation">'):page.index("</ol>", page.index('<ol class="explanation">'))]
    assert "MBG/NBD" not in why and "MBG/NBD purchase model" in page


def test_an_unknown_customer_is_not_found(marketing: FlaskClient) -> None:
    assert marketing.get("/customers/999999").status_code == 404


def test_the_customer_list_says_what_its_churn_risk_means(app: Flask, marketing: FlaskClient) -> None:
    from mailer.churn.models import ChurnRun

    with data(app) as session:
        add_customer(session, "R1", churn_risk=0.42)
        session.add(ChurnRun(as_of=SCORED_ON, horizon_days=200, model="mbg/nbd", params=None, currency="USD"))

    page = html.unescape(marketing.get("/customers").get_data(as_text=True))

    assert "Churn risk: the chance of no order within 200 days of Jun 30, 2026." in page
