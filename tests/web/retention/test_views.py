"""The retention list page (order, keyset pages, filters) and its audited, CSRF-protected CSV download."""

from __future__ import annotations

import codecs
import csv
import html
import io
import itertools
import math
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from mailer.audit.models import AuditEntry
from mailer.auth.models import Role
from mailer.churn import evidence, explanation
from mailer.churn.bgnbd import TimeUnit
from mailer.churn.retention import RETENTION_COLUMNS
from mailer.customers.models import Customer, CustomerStatus
from returns.catalog import REASONS
from tests.web.conftest import Staff, csrf_token, data, import_demo_customers, post

ROW_LINK = re.compile(r'<td class="mono"><a href="/customers/(\d+)">')
NEXT_LINK = re.compile(r'href="([^"]+)" rel="next"')
PREVIOUS_LINK = re.compile(r'href="([^"]+)" rel="prev"')
HREF = re.compile(r'(?:href|action)="([^"]+)"')


def _ids(page: str) -> list[int]:
    return [int(i) for i in ROW_LINK.findall(page)]


def _link(pattern: re.Pattern[str], page: str) -> str | None:
    match = pattern.search(page)
    return match.group(1).replace("&amp;", "&") if match else None


def _score(
    app: Flask, scores: dict[int, tuple[float, int]], *, status: dict[int, CustomerStatus] | None = None
) -> None:
    """Store each customer's risk and spend expected within the horizon (cents) as a churn refresh does.

    The total spent so far is twice the expected spend.
    """
    with data(app) as session:
        for customer_id, (risk, expected) in scores.items():
            session.execute(
                update(Customer).where(Customer.id == customer_id).values(
                    churn_risk=risk, churn_last_ordered_on=date.today() - timedelta(days=customer_id % 300 + 1),
                    churn_purchase_days=1 + customer_id % 5, churn_spent_cents=2 * expected,
                    churn_expected_spend_cents=expected, churn_value_at_risk_cents=round(risk * expected),
                    status=(status or {}).get(customer_id, CustomerStatus.ACTIVE),
                )
            )


@pytest.fixture
def marketing(logged_in) -> FlaskClient:  # type: ignore[no-untyped-def]
    return logged_in(Role.MARKETING)


def test_the_list_shows_the_customers_most_at_stake_first_with_their_values(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    a, b, c, d = import_demo_customers(app, tmp_path, 4)
    _score(app, {a: (0.8, 10_000), b: (0.95, 50_000), c: (0.71, 200_000), d: (0.5, 900_000)})

    page = marketing.get("/retention").get_data(as_text=True)

    assert _ids(page) == [c, b, a]  # 1,420.00, 475.00 and 80.00 at stake; d is under 70%
    with data(app) as session:
        customer = session.get(Customer, b)
        assert customer is not None
        number, name = customer.customer_no, customer.name
    row = re.search(rf'<tr>\s*<td class="mono"><a href="/customers/{b}">{number}</a>.*?</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    assert name in cells[1]
    assert cells[4] == "1,000.00" and cells[6] == "500.00" and cells[7] == "475.00" and cells[5].startswith("95%")
    assert "retention.export" not in page and 'action="/retention/export.csv"' in page
    assert 'href="/retention" class="active"' in page or 'class="active" aria-current="page"' in page


def test_the_list_says_what_the_risk_means_and_the_currency_of_its_amounts(app: Flask, marketing: FlaskClient) -> None:
    from mailer.churn.service import refresh_churn
    from tests.churn.stored import AS_OF, add_population

    with data(app) as session:
        add_population(session, 200)
        refresh_churn(session, as_of=AS_OF, actor="t", horizon_days=90, currency="CNY")

    page = html.unescape(marketing.get("/retention?min_risk=0").get_data(as_text=True))
    exported = list(csv.DictReader(io.StringIO(post(marketing, "/retention/export.csv", {"min_risk": "0"}).get_data(
        as_text=True))))

    assert f"Churn risk: the chance of no order within 90 days of {AS_OF:%b} {AS_OF.day}, {AS_OF.year}." in page
    assert "Amounts in CNY." in page
    assert "Expected spend" in page and "How this is computed" in page
    assert {(row["churn_horizon_days"], row["currency"]) for row in exported} == {("90", "CNY")}


def test_pages_follow_each_other_without_gaps_or_repeats_and_lead_back(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    ids = import_demo_customers(app, tmp_path, 120)
    # Many ties: three spends for everyone, so the id decides among equals.
    _score(app, {customer_id: (0.9, 1_000 * (i % 3)) for i, customer_id in enumerate(ids)})
    expected = sorted(ids, key=lambda customer_id: (round(0.9 * 1_000 * (ids.index(customer_id) % 3)), customer_id),
                      reverse=True)

    pages, url, html = [], "/retention", ""
    while url:
        html = marketing.get(url).get_data(as_text=True)
        pages.append(_ids(html))
        url = _link(NEXT_LINK, html)

    assert [len(p) for p in pages] == [50, 50, 20]
    assert list(itertools.chain.from_iterable(pages)) == expected
    back = _link(PREVIOUS_LINK, html)
    assert back is not None and "before=" in back
    assert _ids(marketing.get(back).get_data(as_text=True)) == pages[1]


def test_filters_narrow_the_list_and_travel_with_the_page_links(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    ids = import_demo_customers(app, tmp_path, 60)
    _score(
        app, {customer_id: (0.95 if i % 2 else 0.75, 10_000 + i) for i, customer_id in enumerate(ids)},
        status={ids[1]: CustomerStatus.DO_NOT_MAIL, ids[3]: CustomerStatus.DECEASED, ids[5]: CustomerStatus.MERGED},
    )

    risky = marketing.get("/retention?min_risk=90").get_data(as_text=True)
    mailable = marketing.get("/retention?min_risk=90&exclude_do_not_mail=y").get_data(as_text=True)
    everyone = marketing.get("/retention").get_data(as_text=True)
    nonsense = marketing.get("/retention?min_risk=abc&after=not-a-cursor").get_data(as_text=True)

    assert len(_ids(risky)) == 28 and ids[1] in _ids(risky)  # 30 odd ones, less the deceased and the merged
    assert ids[1] not in _ids(mailable) and len(_ids(mailable)) == 27
    assert len(_ids(everyone)) == 50 and _ids(nonsense) == _ids(everyone)
    assert 'value="90"' in risky
    following = _link(NEXT_LINK, everyone)
    assert following is not None and "min_risk=70" in following
    all_pages = _ids(everyone) + _ids(marketing.get(following).get_data(as_text=True))
    assert len(all_pages) == 58 and ids[3] not in all_pages and ids[5] not in all_pages


def test_no_customer_data_travels_in_a_link(app: Flask, marketing: FlaskClient, tmp_path: Path) -> None:
    ids = import_demo_customers(app, tmp_path, 55)
    _score(app, {customer_id: (0.8, 5_000 + customer_id) for customer_id in ids})
    with data(app) as session:
        numbers_and_names = session.execute(select(Customer.customer_no, Customer.name)).all()

    page = marketing.get("/retention").get_data(as_text=True)
    links = HREF.findall(page)

    assert any("after=" in link for link in links)
    for link in links:
        for number, name in numbers_and_names:
            assert number not in link and name not in link
        assert re.fullmatch(r"/[\w/.-]*(\?[\w=&;.-]*)?|data:,", link), link


def test_an_empty_list_says_what_to_do(marketing: FlaskClient) -> None:
    page = marketing.get("/retention").get_data(as_text=True)
    assert "No customer on the list." in page
    assert 'rel="next"' not in page


# --- the CSV download -------------------------------------------------------------------------------


def test_the_download_holds_the_whole_list_and_is_audited(
    app: Flask, marketing: FlaskClient, staff: dict[Role, Staff], tmp_path: Path
) -> None:
    ids = import_demo_customers(app, tmp_path, 70)
    _score(
        app, {customer_id: (0.8 + (i % 10) / 100, 1_000 * i) for i, customer_id in enumerate(ids)},
        status={ids[2]: CustomerStatus.DO_NOT_MAIL},
    )

    response = post(marketing, "/retention/export.csv", {"min_risk": "80", "exclude_do_not_mail": "y"})

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="retention-{date.today()}.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    # A byte-order mark first, so Excel on Windows reads the names as UTF-8.
    assert response.get_data().startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert list(rows[0]) == list(RETENTION_COLUMNS)
    assert len(rows) == 69 and all(row["status"] == "active" for row in rows)
    with data(app) as session:
        by_id = dict(session.execute(select(Customer.id, Customer.customer_no)).all())
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.export")).one()
    assert rows[0]["customer_no"] == by_id[ids[-1]]  # most spend at stake
    assert {row["customer_no"] for row in rows} == {by_id[i] for i in ids if i != ids[2]}
    assert entry.actor == staff[Role.MARKETING].email and entry.object_type == "retention_list"
    assert entry.detail == {
        "rows": 69, "min_risk": 0.8, "limit": None, "include_do_not_mail": False,
        "file": f"retention-{date.today()}.csv", "columns": list(RETENTION_COLUMNS),
    }


def test_the_download_button_posts_the_filters_of_the_page(app: Flask, marketing: FlaskClient, tmp_path: Path) -> None:
    ids = import_demo_customers(app, tmp_path, 3)
    _score(app, {ids[0]: (0.95, 100), ids[1]: (0.85, 100), ids[2]: (0.75, 100)})
    page = marketing.get("/retention?min_risk=80").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/retention/export.csv">(.*?)</form>', page, re.S)
    assert form is not None
    fields = dict(re.findall(r'<input [^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(1)))

    response = marketing.post("/retention/export.csv", data=fields)

    assert fields["min_risk"] == "80" and "csrf_token" in fields
    assert len(list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))) == 2


def test_the_download_needs_the_csrf_token_and_writes_nothing_without_it(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    ids = import_demo_customers(app, tmp_path, 2)
    _score(app, {customer_id: (0.9, 100) for customer_id in ids})
    csrf_token(marketing)  # a session that has a token, just not sent

    response = marketing.post("/retention/export.csv", data={"min_risk": "0"})

    assert response.status_code == 400
    assert "customer_no" not in response.get_data(as_text=True)
    with data(app) as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.export")).all() == []


def test_the_page_in_chinese(app: Flask, marketing: FlaskClient, tmp_path: Path) -> None:
    (customer_id,) = import_demo_customers(app, tmp_path, 1)
    _score(app, {customer_id: (0.9, 12_345)})
    post(marketing, "/profile", {"locale": "zh"})

    page = marketing.get("/retention").get_data(as_text=True)

    for text in ("挽留名单", "下载 CSV", "流失风险", "距上次订购天数", "累计消费", "风险金额", "主要原因"):
        assert text in page, text


def _explained(app: Flask, tmp_path: Path) -> tuple[int, int]:
    """Score two customers with stored explanations: one moved away 3 days ago, one quiet for 20 weeks."""
    moved, quiet = import_demo_customers(app, tmp_path, 2)
    _score(app, {moved: (0.9, 50_000), quiet: (0.8, 10_000)})
    base = evidence.BaseFigure(log_odds=math.log(0.3 / 0.7), from_prior=False, x=4, t_x=20.0, T=52.0,
                               unit=TimeUnit.WEEK, interval_days=(30.0, 90.0))
    reason = REASONS["MLNA"]
    returned = evidence.Evidence(reason.evidence_label, reason.churn_weight, date.today() - timedelta(days=3))
    stories = {moved: [returned], quiet: []}
    with data(app) as session:
        for customer_id, items in stories.items():
            session.execute(
                update(Customer).where(Customer.id == customer_id).values(
                    churn_explanation=explanation.explain(base, items, as_of=date.today()).to_json(),
                    churn_last_ordered_on=date.today() - timedelta(weeks=20),
                )
            )
    return moved, quiet


def _reasons(page: str) -> dict[int, str]:
    """Return the main reason cell of each row, by customer id."""
    rows = re.findall(r'<a href="/customers/(\d+)">.*?<td class="small">(.*?)</td>', page, re.S)
    return {int(customer_id): html.unescape(reason) for customer_id, reason in rows}


def test_the_main_reason_is_said_in_the_staff_members_language_and_the_csv_stays_english(
    app: Flask, marketing: FlaskClient, tmp_path: Path
) -> None:
    moved, quiet = _explained(app, tmp_path)
    returned_on = date.today() - timedelta(days=3)

    english = _reasons(marketing.get("/retention").get_data(as_text=True))
    post(marketing, "/profile", {"locale": "zh"})
    chinese = _reasons(marketing.get("/retention").get_data(as_text=True))
    exported = list(
        csv.DictReader(io.StringIO(post(marketing, "/retention/export.csv").get_data().decode("utf-8-sig")))
    )

    assert english == {
        moved: f"Returned mail: Moved, left no address ({returned_on})", quiet: "model: no purchase for 20 weeks",
    }
    # The return by the catalog's Chinese name, not the English one.
    assert "迁移新址不明" in chinese[moved] and "Moved" not in chinese[moved]
    assert str(returned_on) in chinese[moved]
    assert [row["top_reason"] for row in exported] == [english[moved], english[quiet]]


def test_the_main_reason_in_chinese(app: Flask, marketing: FlaskClient, tmp_path: Path) -> None:
    """The main reasons of a Chinese retention list, from the Chinese catalog."""
    moved, quiet = _explained(app, tmp_path)
    post(marketing, "/profile", {"locale": "zh"})

    chinese = _reasons(marketing.get("/retention").get_data(as_text=True))

    assert chinese == {moved: f"退件：迁移新址不明（{date.today() - timedelta(days=3)}）", quiet: "模型：20 周未购买"}
