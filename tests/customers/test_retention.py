"""The retention limit: customers with no order and no mail for N years are erased, after a dry run."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.batches.selection import BatchFilters, create_batch
from mailer.customers.models import Customer
from mailer.customers.retention import RetentionError, apply_retention
from mailer.orders.models import Order
from tests.factories import US_ROW, add_customer

TODAY = date(2026, 12, 6)
LONG_AGO = datetime(2019, 1, 10, tzinfo=UTC)


def _old(session: Session, number: str, **fields: str) -> Customer:
    customer = add_customer(session, number, base=US_ROW, **fields)
    customer.created_at = LONG_AGO
    session.flush()
    return customer


def _population(session: Session) -> None:
    _old(session, "GONE", line1="1 Quiet Road")
    old_buyer = _old(session, "OLD-BUYER", line1="3 Quiet Road")
    session.add(Order(customer_id=old_buyer.id, ordered_on=date(2019, 2, 1), amount_cents=1000))
    recent_buyer = _old(session, "BUYER", line1="5 Quiet Road")
    session.add(Order(customer_id=recent_buyer.id, ordered_on=date(2025, 5, 1), amount_cents=1000))
    _old(session, "MAILED", line1="7 Quiet Road", city="Chicago", postal_code="60601")
    add_customer(session, "NEW", base=US_ROW, line1="9 Quiet Road")
    session.flush()


def test_a_dry_run_names_who_the_limit_reaches_and_changes_nothing(session: Session) -> None:
    _population(session)
    # MAILED got a catalog lately: kept, though it never ordered.
    batch = create_batch(session, campaign_name="Spring", profile="us-10",
                         filters=BatchFilters(postal_prefixes=("606",)), actor="t")
    assert batch.piece_count == 1

    report = apply_retention(session, years=3, actor="t", today=TODAY, dry_run=True)

    assert report.cutoff == date(2023, 12, 6)
    assert report.customer_nos == ["GONE", "OLD-BUYER"] and report.count == 2
    assert session.scalar(select(Customer.erased_at).where(Customer.customer_no == "GONE")) is None


def test_applying_the_limit_erases_them_and_keeps_their_orders(session: Session) -> None:
    _population(session)
    old_buyer_id = session.scalar(select(Customer.id).where(Customer.customer_no == "OLD-BUYER"))

    report = apply_retention(session, years=3, actor="t", today=TODAY, dry_run=False)

    assert report.count == 3  # GONE, OLD-BUYER and MAILED (never mailed here)
    numbers = set(session.scalars(select(Customer.customer_no)))
    assert {"BUYER", "NEW"} <= numbers and not numbers & {"GONE", "OLD-BUYER", "MAILED"}
    assert session.scalars(select(Order.amount_cents).where(Order.customer_id == old_buyer_id)).all() == [1000]


def test_a_limit_below_a_year_is_refused(session: Session) -> None:
    with pytest.raises(RetentionError):
        apply_retention(session, years=0, actor="t", today=TODAY, dry_run=True)


def test_the_command_needs_a_limit_and_runs_dry_first(session: Session, runner: FlaskCliRunner) -> None:
    _population(session)
    session.commit()
    unset = runner.invoke(args=["customers", "retention", "--dry-run"])
    assert unset.exit_code == 2 and "PRIVACY_RETENTION_YEARS" in unset.stderr

    dry = runner.invoke(args=["customers", "retention", "--years", "3", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["count"] >= 3
    assert session.scalar(select(Customer.erased_at).where(Customer.customer_no == "GONE")) is None
