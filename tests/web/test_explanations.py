"""Churn explanations in the page's language: the same figures as the stored English, said the page's way."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations
from flask import Flask
from flask_babel import Domain

from mailer.churn import evidence as ev
from mailer.churn.bgnbd import TimeUnit
from mailer.churn.evidence import Evidence
from mailer.churn.explanation import explain
from mailer.churn.retention import RetentionRow
from mailer.churn.top_reason import top_reason_words
from mailer.churn.wording import format_factor, format_risk, in_english
from mailer.customers.models import CustomerStatus
from mailer.web.explanations import explanation_line, say_words, top_reason
from returns.catalog import REASONS
from tests.churn.lines import stored_lines

ENGLISH = {"Accept-Language": "en"}
CHINESE = {"Accept-Language": "zh-CN"}
AS_OF = date(2026, 6, 30)

# Stand-ins for a few catalog entries, so these tests follow the translation path whatever the
# catalog holds; the real Chinese is checked on the pages (tests/web/customers, tests/web/retention).
STAND_INS = {
    "Churn risk: %(risk_after)s.": "流失风险：%(risk_after)s。",
    "Churn risk (no order within %(horizon_days)s days): %(risk_after)s.":
        "流失风险（%(horizon_days)s 天内不再下单的概率）：%(risk_after)s。",
    "under 1%": "低于 1%",
    "%(orders)s in %(span_days)s, none in the last %(since_days)s; customers like this usually order every "
    "%(interval_days)s.":
        "%(span_days)s内下单 %(orders)s，最近 %(since_days)s没有下单；类似的客户通常每 %(interval_days)s下单一次。",
    "%(span)s or so": "约 %(span)s",
    "%(observed_on)s: %(label)s — raises churn risk from %(risk_before)s to %(risk_after)s (weight ×%(weight)s, "
    "faded to ×%(faded)s after %(days)s; half-life %(half_life_days)s days).":
        "%(observed_on)s：%(label)s——流失风险由 %(risk_before)s 升至 %(risk_after)s（权重 ×%(weight)s，"
        "%(days)s后衰减为 ×%(faded)s；半衰期 %(half_life_days)s 天）。",
    "Returned mail: %(reason)s": "退件：%(reason)s",
    "%(label)s (%(observed_on)s)": "%(label)s（%(observed_on)s）",
    "model: no purchase for %(since)s": "模型：%(since)s未购买",
    # A translation whose placeholder does not match: the line falls back to its English text.
    "Churn risk so far: %(risk_after)s.": "目前的流失风险：%(risk)s。",
}
STAND_IN_PLURALS = {
    ("%(count)s repeat purchase day", "%(count)s repeat purchase days"): "%(count)s 个重复购买日",
    ("%(count)s week", "%(count)s weeks"): "%(count)s 周",
    ("%(count)s day", "%(count)s days"): "%(count)s 天",
    ("%(count)s order", "%(count)s orders"): "%(count)s 次",
    ("%(count)s month", "%(count)s months"): "%(count)s 个月",
}


@pytest.fixture
def chinese(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Serve a Chinese request with the stand-in catalog."""
    catalog = Catalog(locale="zh")
    for msgid, msgstr in STAND_INS.items():
        catalog.add(msgid, msgstr)
    for ids, msgstr in STAND_IN_PLURALS.items():
        catalog.add(ids, (msgstr,))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    translations = Translations(compiled)
    monkeypatch.setattr(Domain, "get_translations", lambda self: translations)
    with app.test_request_context(headers=CHINESE):
        yield


def _lines(evidence: list[Evidence], *, risk: float = 0.3) -> list[dict[str, Any]]:
    base = ev.BaseFigure(log_odds=math.log(risk / (1 - risk)), from_prior=False, x=4, t_x=20.0, T=52.0,
                         unit=TimeUnit.WEEK, interval_days=(30.0, 90.0))
    return explain(base, evidence, as_of=AS_OF).to_json()


def _row(lines: list[dict[str, Any]], recency_days: int | None) -> RetentionRow:
    words = top_reason_words(lines, recency_days=recency_days)
    return RetentionRow(
        customer_id=1, customer_no="C1", name="王磊", status=CustomerStatus.ACTIVE, recency_days=recency_days,
        frequency=5, monetary=Decimal("100.00"), churn_risk=lines[-1]["risk_after"], top_reason=in_english(words),
        top_reason_words=words, address_validity=None, value_at_risk_cents=8_000,
    )


def test_in_english_every_line_says_exactly_its_stored_text(app: Flask) -> None:
    lines = stored_lines()

    with app.test_request_context(headers=ENGLISH):
        said = [explanation_line(line) for line in lines]

    assert said == [line["text"] for line in lines]


def test_in_english_the_top_reason_is_the_csv_column(app: Flask) -> None:
    moved = Evidence(REASONS["MLNA"].evidence_label, 6.0, AS_OF - timedelta(days=3))
    rows = [_row(_lines([moved]), 30), _row(_lines([], risk=0.9), 150), _row(_lines([], risk=0.9), 7)]

    with app.test_request_context(headers=ENGLISH):
        said = [top_reason(row) for row in rows]

    assert said == [row.top_reason for row in rows] == [
        f"Returned mail: Moved, left no address ({AS_OF - timedelta(days=3)})",
        "model: no purchase for 21 weeks",
        "model: no purchase for 1 week",
    ]


@pytest.mark.usefixtures("chinese")
def test_a_chinese_page_says_each_line_from_the_catalog_with_the_same_figures() -> None:
    refused = Evidence(REASONS["REF"].evidence_label, 8.0, AS_OF - timedelta(days=100))
    model, returned, result = _lines([refused])
    risks = [format_risk(line["risk_after"]) for line in (model, returned)]

    # In words, without the figure: the page shows the risk once.
    assert explanation_line(model) == "5 个月内下单 5 次，最近 7 个月没有下单；类似的客户通常每 1–3 个月下单一次。"
    assert model["text"] == (
        "5 orders in 5 months, none in the last 7 months; customers like this usually order every 1–3 months."
    )
    # The reason by the catalog's Chinese name; the figures as the English prints them.
    faded = format_factor(returned["values"]["faded"])
    assert explanation_line(returned) == (
        f"{AS_OF - timedelta(days=100)}：退件：拒收——流失风险由 {risks[0]} 升至 {risks[1]}"
        f"（权重 ×8，100 天后衰减为 ×{faded}；半衰期 365 天）。"
    )
    assert f"from {risks[0]} to {risks[1]} (weight ×8, faded to ×{faded} after 100 days" in returned["text"]
    assert explanation_line(result) == f"流失风险（365 天内不再下单的概率）：{risks[1]}。"


@pytest.mark.usefixtures("chinese")
def test_a_chinese_page_says_risks_near_the_ends_and_counts_in_its_words() -> None:
    low = ev.BaseFigure(
        log_odds=-6.0, from_prior=False, x=1, t_x=0.5, T=61.0, unit=TimeUnit.WEEK, interval_days=(40.0, 45.0),
        horizon_days=90,
    )
    model, result = explain(low, [], as_of=AS_OF).to_json()

    assert model["text"] == (
        "2 orders in 4 days, none in the last 14 months; customers like this usually order every 6 weeks or so."
    )
    assert explanation_line(model) == "4 天内下单 2 次，最近 14 个月没有下单；类似的客户通常每 约 6 周下单一次。"
    assert explanation_line(result) == "流失风险（90 天内不再下单的概率）：低于 1%。"


@pytest.mark.usefixtures("chinese")
def test_a_chinese_page_says_the_top_reason() -> None:
    moved = Evidence(REASONS["MLNA"].evidence_label, 6.0, AS_OF - timedelta(days=3))

    assert top_reason(_row(_lines([moved]), 30)) == f"退件：迁移新址不明（{AS_OF - timedelta(days=3)}）"
    assert top_reason(_row(_lines([], risk=0.9), 150)) == "模型：21 周未购买"


@pytest.mark.usefixtures("chinese")
def test_what_a_page_cannot_say_keeps_its_english_words() -> None:
    before_phrases = {"kind": "evidence", "text": "2026-05-02: returned mail (NSN) raised the risk.", "risk_after": 0.4}
    unknown_wording = {"kind": "result", "text": "Churn risk: 40%.", "risk_after": 0.4, "wording": "gone", "values": {}}
    so_far = next(line for line in stored_lines() if line["text"].startswith("Churn risk so far"))
    typed_label = _lines([Evidence("a note typed by hand", 8.0, AS_OF - timedelta(days=100))])[1]

    assert explanation_line(before_phrases) == before_phrases["text"]
    assert explanation_line(unknown_wording) == unknown_wording["text"]
    # Its translation names a value the line does not have.
    assert explanation_line(so_far) == so_far["text"]
    # Words stored as words are said as they are, within the translated line.
    assert explanation_line(typed_label).startswith(f"{AS_OF - timedelta(days=100)}：a note typed by hand——流失风险由")
    assert say_words("prior: too few repeat buyers for the model") == "prior: too few repeat buyers for the model"

