"""The customer file import, through the service and the command line."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressEvent, AddressEventKind, AddressValidity, ChangeSource
from mailer.audit.models import AuditEntry
from mailer.customers.importing import CUSTOMER_COLUMNS, import_customers
from mailer.customers.models import Customer, CustomerStatus
from tests.factories import CN_ROW, US_ROW, customer_row, fix_rows, read_csv, write_csv


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def addresses_of(session: Session, customer_no: str) -> list[Address]:
    return list(
        session.scalars(
            select(Address).join(Customer).where(Customer.customer_no == customer_no).order_by(Address.id)
        )
    )


def test_good_file_stores_customers_addresses_and_history(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "customers.csv", [CN_ROW, US_ROW])

    report = import_customers(session, path=path, actor="test")

    assert (report.total, report.created, report.updated, report.rejected) == (2, 2, 0, [])
    assert report.exit_code == 0
    wang = session.scalar(select(Customer).where(Customer.customer_no == "C001"))
    assert wang is not None and wang.name == "王磊" and wang.status is CustomerStatus.ACTIVE
    (address,) = addresses_of(session, "C001")
    assert (address.postal_code, address.country, address.is_current) == ("310012", "CN", True)
    assert address.validity is AddressValidity.UNVERIFIED
    assert address.normalized and len(address.household_key) >= 8
    (event,) = session.scalars(select(AddressEvent).where(AddressEvent.address_id == address.id))
    assert event.kind is AddressEventKind.CREATED and event.source is ChangeSource.IMPORT
    assert event.changes["city"] == [None, "杭州市"] and event.actor == "test"
    assert not (tmp_path / "customers.rejects.csv").exists()
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "customers.import"))
    assert audit is not None and audit.detail["created"] == 2


def test_bad_rows_are_rejected_with_row_and_reason_and_good_rows_stored(
    session: Session, tmp_path: Path
) -> None:
    rows = [
        customer_row(customer_no="C010"),  # row 2: good
        customer_row(customer_no="C011", name=""),  # row 3
        customer_row(CN_ROW, customer_no="C012", postal_code="31001"),  # row 4
        customer_row(customer_no="C013", postal_code="1234"),  # row 5
        customer_row(customer_no="C014", country="XX"),  # row 6
        customer_row(customer_no="C015"),  # row 7: duplicate of row 8
        customer_row(customer_no="C015", name="Jane Roe"),  # row 8
        customer_row(customer_no="C016", email="not-an-email"),  # row 9
        customer_row(CN_ROW, customer_no="C017"),  # row 10: good
    ]
    path = write_csv(tmp_path / "customers.csv", rows)

    report = import_customers(session, path=path, actor="test")

    assert report.created == 2 and report.exit_code == 1
    reasons = {r.row: r.reason for r in report.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9]
    assert reasons[3] == "missing name"
    assert "does not fit CN" in reasons[4]
    assert "does not fit US" in reasons[5]
    assert reasons[6] == "unknown country 'XX'"
    assert "row(s) 8" in reasons[7] and "row(s) 7" in reasons[8]
    assert "email" in reasons[9]
    stored = set(session.scalars(select(Customer.customer_no)))
    assert stored == {"C010", "C017"}
    rejects = read_csv(tmp_path / "customers.rejects.csv")
    assert [r["rejected_row"] for r in rejects] == ["3", "4", "5", "6", "7", "8", "9"]
    assert rejects[0]["rejected_reason"] == "missing name" and rejects[0]["customer_no"] == "C011"


def test_row_with_too_many_fields_is_rejected(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    write_csv(path, [US_ROW])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("C099,Ann Lee,1 Elm St,,Austin,TX,73301,US,,,surplus\n")

    report = import_customers(session, path=path, actor="test")

    assert [(r.row, r.reason) for r in report.rejected] == [
        (3, "the row has 11 fields but the header has fewer")
    ]


def test_reimport_with_a_moved_customer_supersedes_the_old_address(session: Session, tmp_path: Path) -> None:
    import_customers(session, path=write_csv(tmp_path / "first.csv", [US_ROW, CN_ROW]), actor="test")
    moved = customer_row(line1="500 Pine Avenue", line2="", postal_code="62701")

    report = import_customers(session, path=write_csv(tmp_path / "second.csv", [moved, CN_ROW]), actor="t2")

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    old, new = addresses_of(session, "C002")
    assert (old.is_current, old.validity) == (False, AddressValidity.SUPERSEDED)
    assert (new.is_current, new.line1, new.validity) == (True, "500 Pine Avenue", AddressValidity.UNVERIFIED)
    old_events = session.scalars(select(AddressEvent).where(AddressEvent.address_id == old.id)).all()
    assert [e.kind for e in old_events] == [AddressEventKind.CREATED, AddressEventKind.SUPERSEDED]
    assert old_events[1].changes["validity"] == ["unverified", "superseded"] and old_events[1].actor == "t2"
    (created,) = session.scalars(select(AddressEvent).where(AddressEvent.address_id == new.id))
    assert created.kind is AddressEventKind.CREATED
    assert len(addresses_of(session, "C001")) == 1


def test_reimporting_the_same_file_changes_nothing(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "customers.csv", [US_ROW, CN_ROW])
    import_customers(session, path=path, actor="test")
    events_before = count(session, AddressEvent)

    report = import_customers(session, path=path, actor="test")

    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert count(session, AddressEvent) == events_before and count(session, Address) == 2


def test_retyped_same_address_is_edited_in_place_keeping_validity(session: Session, tmp_path: Path) -> None:
    import_customers(session, path=write_csv(tmp_path / "a.csv", [US_ROW]), actor="test")
    (address,) = addresses_of(session, "C002")
    address.validity = AddressValidity.DELIVERABLE
    session.flush()

    retyped = customer_row(line1="12 OAK ST", line2="#4")
    import_customers(session, path=write_csv(tmp_path / "b.csv", [retyped]), actor="test")

    session.expire_all()
    (address,) = addresses_of(session, "C002")
    assert (address.line1, address.validity) == ("12 OAK ST", AddressValidity.DELIVERABLE)
    events = session.scalars(select(AddressEvent).where(AddressEvent.address_id == address.id)).all()
    assert events[-1].kind is AddressEventKind.EDITED
    assert events[-1].changes["line1"] == ["12 Oak Street", "12 OAK ST"]


def test_changed_contact_fields_are_updated_and_audited(session: Session, tmp_path: Path) -> None:
    import_customers(session, path=write_csv(tmp_path / "a.csv", [US_ROW]), actor="test")

    import_customers(
        session, path=write_csv(tmp_path / "b.csv", [customer_row(phone="(217) 555-0199")]), actor="t2"
    )

    customer = session.scalar(select(Customer).where(Customer.customer_no == "C002"))
    assert customer is not None and customer.phone == "(217) 555-0199"
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.update"))
    assert audit is not None and audit.object_id == "C002" and audit.detail["fields"] == ["phone"]
    assert audit.actor == "t2"


def test_surname_and_honorific_names_are_stored_but_flagged(session: Session, tmp_path: Path) -> None:
    rows = [
        customer_row(CN_ROW, customer_no="C1", name="李先生"),
        customer_row(CN_ROW, customer_no="C2", name="王小姐"),
        customer_row(customer_no="C3", name="Mr. Smith"),
        customer_row(customer_no="C4", name="John Smith"),
    ]
    report = import_customers(session, path=write_csv(tmp_path / "c.csv", rows), actor="test")

    assert report.created == 4
    flags = dict(session.execute(select(Customer.customer_no, Customer.name_incomplete)).all())
    assert flags == {"C1": True, "C2": True, "C3": True, "C4": False}


def test_byte_order_mark_is_accepted(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", [CN_ROW])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    report = import_customers(session, path=path, actor="test")

    assert report.created == 1 and report.rejected == []


def test_cli_import_exit_codes_and_json(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", [US_ROW])
    mixed = write_csv(tmp_path / "mixed.csv", [CN_ROW, customer_row(customer_no="C9", country="ZZ")])

    first = runner.invoke(args=["customers", "import", str(good), "--json"])
    second = runner.invoke(args=["customers", "import", str(mixed)])

    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["created"] == 1
    assert second.exit_code == 1
    assert "row 3: unknown country 'ZZ'" in second.stderr
    assert (tmp_path / "mixed.rejects.csv").exists()


def test_file_that_is_not_csv_stores_nothing_and_exits_2(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe" * 20)
    wrong_header = tmp_path / "wrong.csv"
    wrong_header.write_text("id;label\n1;x\n", encoding="utf-8")
    truncated = write_csv(tmp_path / "late.csv", [US_ROW, CN_ROW])
    truncated.write_bytes(truncated.read_bytes() + b"C5,\xff\xfe broken\n")

    results = [runner.invoke(args=["customers", "import", str(p)]) for p in (binary, wrong_header, truncated)]

    assert [r.exit_code for r in results] == [2, 2, 2]
    assert "not a text file" in results[0].stderr
    assert "lacks column(s) customer_no" in results[1].stderr
    assert "nothing was stored" in results[2].stderr
    assert count(session, Customer) == 0


def test_show_prints_customer_as_json(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    runner.invoke(args=["customers", "import", str(write_csv(tmp_path / "c.csv", [CN_ROW]))])

    result = runner.invoke(args=["customers", "show", "C001", "--json"])
    missing = runner.invoke(args=["customers", "show", "C404"])

    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["customer_no"] == "C001" and shown["name"] == "王磊" and shown["status"] == "active"
    assert shown["churn_risk"] is None and shown["merged_into"] is None
    assert shown["address"] == {
        "line1": CN_ROW["line1"], "line2": "", "city": "杭州市", "region": "浙江省",
        "postal_code": "310012", "country": "CN", "validity": "unverified",
        # The line names no district of 杭州市, so the reference data cannot place it.
        "verification": "unverifiable",
        "verification_reason": "no district: 杭州市 has 13 districts and counties and the address names none",
    }
    assert missing.exit_code == 1 and "no customer C404" in missing.stderr


def test_a_huge_field_rejects_its_row_by_number_and_the_other_rows_go_in(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "first.csv", [customer_row(name="x" * 200_000), CN_ROW])
    third = write_csv(tmp_path / "third.csv", [CN_ROW, customer_row(name="x" * 200_000)])

    results = [runner.invoke(args=["customers", "import", str(p)]) for p in (first, third)]

    assert [r.exit_code for r in results] == [1, 1]
    for name, row in (("first", "2"), ("third", "3")):
        (rejected,) = read_csv(tmp_path / f"{name}.rejects.csv")
        assert rejected["rejected_row"] == row
        assert rejected["rejected_reason"] == "the row is longer than 20000 characters"
    assert count(session, Customer) == 1


def test_a_header_lacking_columns_lists_the_expected_ones_once_and_spots_semicolons(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(";".join(CUSTOMER_COLUMNS) + "\n" + ";".join(US_ROW.values()) + "\n", encoding="utf-8")

    result = runner.invoke(args=["customers", "import", str(path)])

    assert result.exit_code == 2
    expected = (
        "customer_no, name, line1, city, postal_code, country, line2, region, phone, email, "
        "mail_consent, email_consent, phone_consent, consent_wording"
    )
    assert f"; expected {expected}; the file seems to be separated by semicolons, not commas" in result.stderr
    assert result.stderr.count("postal_code") == 2  # once lacking, once expected


HK_ROW = {
    "customer_no": "C030", "name": "陳大文", "line1": "皇后大道中99號中環中心45樓", "line2": "",
    "city": "香港", "region": "", "postal_code": "", "country": "HK", "phone": "", "email": "",
}


def test_places_without_postal_codes_are_imported_without_one(session: Session, tmp_path: Path) -> None:
    rows = [
        HK_ROW,
        customer_row(HK_ROW, customer_no="C031", city="澳門", country="MO"),
        customer_row(customer_no="C032", line1="Sheikh Zayed Road 1", city="Dubai", region="", postal_code="",
                     country="AE"),
        customer_row(customer_no="C033", line1="Corniche Street 5", city="Doha", region="", postal_code="",
                     country="QA"),
        customer_row(customer_no="C034", postal_code=""),  # row 6: the US has ZIP codes
        customer_row(CN_ROW, customer_no="C035", postal_code=""),  # row 7
        customer_row(customer_no="C036", postal_code="", country="Atlantis"),  # row 8
    ]

    report = import_customers(session, path=write_csv(tmp_path / "c.csv", rows), actor="test")

    assert report.created == 4
    assert {r.row: r.reason for r in report.rejected} == {
        6: "missing postal_code", 7: "missing postal_code", 8: "missing postal_code",
    }
    (hong_kong,) = addresses_of(session, "C030")
    assert (hong_kong.postal_code, hong_kong.country, hong_kong.household_key != "") == ("", "HK", True)
    assert {a.country for no in ("C031", "C032", "C033") for a in addresses_of(session, no)} == {"MO", "AE", "QA"}


def test_postal_codes_in_other_digits_are_rejected(session: Session, tmp_path: Path) -> None:
    rows = [
        customer_row(CN_ROW, customer_no="C040", postal_code="٣١٠٠١٢"),  # Arabic-Indic
        customer_row(customer_no="C041", postal_code="६२७०४"),  # Devanagari
        customer_row(CN_ROW, customer_no="C042", postal_code="３１００１２"),  # full-width: the same ASCII digits
    ]

    report = import_customers(session, path=write_csv(tmp_path / "c.csv", rows), actor="test")

    assert {r.row: r.reason for r in report.rejected} == {
        2: "postal code '٣١٠٠١٢' does not fit CN: CN postal codes are six digits",
        3: "postal code '६२७०४' does not fit US: US ZIP codes are 12345 or 12345-6789",
    }
    assert [a.postal_code for a in addresses_of(session, "C042")] == ["310012"]


def test_values_with_control_characters_are_rejected_naming_the_field(session: Session, tmp_path: Path) -> None:
    rows = [
        customer_row(customer_no="C050", name="John\nSmith"),  # row 2: a quoted line break
        customer_row(customer_no="C051", line1="12 Oak\x1b[31m Street"),
        customer_row(customer_no="C052", phone="555\x070100"),
        customer_row(customer_no="C053", email="john\t@example.com"),
        customer_row(customer_no="C054", city="Spring\rfield"),
        customer_row(customer_no="C055", line2="Apt\x854"),
        customer_row(CN_ROW, customer_no="C056", region="浙江\x0c省"),
        customer_row(customer_no="C0\x1f57"),
        customer_row(customer_no="C058", name="  John Smith\r\n"),  # row 10: only around the value, trimmed
    ]

    report = import_customers(session, path=write_csv(tmp_path / "c.csv", rows), actor="test")

    reasons = {r.row: r.reason for r in report.rejected}
    assert reasons == {
        2: "name contains a control character (U+000A), which cannot be printed",
        3: "line1 contains a control character (U+001B), which cannot be printed",
        4: "phone contains a control character (U+0007), which cannot be printed",
        5: "email contains a control character (U+0009), which cannot be printed",
        6: "city contains a control character (U+000D), which cannot be printed",
        7: "line2 contains a control character (U+0085), which cannot be printed",
        8: "region contains a control character (U+000C), which cannot be printed",
        9: "customer_no contains a control character (U+001F), which cannot be printed",
    }
    assert [c.name for c in session.scalars(select(Customer))] == ["John Smith"]
    assert [r["rejected_row"] for r in read_csv(tmp_path / "c.rejects.csv")] == [str(n) for n in range(2, 10)]


def test_rejections_quote_long_values_shortened(session: Session, tmp_path: Path) -> None:
    rows = [
        customer_row(customer_no="C060", country="Z" * 5000),
        customer_row(customer_no="C061", postal_code="9" * 5000),
        customer_row(customer_no="C062", email="@" + "e" * 250),
    ]

    report = import_customers(session, path=write_csv(tmp_path / "c.csv", rows), actor="test")

    reasons = {r.row: r.reason for r in report.rejected}
    assert reasons[2] == f"unknown country '{'Z' * 39}…'"
    assert reasons[3] == f"postal code '{'9' * 39}…' does not fit US: US ZIP codes are 12345 or 12345-6789"
    assert reasons[4] == f"email '@{'e' * 38}…' is not an email address"
    # The rejects file keeps the whole row, so it can be corrected and imported again.
    assert read_csv(tmp_path / "c.rejects.csv")[0]["country"] == "Z" * 5000


def test_a_fixed_rejects_file_is_imported_again_as_it_is(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    formula = '=HYPERLINK("http://x.invalid","x")'
    path = write_csv(tmp_path / "c.csv", [CN_ROW, customer_row(customer_no="+1", name=formula, postal_code="1234")])

    first = runner.invoke(args=["customers", "import", str(path)])
    rejects = tmp_path / "c.rejects.csv"
    (rejected,) = read_csv(rejects)
    fixed = runner.invoke(args=["customers", "import", str(fix_rows(rejects, postal_code="62704"))])

    assert first.exit_code == 1
    # Read in a spreadsheet, the rejected row's cells are text, not formulas.
    assert (rejected["rejected_row"], rejected["customer_no"], rejected["name"]) == ("3", "'+1", "'" + formula)
    assert fixed.exit_code == 0, fixed.output
    assert not (tmp_path / "c.rejects.rejects.csv").exists()
    stored = session.scalar(select(Customer).where(Customer.customer_no == "+1"))
    assert stored is not None and stored.name == formula
    (address,) = addresses_of(session, "+1")
    assert address.postal_code == "62704"


def test_a_customer_no_on_many_rows_rejects_each_naming_ten_others_and_counting_the_rest(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "c.csv", [customer_row(customer_no="C7")] * 30)

    report = import_customers(session, path=path, actor="test")

    assert len(report.rejected) == 30 and count(session, Customer) == 0
    assert report.rejected[0].reason == (
        "customer_no C7 also appears on row(s) 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 19 more"
    )
