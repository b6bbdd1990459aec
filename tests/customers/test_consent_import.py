"""Consent stated in the customer file: recorded per channel with source "import", only when it changes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.customers.consent import consent_history, current_consents
from mailer.customers.importing import CONSENT_COLUMNS, CONSENT_WORDING_COLUMN, CUSTOMER_COLUMNS, import_customers
from mailer.customers.models import ConsentChannel, ConsentSource, Customer, CustomerStatus
from tests.factories import customer_row, write_csv

COLUMNS = (*CUSTOMER_COLUMNS, *CONSENT_COLUMNS, CONSENT_WORDING_COLUMN)


def _import(session: Session, path: Path, rows: list[dict[str, str]]) -> list[str]:
    report = import_customers(session, path=write_csv(path, rows, COLUMNS), actor="import@example.com")
    return [f"{r.row}: {r.reason}" for r in report.rejected]


def _customer(session: Session, number: str) -> Customer:
    found = session.scalar(select(Customer).where(Customer.customer_no == number))
    assert found is not None
    return found


def test_the_file_states_consent_per_channel_with_its_wording(session: Session, tmp_path: Path) -> None:
    rows = [
        customer_row(customer_no="C1", mail_consent="no", email_consent="yes", consent_wording="Newsletter: yes"),
        customer_row(customer_no="C2", line1="9 Elm Street"),
    ]
    assert _import(session, tmp_path / "c.csv", rows) == []

    first = _customer(session, "C1")
    consents = current_consents(session, customer_id=first.id)
    assert {channel: c.granted for channel, c in consents.items()} == {
        ConsentChannel.MAIL: False, ConsentChannel.EMAIL: True}
    assert {c.source for c in consents.values()} == {ConsentSource.IMPORT}
    assert consents[ConsentChannel.EMAIL].wording == "Newsletter: yes"
    assert first.status is CustomerStatus.DO_NOT_MAIL
    assert current_consents(session, customer_id=_customer(session, "C2").id) == {}

    # The same file again changes nothing; a changed answer is a new decision, the old one kept.
    assert _import(session, tmp_path / "again.csv", rows) == []
    assert len(consent_history(session, customer_id=first.id)) == 2
    rows[0]["mail_consent"] = "yes"
    _import(session, tmp_path / "changed.csv", rows)
    assert len(consent_history(session, customer_id=first.id)) == 3
    session.refresh(first)
    assert first.status is CustomerStatus.ACTIVE


def test_a_consent_that_is_not_yes_or_no_rejects_the_row(session: Session, tmp_path: Path) -> None:
    rejected = _import(session, tmp_path / "c.csv", [customer_row(customer_no="C1", phone_consent="maybe")])
    assert rejected == ["2: phone_consent must be yes, no or empty, not 'maybe'"]
    assert session.scalar(select(Customer).where(Customer.customer_no == "C1")) is None
