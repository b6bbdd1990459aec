"""The postal returns file: good rows applied, bad rows rejected with reasons, re-imports change nothing."""

from __future__ import annotations

import csv
import gc
import json
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEvent, AddressValidity, ChangeSource
from mailer.audit.models import AuditEntry
from mailer.customers.models import Customer
from returns.importing import RETURN_COLUMNS, import_returns
from returns.models import MailReturn, ReturnSource
from tests.factories import fix_rows, read_csv, write_csv
from tests.returns.conftest import address_of, current_address, customer, history, mail_customers


def _typo(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def _state(session: Session) -> tuple[object, ...]:
    """Everything an import may change, to compare before and after a re-import."""
    return (
        session.execute(select(MailReturn.id, MailReturn.reason, MailReturn.is_current).order_by(MailReturn.id)).all(),
        session.execute(select(Address.id, Address.validity, Address.is_current).order_by(Address.id)).all(),
        session.scalar(select(func.count()).select_from(AddressEvent)),
        session.execute(select(Customer.id, Customer.status, Customer.churn_risk).order_by(Customer.id)).all(),
    )


def write_returns(tmp_path: Path, rows: list[dict[str, str]], name: str = "returns.csv") -> Path:
    return write_csv(tmp_path / name, rows, RETURN_COLUMNS)


def test_good_rows_are_applied_and_bad_rows_rejected_with_their_row_and_reason(
    session: Session, tmp_path: Path
) -> None:
    pieces = mail_customers(session, "C1", "C2", "C3", "C4")
    code = {number: piece.piece_code for number, piece in pieces.items()}
    moved_to = {"new_line1": "500 Elm Avenue", "new_city": "Chicago", "new_region": "IL",
                "new_postal_code": "60601", "new_country": "US"}
    path = write_returns(tmp_path, [
        {"piece_code": code["C1"], "reason": "V", "returned_at": "2026-11-02"},                 # row 2
        {"piece_code": _typo(code["C2"]), "reason": "VAC", "returned_at": "2026-11-02"},        # row 3
        {"piece_code": code["C2"], "reason": "lost", "returned_at": "2026-11-02"},              # row 4
        {"piece_code": code["C2"], "reason": "VAC", "returned_at": "2 Nov"},                    # row 5
        {"piece_code": code["C3"], "reason": "MOVED", "returned_at": "2026-11-03T08:15:00+08:00", **moved_to},
        {"piece_code": code["C4"], "reason": "MOVED", "returned_at": "2026-11-03",              # row 7
         **{**moved_to, "new_city": ""}},
        {"piece_code": "0000-0000", "reason": "VAC", "returned_at": "2026-11-02"},              # row 8
        {"piece_code": code["C1"], "reason": "VAC", "returned_at": "2026-11-02"},               # row 9
        {"piece_code": code["C2"], "reason": "", "returned_at": "2026-11-02"},                  # row 10
        {"piece_code": code["C4"], "reason": "逾期无人领取", "returned_at": "2026-11-04"},         # row 11
    ])

    report = import_returns(session, path=path, actor="postal")

    assert (report.total, report.created, report.updated, report.unchanged) == (10, 3, 0, 1)
    assert report.exit_code == 1
    rejected = {r.row: r.reason for r in report.rejected}
    assert sorted(rejected) == [3, 4, 5, 7, 8, 10]
    assert "fails its check character" in rejected[3]
    assert rejected[4].startswith("Unknown return reason 'lost'")
    assert "not a date" in rejected[5]
    assert rejected[7] == "the new address is not usable: missing new_city"
    assert "No piece with code 0000-0000" in rejected[8]
    assert rejected[10] == "missing reason"
    rejects = read_csv(tmp_path / "returns.rejects.csv")
    assert [row["rejected_row"] for row in rejects] == ["3", "4", "5", "7", "8", "10"]
    assert rejects[0]["piece_code"] == _typo(code["C2"])

    assert address_of(session, pieces["C1"]).validity is AddressValidity.UNDELIVERABLE
    assert current_address(session, "C3").line1 == "500 Elm Avenue"
    assert address_of(session, pieces["C4"]).validity is AddressValidity.SUSPECT
    assert {e.source for e in history(session, "C3")} == {ChangeSource.POSTAL_FILE}
    row = session.scalar(select(MailReturn).where(MailReturn.piece_id == pieces["C3"].id))
    assert row is not None and row.source is ReturnSource.POSTAL_FILE
    assert row.returned_at.isoformat() == "2026-11-03T00:15:00+00:00"
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "returns.import"))
    assert audit is not None and audit.detail["created"] == 3


def test_importing_the_same_file_again_changes_nothing(session: Session, tmp_path: Path) -> None:
    pieces = mail_customers(session, "C1", "C2", "C3")
    code = {number: piece.piece_code for number, piece in pieces.items()}
    path = write_returns(tmp_path, [
        {"piece_code": code["C1"], "reason": "UNC", "returned_at": "2026-10-01"},
        {"piece_code": code["C2"], "reason": "DEC", "returned_at": "2026-10-02"},
        # The same piece twice with two reasons: the second corrects the first.
        {"piece_code": code["C3"], "reason": "ANK", "returned_at": "2026-10-03"},
        {"piece_code": code["C3"], "reason": "IA", "returned_at": "2026-10-04"},
        {"piece_code": "nonsense", "reason": "VAC", "returned_at": "2026-10-05"},
    ])
    first = import_returns(session, path=path, actor="postal")
    before = _state(session)

    second = import_returns(session, path=path, actor="postal")

    assert (first.created, first.updated, first.unchanged, len(first.rejected)) == (3, 1, 0, 1)
    assert (second.created, second.updated, second.unchanged, len(second.rejected)) == (0, 0, 4, 1)
    assert _state(session) == before
    assert customer(session, "C2").churn_risk == 1.0


def test_the_cycle_collector_runs_again_after_an_import_even_a_failed_one(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = mail_customers(session, "C1")
    path = write_returns(
        tmp_path, [{"piece_code": pieces["C1"].piece_code, "reason": "UNC", "returned_at": "2026-10-01"}]
    )
    seen_during: list[bool] = []

    def failing(*args: object, **kwargs: object) -> None:
        seen_during.append(gc.isenabled())
        raise RuntimeError("database gone")

    import_returns(session, path=path, actor="postal")
    assert gc.isenabled()
    monkeypatch.setattr("returns.importing.apply_returns", failing)
    with pytest.raises(RuntimeError):
        import_returns(session, path=path, actor="postal")

    assert seen_during == [False]
    assert gc.isenabled()


def test_the_command_exits_0_1_or_2(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    pieces = mail_customers(session, "C1", "C2")
    session.commit()
    good = write_returns(tmp_path, [
        {"piece_code": pieces["C1"].piece_code, "reason": "VAC", "returned_at": "2026-11-02"},
    ], "good.csv")
    mixed = write_returns(tmp_path, [
        {"piece_code": pieces["C2"].piece_code, "reason": "VAC", "returned_at": "2026-11-02"},
        {"piece_code": pieces["C2"].piece_code, "reason": "?", "returned_at": "2026-11-02"},
    ], "mixed.csv")
    unusable = tmp_path / "unusable.csv"
    unusable.write_text("piece_code,reason\nX,VAC\n", encoding="utf-8")

    results = [runner.invoke(args=["returns", "import", str(p), "--json"]) for p in (good, mixed, unusable)]

    assert [r.exit_code for r in results] == [0, 1, 2]
    assert json.loads(results[0].stdout)["created"] == 1
    assert json.loads(results[1].stdout)["rejected"] == 1
    assert "lacks column(s) returned_at" in results[2].stderr
    assert session.scalar(select(func.count()).select_from(MailReturn)) == 2


def test_the_soft_return_window_comes_from_the_app_config(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    first = mail_customers(session, "C1")["C1"]
    second = mail_customers(session, "C1", campaign="Summer 2027")["C1"]
    session.commit()
    runner.app.config["SOFT_RETURN_WINDOW_DAYS"] = 10
    path = write_returns(tmp_path, [
        {"piece_code": first.piece_code, "reason": "UNC", "returned_at": "2026-10-01"},
        {"piece_code": second.piece_code, "reason": "UNC", "returned_at": "2026-10-20"},
    ])

    assert runner.invoke(args=["returns", "import", str(path)]).exit_code == 0

    assert address_of(session, first).validity is AddressValidity.SUSPECT


def test_rows_dated_before_the_mailing_or_beyond_storing_are_rejected_with_their_row(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    pieces = mail_customers(session, "C1", "C2", "C3")
    session.commit()
    path = write_returns(tmp_path, [
        {"piece_code": pieces["C1"].piece_code, "reason": "UNC", "returned_at": "0001-01-01T00:00:00+05:00"},  # row 2
        {"piece_code": pieces["C2"].piece_code, "reason": "ANK", "returned_at": "1900-01-01"},                 # row 3
        {"piece_code": pieces["C3"].piece_code, "reason": "VAC", "returned_at": "2026-11-02"},                 # row 4
    ])

    result = runner.invoke(args=["returns", "import", str(path), "--json"])

    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["created"] == 1
    # The file's own reason column follows the rejection's: read them by position.
    with path.with_suffix(".rejects.csv").open(encoding="utf-8", newline="") as handle:
        rejected = {int(row): why for row, why, *_ in list(csv.reader(handle))[1:]}
    assert sorted(rejected) == [2, 3]
    assert "0001-01-01T00:00:00+05:00" in rejected[2] and "cannot be stored" in rejected[2]
    assert "cannot have come back on 1900-01-01" in rejected[3]
    assert address_of(session, pieces["C2"]).validity is AddressValidity.DELIVERABLE


def test_a_fixed_rejects_file_is_imported_again_as_it_is(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    pieces = mail_customers(session, "C1", "C2")
    path = write_returns(tmp_path, [
        {"piece_code": pieces["C1"].piece_code, "reason": "VAC", "returned_at": "2026-11-02"},
        {"piece_code": pieces["C2"].piece_code, "reason": "lost", "returned_at": "2026-11-02"},
    ])

    first = runner.invoke(args=["returns", "import", str(path)])
    rejects = tmp_path / "returns.rejects.csv"
    (rejected,) = read_csv(rejects)
    fixed = runner.invoke(args=["returns", "import", str(fix_rows(rejects, reason="VAC"))])

    assert first.exit_code == 1
    # The return's own reason column and the rejection's reason are two columns, each named once.
    assert (rejected["rejected_row"], rejected["reason"]) == ("3", "lost")
    assert "unknown" in rejected["rejected_reason"].lower()
    assert fixed.exit_code == 0, fixed.output
    assert address_of(session, pieces["C2"]).validity is AddressValidity.UNDELIVERABLE
