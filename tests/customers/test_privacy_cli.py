"""``customers export`` and ``customers erase`` on the command line: output, refusals, exit codes, audit."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.customers.models import Customer, ErasedNumber
from tests.conftest import file_mode
from tests.factories import US_ROW, add_customer, customer_row, write_csv


def test_export_prints_everything_held_and_is_audited(session: Session, runner: FlaskCliRunner) -> None:
    add_customer(session, "C1", base=US_ROW, order_cents=[1250])

    result = runner.invoke(args=["customers", "export", "C1"])

    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["profile"]["name"] == "John Smith" and record["addresses"][0]["line1"] == "12 Oak Street"
    assert record["orders"][0]["amount"] == "12.50"
    (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.export"))
    assert entry.object_id == "C1" and entry.actor.startswith("cli:")


def test_export_to_a_file_is_private(session: Session, runner: FlaskCliRunner, tmp_path: Path,
                                     open_umask: None) -> None:
    add_customer(session, "C1")
    out = tmp_path / "c1.json"
    result = runner.invoke(args=["customers", "export", "C1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["customer_no"] == "C1" and file_mode(out) == 0o600


def test_unknown_customers_are_refused(session: Session, runner: FlaskCliRunner) -> None:
    for command in (["export", "NOPE"], ["erase", "NOPE", "--yes"]):
        result = runner.invoke(args=["customers", *command])
        assert result.exit_code == 1 and "error: no customer NOPE" in result.stderr


def test_erase_needs_yes_and_names_the_likely_duplicates(session: Session, runner: FlaskCliRunner) -> None:
    add_customer(session, "C1")
    add_customer(session, "C2", line1="9 Elm Street", name="Jon Smyth")  # same email and phone
    session.commit()  # the refused command rolls its own work back, not the customers

    refused = runner.invoke(args=["customers", "erase", "C1"])
    assert refused.exit_code == 2 and "run again with --yes" in refused.stderr
    assert "likely the same person: C2 (same email)" in refused.stderr
    assert session.scalar(select(Customer.erased_at).where(Customer.customer_no == "C1")) is None

    done = runner.invoke(args=["customers", "erase", "C1", "--yes", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["pseudonym"].startswith("ERASED-") and report["likely_duplicates"] == [
        {"customer_no": "C2", "why": "same email"}]
    assert session.scalar(select(Customer.customer_no).where(Customer.customer_no == "C1")) is None
    again = runner.invoke(args=["customers", "erase", report["pseudonym"], "--yes"])
    assert again.exit_code == 1 and "already erased" in again.stderr


def test_an_erased_customer_is_never_imported_again(session: Session, runner: FlaskCliRunner, tmp_path: Path) -> None:
    add_customer(session, "C1")
    session.commit()
    assert runner.invoke(args=["customers", "erase", "C1", "--yes"]).exit_code == 0
    rows = [customer_row(customer_no="C1"), customer_row(customer_no="C9", line1="9 Elm Street")]

    result = runner.invoke(args=["customers", "import", str(write_csv(tmp_path / "again.csv", rows))])

    assert result.exit_code == 1, result.output
    assert "row 2: customer C1 was erased on request and is not imported again" in result.stderr
    assert set(session.scalars(select(Customer.customer_no).where(Customer.erased_at.is_(None)))) == {"C9"}
    # The number is kept only as a hash, linked to nothing.
    assert "C1" not in str(session.execute(select(ErasedNumber.digest)).all())
