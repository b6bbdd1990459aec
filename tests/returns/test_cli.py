"""Staff commands: logging a return by hand, clearing a wrong flag, confirming an address."""

from __future__ import annotations

import json

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.addresses.models import AddressValidity, ChangeSource
from returns.models import MailReturn, ReturnSource
from tests.returns.conftest import address_of, history, mail_customers


def test_log_clear_and_confirm(runner: FlaskCliRunner, session: Session) -> None:
    piece = mail_customers(session, "C1")["C1"]
    session.commit()

    logged = runner.invoke(args=["returns", "log", piece.piece_code, "ANK", "--json", "--note", "by hand"])
    cleared = runner.invoke(args=["returns", "clear", "C1", "--note", "the carrier was new"])
    confirmed = runner.invoke(args=["returns", "confirm", "C1", "--via", "customer"])

    assert logged.exit_code == 0, logged.output
    body = json.loads(logged.stdout)
    assert body["status"] == "recorded" and body["address"]["validity"] == "undeliverable"
    assert cleared.exit_code == 0 and cleared.stdout.strip() == "C1: address undeliverable → deliverable"
    assert confirmed.exit_code == 0 and confirmed.stdout.strip() == "C1: address deliverable → deliverable"
    assert address_of(session, piece).validity is AddressValidity.DELIVERABLE
    sources = [e.source for e in history(session, "C1")]
    assert sources == [ChangeSource.RETURN_SCAN, ChangeSource.STAFF, ChangeSource.CUSTOMER]
    assert history(session, "C1")[0].actor.startswith("cli:")
    row = session.scalar(select(MailReturn))
    assert row is not None and row.source is ReturnSource.STAFF and row.note == "by hand"


def test_log_keeps_the_address_when_asked_and_refuses_bad_input(runner: FlaskCliRunner, session: Session) -> None:
    piece = mail_customers(session, "C1")["C1"]
    session.commit()

    kept = runner.invoke(args=["returns", "log", piece.piece_code, "VAC", "--keep-address"])
    unknown = runner.invoke(args=["returns", "log", piece.piece_code, "nope"])
    no_flag = runner.invoke(args=["returns", "clear", "C1", "--note", "x"])
    nobody = runner.invoke(args=["returns", "clear", "C9", "--note", "x"])

    assert kept.exit_code == 0 and "left alone: logged without changing the address" in kept.stdout
    assert address_of(session, piece).validity is AddressValidity.DELIVERABLE
    assert unknown.exit_code == 1 and "Unknown return reason 'nope'" in unknown.stderr
    assert no_flag.exit_code == 1 and "not flagged" in no_flag.stderr
    assert nobody.exit_code == 1 and "no customer C9" in nobody.stderr


def test_reasons_lists_the_catalog(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["returns", "reasons"])

    assert result.exit_code == 0 and "拒收" in result.stdout and result.stdout.count("\n") == 13


def test_log_refuses_a_date_that_cannot_be_stored_or_precedes_the_mailing(
    runner: FlaskCliRunner, session: Session
) -> None:
    piece = mail_customers(session, "C1")["C1"]
    session.commit()

    unstorable = runner.invoke(
        args=["returns", "log", piece.piece_code, "UNC", "--returned-at", "0001-01-01T00:00:00+05:00"]
    )
    too_early = runner.invoke(args=["returns", "log", piece.piece_code, "UNC", "--returned-at", "1900-01-01"])

    assert unstorable.exit_code == 1 and "0001-01-01T00:00:00+05:00" in unstorable.stderr
    assert "cannot be stored" in unstorable.stderr
    assert too_early.exit_code == 1 and "cannot have come back on 1900-01-01" in too_early.stderr
    assert session.scalar(select(MailReturn)) is None
    assert address_of(session, piece).validity is AddressValidity.DELIVERABLE
