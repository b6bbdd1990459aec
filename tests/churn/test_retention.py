"""The retention list: who is on it, in which order, with which value and main reason."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressValidity
from mailer.churn.retention import RETENTION_COLUMNS, retention_list, top_reason
from mailer.churn.service import refresh_churn
from mailer.customers.models import Customer, CustomerStatus
from tests.churn.stored import AS_OF, add_orders, add_population, regular_buyer, return_mail
from tests.factories import add_customer

TODAY = AS_OF + timedelta(days=1)


def _scored(session: Session, customer_no: str, risk: float, *, cents: list[int], days_ago: list[int],
            status: CustomerStatus = CustomerStatus.ACTIVE,
            validity: AddressValidity = AddressValidity.DELIVERABLE) -> Customer:
    customer = add_customer(session, customer_no, status=status, validity=validity, line1=f"{customer_no} Main St")
    for amount, ago in zip(cents, days_ago, strict=True):
        add_orders(session, customer, [TODAY - timedelta(days=ago)], cents=amount)
    session.execute(update(Customer).where(Customer.id == customer.id).values(churn_risk=risk))
    return customer


def test_the_list_holds_the_risky_customers_most_spend_at_stake_first(session: Session) -> None:
    _scored(session, "K1", 0.80, cents=[10_000], days_ago=[100])  # 80.00 at stake
    _scored(session, "K2", 0.95, cents=[5_000, 2_000, 1_000], days_ago=[300, 200, 200])  # 76.00
    _scored(session, "K3", 0.70, cents=[20_000], days_ago=[400])  # 140.00
    _scored(session, "K4", 0.69, cents=[90_000], days_ago=[500])  # under the line
    _scored(session, "K5", 0.99, cents=[], days_ago=[])  # nothing spent: last
    add_customer(session, "K6", line1="6 Main St")  # not scored yet

    rows = list(retention_list(session, min_risk=0.7, today=TODAY))

    assert [row.customer_no for row in rows] == ["K3", "K1", "K2", "K5"]
    k2 = rows[2]
    assert (k2.recency_days, k2.frequency, k2.monetary) == (200, 2, Decimal("80.00"))
    assert k2.value_at_risk == Decimal("76.0000")
    assert k2.address_validity is AddressValidity.DELIVERABLE
    k5 = rows[3]
    assert (k5.recency_days, k5.frequency, k5.monetary) == (None, 0, Decimal("0"))
    assert [row.customer_no for row in retention_list(session, min_risk=0.7, limit=2, today=TODAY)] == ["K3", "K1"]
    assert [row.customer_no for row in retention_list(session, min_risk=0.96, today=TODAY)] == ["K5"]


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


def _line(kind: str, risk_after: float, **extra: object) -> dict[str, object]:
    return {"kind": kind, "text": f"{kind} line", "risk_after": risk_after, "observed_on": None,
            "odds_factor": None, "label": None, **extra}


@pytest.mark.parametrize(
    ("lines", "recency_days", "expected"),
    [
        # The evidence says more than the base: a 30% base is below even odds.
        (
            [_line("model", 0.3), _line("evidence", 0.6, odds_factor=3.5, label="Returned mail: Refused",
                                         observed_on="2026-05-01"), _line("result", 0.6)],
            80, "Returned mail: Refused (2026-05-01)",
        ),
        # The base dominates: 95% is log-odds 2.94, more than log 1.4.
        (
            [_line("model", 0.95), _line("evidence", 0.96, odds_factor=1.4, label="Returned mail: Unclaimed",
                                          observed_on="2026-05-01"), _line("result", 0.96)],
            230, "model: no purchase for 32 weeks",
        ),
        # The largest raise wins; a lowering never does.
        (
            [_line("model", 0.4),
             _line("evidence", 0.5, odds_factor=1.5, label="Returned mail: Vacant", observed_on="2026-01-01"),
             _line("evidence", 0.8, odds_factor=4.0, label="Returned mail: Moved", observed_on="2026-02-01"),
             _line("evidence", 0.5, odds_factor=0.25, label="Customer updated their own address",
                   observed_on="2026-03-01"),
             _line("result", 0.5)],
            10, "Returned mail: Moved (2026-02-01)",
        ),
        ([_line("model", 0.99), _line("terminal", 1.0, label="Returned mail: Deceased", observed_on="2026-04-04"),
          _line("result", 1.0)], 7, "Returned mail: Deceased (2026-04-04)"),
        ([_line("prior", 0.5), _line("result", 0.5)], None, "prior: no orders on record"),
        ([_line("prior", 0.5), _line("result", 0.5)], 40, "prior: too little purchase history"),
        ([_line("model", 0.8), _line("result", 0.8)], 7, "model: no purchase for 1 week"),
        # Explanations stored before lines carried a label: the words before the dash.
        ([_line("model", 0.1), {"kind": "evidence", "text": "2026-05-02: Returned mail (NSN) — raises churn risk",
                                "risk_after": 0.3, "observed_on": "2026-05-02", "odds_factor": 1.5}],
         3, "2026-05-02: Returned mail (NSN)"),
        (None, 3, ""),
    ],
)
def test_top_reason(lines: list[dict[str, object]] | None, recency_days: int | None, expected: str) -> None:
    assert top_reason(lines, recency_days=recency_days) == expected


def test_the_list_refuses_a_risk_outside_zero_to_one(session: Session) -> None:
    with pytest.raises(ValueError, match="min_risk"):
        list(retention_list(session, min_risk=1.5, today=date(2026, 1, 1)))
