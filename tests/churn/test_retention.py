"""The retention list: who is on it, in which order, with which value and main reason; its pages and export."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressValidity
from mailer.audit.models import AuditEntry
from mailer.churn.retention import (
    RETENTION_COLUMNS,
    RetentionCursor,
    RetentionFilters,
    RetentionPage,
    export_retention_csv,
    retention_list,
    retention_page,
)
from mailer.churn.service import refresh_churn
from mailer.customers.models import Customer, CustomerStatus
from tests.churn.stored import AS_OF, add_orders, add_population, regular_buyer, return_mail
from tests.factories import add_customer

TODAY = AS_OF + timedelta(days=1)


def store_score(
    session: Session, customer: Customer, risk: float, *, days: list[date], cents: list[int],
    expected_cents: int | None = None,
) -> None:
    """Store a risk and the purchase history behind it as a churn refresh does (orders given, none after).

    The spend expected within the horizon is the total spent unless given.
    """
    spent = sum(cents)
    expected = spent if expected_cents is None else expected_cents
    session.execute(
        update(Customer)
        .where(Customer.id == customer.id)
        .values(
            churn_risk=risk, churn_last_ordered_on=max(days, default=None), churn_purchase_days=len(set(days)),
            churn_spent_cents=spent, churn_expected_spend_cents=expected,
            churn_value_at_risk_cents=round(risk * expected),
        )
    )


def _scored(session: Session, customer_no: str, risk: float, *, cents: list[int], days_ago: list[int],
            status: CustomerStatus = CustomerStatus.ACTIVE,
            validity: AddressValidity = AddressValidity.DELIVERABLE) -> Customer:
    customer = add_customer(session, customer_no, status=status, validity=validity, line1=f"{customer_no} Main St")
    days = [TODAY - timedelta(days=ago) for ago in days_ago]
    for amount, day in zip(cents, days, strict=True):
        add_orders(session, customer, [day], cents=amount)
    store_score(session, customer, risk, days=days, cents=cents)
    return customer


def test_the_list_holds_the_risky_customers_most_spend_at_stake_first(session: Session) -> None:
    _scored(session, "K1", 0.80, cents=[10_000], days_ago=[100])  # 80.00 at stake
    _scored(session, "K2", 0.95, cents=[5_000, 2_000, 1_000], days_ago=[300, 200, 200])  # 76.00
    _scored(session, "K3", 0.70, cents=[20_000], days_ago=[400])  # 140.00
    _scored(session, "K4", 0.69, cents=[90_000], days_ago=[500])  # under the line
    _scored(session, "K5", 0.99, cents=[], days_ago=[])  # nothing spent: last
    add_customer(session, "K6", line1="6 Main St")  # not scored yet
    # Scored by a return since the last refresh, without a purchase history stored: listed after the next one.
    add_customer(session, "K7", line1="7 Main St", churn_risk=0.9)

    rows = list(retention_list(session, min_risk=0.7, today=TODAY))

    assert [row.customer_no for row in rows] == ["K3", "K1", "K2", "K5"]
    k2 = rows[2]
    assert (k2.recency_days, k2.frequency, k2.monetary) == (200, 2, Decimal("80.00"))
    assert k2.value_at_risk == Decimal("76.00")
    assert k2.address_validity is AddressValidity.DELIVERABLE
    k5 = rows[3]
    assert (k5.recency_days, k5.frequency, k5.monetary, k5.value_at_risk_cents) == (None, 0, Decimal("0"), 0)
    assert [row.customer_no for row in retention_list(session, min_risk=0.7, limit=2, today=TODAY)] == ["K3", "K1"]
    assert [row.customer_no for row in retention_list(session, min_risk=0.96, today=TODAY)] == ["K5"]


def test_the_list_reads_the_stored_purchase_history_not_the_orders_since(session: Session) -> None:
    customer = _scored(session, "H1", 0.8, cents=[10_000], days_ago=[100])
    add_orders(session, customer, [TODAY], cents=50_000)  # after the refresh: counted at the next one

    (row,) = retention_list(session, min_risk=0.5, today=TODAY)

    assert (row.recency_days, row.frequency, row.monetary, row.value_at_risk) == (
        100, 1, Decimal("100.00"), Decimal("80.00"),
    )


def test_the_list_is_ordered_as_a_refresh_stored_it(session: Session) -> None:
    add_population(session)
    refresh_churn(session, as_of=AS_OF, actor="t")

    rows = list(retention_list(session, min_risk=0.0, today=TODAY))
    stored = session.execute(
        select(Customer.customer_no, Customer.churn_risk, Customer.churn_expected_spend_cents)
        .where(Customer.churn_value_at_risk_cents.is_not(None))
    ).all()

    assert len(rows) == len(stored) == 150
    values = [row.value_at_risk_cents for row in rows]
    assert values == sorted(values, reverse=True) and values[0] > 0
    # Risk × the spend expected within the horizon, in the refresh's currency, for a year's horizon.
    expected = {no: round(risk * cents) for no, risk, cents in stored}
    assert {row.customer_no: row.value_at_risk_cents for row in rows} == expected
    assert {(row.currency, row.horizon_days) for row in rows} == {("USD", 365)}
    assert all(row.expected_spend_cents >= 0 for row in rows)
    assert sum(row.expected_spend_cents > 0 for row in rows) > 100


def test_deceased_and_merged_customers_are_never_listed_do_not_mail_ones_on_request(session: Session) -> None:
    _scored(session, "S1", 0.9, cents=[1_000], days_ago=[50])
    _scored(session, "S2", 1.0, cents=[9_000], days_ago=[50], status=CustomerStatus.DECEASED)
    _scored(session, "S3", 0.9, cents=[9_000], days_ago=[50], status=CustomerStatus.MERGED)
    _scored(session, "S4", 0.9, cents=[2_000], days_ago=[50], status=CustomerStatus.DO_NOT_MAIL)

    everyone = list(retention_list(session, min_risk=0.5, today=TODAY))
    mailable = list(retention_list(session, min_risk=0.5, include_do_not_mail=False, today=TODAY))

    assert [(row.customer_no, row.status) for row in everyone] == [
        ("S4", CustomerStatus.DO_NOT_MAIL), ("S1", CustomerStatus.ACTIVE),
    ]
    assert [row.customer_no for row in mailable] == ["S1"]


def test_a_customer_without_a_current_address_is_listed_without_validity(session: Session) -> None:
    customer = _scored(session, "V1", 0.9, cents=[1_000], days_ago=[10], validity=AddressValidity.UNDELIVERABLE)
    (row,) = retention_list(session, min_risk=0.5, today=TODAY)
    assert row.address_validity is AddressValidity.UNDELIVERABLE

    session.execute(update(Address).where(Address.customer_id == customer.id).values(is_current=False))
    (row,) = retention_list(session, min_risk=0.5, today=TODAY)

    assert row.address_validity is None
    assert row.as_csv_row()["address_validity"] == ""


def test_after_a_refresh_deceased_customers_are_out_and_returns_give_the_top_reason(session: Session) -> None:
    add_population(session)
    moved, deceased, _dormant = (regular_buyer(session, no) for no in ("T1", "T2", "T3"))
    return_mail(session, [(moved, "MLNA", AS_OF - timedelta(days=3)), (deceased, "DEC", AS_OF - timedelta(days=3))])
    session.execute(update(Customer).where(Customer.id == deceased.id).values(status=CustomerStatus.DECEASED))
    refresh_churn(session, as_of=AS_OF, actor="t")

    rows = {row.customer_no: row for row in retention_list(session, min_risk=0.0, today=TODAY)}

    assert "T2" not in rows
    assert rows["T1"].top_reason == f"Returned mail: Moved, left no address ({AS_OF - timedelta(days=3)})"
    assert rows["T3"].top_reason == "model: no purchase for 20 weeks"
    assert rows["T1"].churn_risk > rows["T3"].churn_risk
    assert set(rows["T1"].as_csv_row()) == set(RETENTION_COLUMNS)
    # And as phrases, to say in another language: the return by its reason code, the weeks as a figure.
    assert rows["T1"].top_reason_words == {
        "template": "%(label)s (%(observed_on)s)",
        "values": {
            "label": {"template": "Returned mail: %(reason)s",
                      "values": {"reason": "Moved, left no address", "code": "MLNA"}},
            "observed_on": (AS_OF - timedelta(days=3)).isoformat(),
        },
    }
    assert rows["T3"].top_reason_words == {
        "template": "model: no purchase for %(since)s", "values": {"since": 20, "unit": "week"}
    }


def test_the_list_refuses_a_risk_outside_zero_to_one(session: Session) -> None:
    with pytest.raises(ValueError, match="min_risk"):
        list(retention_list(session, min_risk=1.5, today=date(2026, 1, 1)))


# --- keyset pages -----------------------------------------------------------------------------------


def _numbers(page: RetentionPage) -> list[str]:
    return [row.customer_no for row in page.items]


def test_pages_follow_the_list_forwards_and_back_ties_broken_by_id(session: Session) -> None:
    _scored(session, "P1", 0.9, cents=[10_000], days_ago=[30])  # 90.00
    _scored(session, "P2", 0.8, cents=[5_000], days_ago=[30])  # 40.00
    _scored(session, "P3", 0.8, cents=[5_000], days_ago=[30])  # 40.00, a later id: first of the two
    _scored(session, "P4", 0.75, cents=[4_000], days_ago=[30])  # 30.00
    _scored(session, "P5", 0.99, cents=[], days_ago=[])  # 0
    _scored(session, "P6", 0.72, cents=[], days_ago=[])  # 0, a later id
    _scored(session, "P7", 0.5, cents=[90_000], days_ago=[30])  # under the line
    filters = RetentionFilters(min_risk=0.7)
    everyone = [row.customer_no for row in retention_list(session, min_risk=0.7, today=TODAY)]

    first = retention_page(session, filters=filters, size=2, today=TODAY)
    second = retention_page(session, filters=filters, after=RetentionCursor.parse(first.next_after), size=2)
    third = retention_page(session, filters=filters, after=RetentionCursor.parse(second.next_after), size=2)
    back = retention_page(session, filters=filters, before=RetentionCursor.parse(third.previous_before), size=2)
    home = retention_page(session, filters=filters, before=RetentionCursor.parse(back.previous_before), size=2)

    assert everyone == ["P1", "P3", "P2", "P4", "P6", "P5"]
    assert [_numbers(page) for page in (first, second, third)] == [["P1", "P3"], ["P2", "P4"], ["P6", "P5"]]
    assert first.previous_before is None and third.next_after is None
    assert first.next_after is not None and RetentionCursor.parse(first.next_after) == first.items[-1].cursor
    assert _numbers(back) == ["P2", "P4"] and back.next_after == second.next_after
    assert _numbers(home) == ["P1", "P3"] and home.previous_before is None and home.next_after == first.next_after


def test_a_page_past_the_end_is_empty_and_filters_apply_to_pages(session: Session) -> None:
    _scored(session, "Q1", 0.9, cents=[10_000], days_ago=[30])
    _scored(session, "Q2", 0.9, cents=[9_000], days_ago=[30], status=CustomerStatus.DO_NOT_MAIL)
    _scored(session, "Q3", 0.6, cents=[8_000], days_ago=[30])

    assert _numbers(retention_page(session, filters=RetentionFilters(min_risk=0.5))) == ["Q1", "Q2", "Q3"]
    assert _numbers(retention_page(session, filters=RetentionFilters(min_risk=0.7))) == ["Q1", "Q2"]
    mailable = retention_page(session, filters=RetentionFilters(min_risk=0.5, include_do_not_mail=False))
    assert _numbers(mailable) == ["Q1", "Q3"]
    past = retention_page(session, filters=RetentionFilters(min_risk=0.5), after=RetentionCursor(0, 1))
    assert past == RetentionPage([], None, None)


@pytest.mark.parametrize("text", ["", None, "12", "12-", "-3", "a-b", "1-2-3", "1.5-2", "9" * 19 + "-1"])
def test_a_cursor_that_is_not_one_is_ignored(text: str | None) -> None:
    assert RetentionCursor.parse(text) is None


def test_a_cursor_is_written_as_value_and_id() -> None:
    cursor = RetentionCursor(value_at_risk_cents=12_345, customer_id=678)
    assert str(cursor) == "12345-678"
    assert RetentionCursor.parse(str(cursor)) == cursor


# --- export -----------------------------------------------------------------------------------------


def test_an_export_is_audited_before_any_row_is_read_and_holds_the_list(session: Session) -> None:
    _scored(session, "E1", 0.9, cents=[10_000], days_ago=[30])
    _scored(session, "E2", 0.8, cents=[20_000, 500], days_ago=[60, 60])
    _scored(session, "E3", 0.9, cents=[1_000], days_ago=[30], status=CustomerStatus.DO_NOT_MAIL)
    _scored(session, "E4", 0.3, cents=[1_000], days_ago=[30])

    export = export_retention_csv(
        session, filters=RetentionFilters(min_risk=0.7, include_do_not_mail=False), actor="marketing@example.com",
        file_name="retention.csv", today=TODAY,
    )

    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.export")).one()
    assert (entry.actor, entry.object_type) == ("marketing@example.com", "retention_list")
    assert entry.detail == {
        "rows": 2, "min_risk": 0.7, "limit": None, "include_do_not_mail": False, "file": "retention.csv",
        "columns": list(RETENTION_COLUMNS),
    }
    rows = list(csv.DictReader(io.StringIO("".join(export.chunks).removeprefix("\ufeff"))))
    assert export.rows == 2
    contact = {"phone": "(217) 555-0100", "email": "john.smith@example.com", "line2": "Apt 4",
               "city": "Springfield", "region": "IL", "postal_code": "62704", "country": "US"}
    assert rows == [
        {"customer_no": "E2", "name": "John Smith", **contact, "line1": "E2 Main St", "recency_days": "60",
         "frequency": "1", "monetary": "205.00", "churn_risk": "0.800000", "churn_horizon_days": "",
         "expected_spend": "205.00", "value_at_risk": "164.00", "currency": "", "top_reason": "",
         "address_validity": "deliverable", "status": "active"},
        {"customer_no": "E1", "name": "John Smith", **contact, "line1": "E1 Main St", "recency_days": "30",
         "frequency": "1", "monetary": "100.00", "churn_risk": "0.900000", "churn_horizon_days": "",
         "expected_spend": "100.00", "value_at_risk": "90.00", "currency": "", "top_reason": "",
         "address_validity": "deliverable", "status": "active"},
    ]
    assert list(rows[0]) == list(RETENTION_COLUMNS)


def test_an_export_keeps_a_spreadsheet_from_running_what_customers_typed(session: Session) -> None:
    customer = _scored(session, "+1", 0.9, cents=[10_000], days_ago=[30])
    customer.name = '=HYPERLINK("http://evil.example","Click")'
    session.flush()

    text = "".join(export_retention_csv(session, filters=RetentionFilters(), actor="t", file_name="r.csv").chunks)

    row = next(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert (row["customer_no"], row["name"]) == ("'+1", "'=HYPERLINK(\"http://evil.example\",\"Click\")")
    # Numbers stay numbers a spreadsheet can sum.
    assert (row["monetary"], row["churn_risk"], row["frequency"]) == ("100.00", "0.900000", "1")
    assert ',100.00,0.900000,' in text


def test_an_export_of_a_long_list_comes_in_pieces_and_a_limit_counts(session: Session) -> None:
    for number in range(2_500):
        add_customer(session, f"L{number:04d}", line1=f"{number} Long Road", churn_risk=0.8)
    session.execute(
        update(Customer).values(churn_last_ordered_on=AS_OF, churn_purchase_days=1, churn_spent_cents=1_000,
                                churn_value_at_risk_cents=800)
    )

    export = export_retention_csv(session, filters=RetentionFilters(), actor="t", file_name="all.csv")
    chunks = list(export.chunks)
    limited = export_retention_csv(session, filters=RetentionFilters(), actor="t", file_name="top.csv", limit=10)

    assert export.rows == 2_500 and len(chunks) == 3
    assert "".join(chunks).count("\n") == 2_501
    assert limited.rows == 10 and "".join(limited.chunks).count("\n") == 11


def test_a_page_walks_the_spend_at_stake_index_on_sqlite(session: Session) -> None:
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        pytest.skip("the planner hint is SQLite's")
    _scored(session, "I1", 0.9, cents=[10_000], days_ago=[30])
    statements: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", remember)
    try:
        retention_page(session, filters=RetentionFilters(), after=RetentionCursor(10**9, 1))
    finally:
        event.remove(connection, "before_cursor_execute", remember)

    statement, parameters = statements[0]
    plan = " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert "USING INDEX ix_customers_churn_value_at_risk" in plan and "TEMP B-TREE" not in plan


def test_the_export_leaves_contact_cells_empty_where_the_customer_gave_none(session: Session) -> None:
    customer = _scored(session, "N1", 0.9, cents=[10_000], days_ago=[30])
    customer.phone = customer.email = None
    session.flush()

    text = "".join(export_retention_csv(session, filters=RetentionFilters(), actor="t", file_name="r.csv").chunks)

    row = next(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert (row["phone"], row["email"], row["line1"], row["postal_code"]) == ("", "", "N1 Main St", "62704")
