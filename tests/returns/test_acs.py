"""USPS ACS fulfillment files: both layouts, every record type and deliverability code, bad records, moves."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEvent, AddressValidity, ChangeSource
from mailer.batches.models import MailPiece
from mailer.customers.models import CustomerStatus
from mailer.imports import ImportReport
from returns.acs import (
    COA_CODES,
    DETAIL_FIELDS,
    HEADER_FIELDS,
    NIXIE_CODES,
    RECORD_LENGTH,
    AcsHeader,
    AcsLayout,
    UnusableAcsFile,
    detect_layout,
    format_fixed,
    parse_header,
    parse_notice,
    read_records,
)
from returns.acs_importing import acs_reason
from returns.catalog import REASONS
from returns.importing import import_returns
from returns.models import MailReturn
from tests.factories import US_ROW, add_customer, read_csv
from tests.returns.acs_files import detail, header, imb_digits, write_csv_layout, write_fixed
from tests.returns.conftest import current_address, customer, history, mail_batch, mail_customers

ALL_CODES = sorted({*COA_CODES, *NIXIE_CODES})
DATA = Path(__file__).with_name("data")


def _import(session: Session, path: Path) -> ImportReport:
    return import_returns(session, path=path, actor="test")


def _give_serials(pieces: dict[str, MailPiece], first: int = 1) -> dict[str, int]:
    serials = {}
    for offset, (number, piece) in enumerate(sorted(pieces.items())):
        piece.imb_mailer_id, piece.imb_serial = "123456", first + offset
        piece.imb_digits = imb_digits(first + offset)
        serials[number] = first + offset
    return serials


def _state(session: Session) -> tuple[object, ...]:
    return (
        session.execute(select(MailReturn.id, MailReturn.reason, MailReturn.is_current).order_by(MailReturn.id)).all(),
        session.execute(select(Address.id, Address.validity, Address.is_current).order_by(Address.id)).all(),
        session.scalar(select(func.count()).select_from(AddressEvent)),
    )


# --- the layout tables ------------------------------------------------------------------------


def test_fields_sit_where_the_guide_puts_them() -> None:
    detail_at = {f.name: (f.start, f.end) for f in DETAIL_FIELDS}
    assert detail_at["record_type"] == (1, 1)
    assert detail_at["sequence_number"] == (4, 11)
    assert detail_at["acs_mailer_id"] == (12, 20)
    assert detail_at["keyline_serial"] == (21, 36)
    assert detail_at["move_effective_date"] == (37, 44)
    assert detail_at["move_type"] == (45, 45)
    assert detail_at["deliverability_code"] == (46, 46)
    assert detail_at["last_name"] == (50, 69)
    assert detail_at["old_zip"] == (216, 220)
    assert detail_at["new_street_name"] == (270, 297)
    assert detail_at["new_zip"] == (348, 352)
    assert detail_at["new_plus4"] == (354, 357)
    assert detail_at["intelligent_mail_barcode"] == (441, 471)
    assert detail_at["fulfillment_date"] == (525, 532)
    assert detail_at["end_marker"] == (700, 700)
    header_at = {f.name: (f.start, f.end) for f in HEADER_FIELDS}
    assert header_at["create_date"] == (10, 17)
    assert header_at["total_acs_record_count"] == (28, 36)
    assert header_at["end_marker"] == (700, 700)


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_deliverability_code_has_a_reason(code: str) -> None:
    reason = acs_reason(code)
    assert reason is REASONS["MOVED"] if code == " " else code in reason.usps_codes


def test_the_literal_file_reads_as_typed() -> None:
    # Laid out by hand after the guide's table, field by field (tests/returns/data/README.md).
    path = DATA / "acs-fixed-literal.txt"
    lines = path.read_text(encoding="ascii").splitlines()
    assert [len(line) for line in lines] == [RECORD_LENGTH] * 4
    assert detect_layout(path) is AcsLayout.FIXED
    coa = lines[1]
    assert coa[20:36].strip() == "000000042"  # keyline / serial, 21-36
    assert coa[36:44] == "20261101" and coa[44] == "F" and coa[45] == " "
    assert coa[440:471] == "00270123456000000042627041234  "  # IMb, 441-471 (29 digits, padded)
    nixie = lines[2]
    assert nixie[45] == "V" and nixie[440:460] == "00270123456000000043"
    # The layout tables read the typed file back to what was typed.
    records = list(read_records(path, AcsLayout.FIXED))
    assert [r.problem for r in records] == [None] * 4
    assert parse_header(records[0].values) == AcsHeader(created_on=date(2026, 11, 16), notice_count=3)
    family = parse_notice(records[1].values, file_created_on=None)
    assert (family.mailer_id, family.serial, family.move_type, family.move_effective_on, family.last_name) == (
        "123456", 42, "F", date(2026, 11, 1), "SMITH",
    )
    assert family.new_address == {
        "new_line1": "500 N ELM AVE", "new_line2": "APT 7", "new_city": "CHICAGO", "new_region": "IL",
        "new_postal_code": "60601-1234", "new_country": "US",
    }
    vacant = parse_notice(records[2].values, file_created_on=None)
    assert (vacant.deliverability_code, vacant.serial, vacant.move_type, vacant.fulfilled_on) == (
        "V", 43, None, date(2026, 11, 15),
    )
    left = parse_notice(records[3].values, file_created_on=None)
    assert (left.deliverability_code, left.keyline, left.serial, left.new_address) == ("K", "U7K3M901", None, {})


# --- recognising and reading the files --------------------------------------------------------


def test_both_layouts_are_recognised(tmp_path: Path) -> None:
    details = [detail("V", serial=5)]
    assert detect_layout(write_fixed(tmp_path / "a.txt", details)) is AcsLayout.FIXED
    assert detect_layout(write_csv_layout(tmp_path / "a.csv", details)) is AcsLayout.CSV
    ours = tmp_path / "ours.csv"
    ours.write_text("piece_code,reason,returned_at\r\n", encoding="utf-8")
    assert detect_layout(ours) is None


@pytest.mark.parametrize("layout", ["fixed", "csv", "csv with titles"])
def test_every_code_is_recorded_as_its_reason(session: Session, tmp_path: Path, layout: str) -> None:
    numbers = [f"C{index + 1}" for index in range(len(ALL_CODES))]
    pieces = mail_customers(session, *numbers)
    serials = _give_serials(pieces)
    details = [
        detail(code, serial=serials[number], sequence=index + 1)
        for index, (code, number) in enumerate(zip(ALL_CODES, numbers, strict=True))
    ]
    path = tmp_path / "acs.txt"
    if layout == "fixed":
        write_fixed(path, details)
    else:
        write_csv_layout(path, details, titles=layout == "csv with titles")
    report = _import(session, path)

    assert (report.total, report.created, report.rejected) == (len(ALL_CODES), len(ALL_CODES), [])
    for code, number in zip(ALL_CODES, numbers, strict=True):
        recorded = session.scalar(select(MailReturn.reason).where(MailReturn.piece_id == pieces[number].id))
        assert recorded == acs_reason(code).code, code


def test_a_change_of_address_moves_the_customer_keeping_the_move_date(session: Session, tmp_path: Path) -> None:
    pieces = mail_customers(session, "C1")
    serials = _give_serials(pieces)
    report = _import(session, write_fixed(tmp_path / "acs.txt", [detail(" ", serial=serials["C1"])]))

    assert report.created == 1
    moved = current_address(session, "C1")
    assert (moved.line1, moved.line2, moved.city, moved.region, moved.postal_code) == (
        "500 N ELM AVE", "APT 7", "CHICAGO", "IL", "60601-1234",
    )
    old = session.get_one(Address, pieces["C1"].address_id)
    assert old.validity is AddressValidity.SUPERSEDED
    created = [e for e in history(session, "C1") if e.address_id == moved.id]
    assert created and all(e.source is ChangeSource.POSTAL_FILE for e in created)
    assert "effective 2026-11-01" in (created[0].note or "")
    assert "individual move" in (created[0].note or "")


def test_matching_by_keyline(session: Session, tmp_path: Path) -> None:
    pieces = mail_customers(session, "C1", "C2")
    code = pieces["C1"].piece_code
    report = _import(session, write_fixed(tmp_path / "acs.txt", [
        detail("A", keyline=code, sequence=1),
        detail("A", keyline=code[:-1] + ("0" if code[-1] != "0" else "1"), sequence=2),
    ]))
    assert report.created == 1
    assert [r.row for r in report.rejected] == [3] and "keyline" in report.rejected[0].reason


def test_unknown_serial_is_rejected(session: Session, tmp_path: Path) -> None:
    mail_customers(session, "C1")
    report = _import(session, write_fixed(tmp_path / "acs.txt", [detail("V", serial=999)]))
    assert report.created == 0 and "serial 999" in report.rejected[0].reason


def _household(session: Session) -> dict[str, MailPiece]:
    """Two Smiths and a Jones at one address (one piece, to the first Smith), a Smith next door."""
    for number, name in (("S1", "Ann Smith"), ("S2", "Bob Smith"), ("J1", "Cy Jones")):
        add_customer(session, number, base=US_ROW, name=name, line1="12 Oak Street", line2="Apt 4",
                     order_cents=(9000,) if number == "S1" else ())
    add_customer(session, "S3", base=US_ROW, name="Dee Smith", line1="14 Oak Street", line2="")
    pieces = mail_batch(session, campaign="Fall", actor="t")
    assert "S1" in pieces and "S2" not in pieces  # one piece for the household
    return pieces


@pytest.mark.parametrize(("move_type", "moved"), [("F", {"S1", "S2"}), ("I", {"S1"}), ("B", {"S1"})])
def test_move_type_says_who_moves(session: Session, tmp_path: Path, move_type: str, moved: set[str]) -> None:
    pieces = _household(session)
    serials = _give_serials({"S1": pieces["S1"]})
    # Not mailed any more, but still living with the family.
    customer(session, "S2").status = CustomerStatus.DO_NOT_MAIL
    path = write_fixed(tmp_path / "acs.txt", [detail(" ", serial=serials["S1"], move_type=move_type,
                                                     last_name="SMITH")])
    report = _import(session, path)
    assert report.created == 1 and report.rejected == []
    for number in ("S1", "S2", "J1", "S3"):
        assert (current_address(session, number).city == "CHICAGO") is (number in moved), number
    if move_type == "F":
        events = [e for e in history(session, "S2") if e.source is ChangeSource.POSTAL_FILE]
        assert events and "family move" in (events[-1].note or "")

    # Again: nothing more happens, to the addressee or the family.
    before = _state(session)
    again = _import(session, path)
    assert (again.created, again.unchanged) == (0, 1)
    assert _state(session) == before


def test_reimporting_changes_nothing(session: Session, tmp_path: Path) -> None:
    pieces = mail_customers(session, "C1", "C2", "C3")
    serials = _give_serials(pieces)
    path = write_fixed(tmp_path / "acs.txt", [
        detail(" ", serial=serials["C1"], sequence=1), detail("U", serial=serials["C2"], sequence=2),
        detail("P", serial=serials["C3"], sequence=3),
    ])
    first = _import(session, path)
    assert first.created == 3
    before = _state(session)
    second = _import(session, path)
    assert (second.created, second.unchanged, second.rejected) == (0, 3, [])
    assert _state(session) == before
    assert customer(session, "C3").status.value == "deceased"


# --- bad records and bad files ----------------------------------------------------------------


def test_malformed_records_are_rejected_with_row_and_field(session: Session, tmp_path: Path) -> None:
    pieces = mail_customers(session, "C1", "C2")
    serials = _give_serials(pieces)
    good = detail("V", serial=serials["C1"], sequence=1)
    details = [
        good,                                                                          # row 2
        detail(" ", serial=serials["C2"], moved="20261340", sequence=2),               # row 3: month 13
        detail(" ", serial=serials["C2"], moved="2026110", sequence=3),                # row 4: 7 digits
        detail("Z", serial=serials["C2"], sequence=4),                                 # row 5: no such code
        detail(" ", serial=serials["C2"], move_type="X", sequence=5),                  # row 6: no such move type
        detail("V", serial=serials["C2"], fulfillment_date="20260231", sequence=6),    # row 7: 31 February
        detail("V", serial=serials["C2"], intelligent_mail_barcode="0027012345600000", sequence=7),  # row 8
        detail("V", keyline="", sequence=8),                                           # row 9: names no piece
    ]
    short = format_fixed(detail("V", serial=serials["C2"], sequence=9), DETAIL_FIELDS)[:-1]  # row 10: 699 chars
    long = format_fixed(detail("V", serial=serials["C2"], sequence=10), DETAIL_FIELDS) + " "  # row 11: 701
    no_marker = format_fixed(detail("V", serial=serials["C2"], sequence=11), DETAIL_FIELDS)[:-1] + " "  # row 12
    path = write_fixed(tmp_path / "acs.txt", details, lines=[short, long, no_marker],
                       head=header([*details, {}, {}, {}]))
    report = _import(session, path)

    assert (report.total, report.created) == (11, 1)
    reasons = {r.row: r.reason for r in report.rejected}
    assert sorted(reasons) == list(range(3, 13))
    assert "move effective date (positions 37-44)" in reasons[3] and "move effective date" in reasons[4]
    assert "deliverability code 'Z' (position 46)" in reasons[5]
    assert "move type 'X' (position 45)" in reasons[6]
    assert "fulfillment date (positions 525-532)" in reasons[7]
    assert "Intelligent Mail barcode (positions 441-471)" in reasons[8]
    assert "names the piece" in reasons[9]
    assert "699 characters" in reasons[10] and "701 characters" in reasons[11]
    assert "end marker" in reasons[12]
    rejects = read_csv(path.with_name("acs.rejects.csv"))
    assert [row["rejected_row"] for row in rejects] == [str(n) for n in range(3, 13)]


def test_the_rejects_file_imports_once_fixed(session: Session, tmp_path: Path) -> None:
    pieces = mail_customers(session, "C1")
    serials = _give_serials(pieces)
    path = write_fixed(tmp_path / "acs.txt", [detail(" ", serial=serials["C1"], moved="20261399")])
    assert len(_import(session, path).rejected) == 1
    rejects = path.with_name("acs.rejects.csv")
    assert detect_layout(rejects) is AcsLayout.NAMED_CSV
    text = rejects.read_text(encoding="utf-8").replace("20261399", "20261101")
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(text, encoding="utf-8")
    report = _import(session, fixed)
    assert (report.created, report.rejected) == (1, [])
    assert current_address(session, "C1").city == "CHICAGO"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no_header", "does not begin with a header record"),
        ("count", "announces 2 notices but the file holds 1"),
        ("header_date", r"create date \(positions 10-17\)"),
    ],
)
def test_an_unusable_file_stores_nothing(session: Session, tmp_path: Path, change: str, message: str) -> None:
    pieces = mail_customers(session, "C1")
    serials = _give_serials(pieces)
    details = [detail("V", serial=serials["C1"])]
    path = tmp_path / "acs.txt"
    if change == "no_header":
        path.write_text(format_fixed(details[0], DETAIL_FIELDS) + "\r\n", encoding="ascii")
    elif change == "count":
        write_fixed(path, details, head=header(details, total_acs_record_count="000000002"))
    else:
        write_fixed(path, details, head=header(details, create_date="2026111"))
    session.commit()
    before = _state(session)
    with pytest.raises(UnusableAcsFile, match=message):
        _import(session, path)
    session.rollback()
    assert _state(session) == before


def test_command_exit_codes(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    pieces = mail_customers(session, "C1", "C2")
    serials = _give_serials(pieces)
    session.commit()
    good = write_fixed(tmp_path / "good.txt", [detail("V", serial=serials["C1"])])
    assert runner.invoke(args=["returns", "import", str(good)]).exit_code == 0
    some_bad = write_fixed(tmp_path / "bad.txt", [detail("V", serial=serials["C2"], sequence=1),
                                                 detail("Z", serial=serials["C2"], sequence=2)])
    result = runner.invoke(args=["returns", "import", str(some_bad)])
    assert result.exit_code == 1 and "row 3" in result.stderr
    truncated = write_fixed(tmp_path / "cut.txt", [detail("V", serial=serials["C2"])],
                            head=header([{}, {}]))
    result = runner.invoke(args=["returns", "import", str(truncated)])
    assert result.exit_code == 2 and "nothing was stored" in result.stderr
