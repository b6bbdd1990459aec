"""The order file import."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.customers.importing import import_customers
from mailer.orders.importing import ORDER_COLUMNS, import_orders
from mailer.orders.models import Order
from tests.factories import CN_ROW, US_ROW, fix_rows, read_csv, write_csv


def orders_file(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    return write_csv(
        path, [dict(zip(ORDER_COLUMNS, row, strict=True)) for row in rows], columns=ORDER_COLUMNS
    )


def load_customers(session: Session, tmp_path: Path) -> None:
    import_customers(session, path=write_csv(tmp_path / "customers.csv", [CN_ROW, US_ROW]), actor="test")


def test_orders_are_stored_and_bad_rows_rejected(session: Session, tmp_path: Path) -> None:
    load_customers(session, tmp_path)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    path = orders_file(
        tmp_path / "orders.csv",
        [
            ("C001", "2026-01-15", "59.90"),  # row 2
            ("C002", "2026-02-01", "120"),  # row 3
            ("C404", "2026-02-01", "10.00"),  # row 4
            ("C001", "2026-13-01", "10.00"),  # row 5
            ("C001", "2026-03-01", "ten"),  # row 6
            ("C001", "2026-03-01", "-5"),  # row 7
            ("C001", "2026-03-01", "1.234"),  # row 8
            ("C001", tomorrow, "10.00"),  # row 9
            ("C001", "", "10.00"),  # row 10
        ],
    )

    report = import_orders(session, path=path, actor="test")

    assert (report.created, report.exit_code) == (2, 1)
    reasons = {r.row: r.reason for r in report.rejected}
    assert reasons == {
        4: "unknown customer_no C404",
        5: "order_date '2026-13-01' is not a date like 2026-03-31",
        6: "amount 'ten' is not an amount like 12 or 12.50",
        7: "amount '-5' is not an amount between 0 and 9999999999.99",
        8: "amount '1.234' has more than two decimals",
        9: f"order_date {tomorrow} is in the future",
        10: "missing order_date",
    }
    assert [r["rejected_row"] for r in read_csv(tmp_path / "orders.rejects.csv")] == [str(n) for n in range(4, 11)]
    amounts = sorted(o.amount for o in session.scalars(select(Order)))
    assert amounts == [Decimal("59.90"), Decimal("120.00")]


def test_reimporting_orders_changes_nothing(session: Session, tmp_path: Path) -> None:
    load_customers(session, tmp_path)
    rows = [("C001", "2026-01-15", "59.90"), ("C002", "2026-02-01", "5")]
    path = orders_file(tmp_path / "orders.csv", rows)
    import_orders(session, path=path, actor="test")

    again = import_orders(session, path=path, actor="test")

    assert (again.created, again.unchanged, again.rejected) == (0, 2, [])
    assert len(session.scalars(select(Order)).all()) == 2


def test_cli_orders_import(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    load_customers(session, tmp_path)
    path = orders_file(tmp_path / "orders.csv", [("C001", "2026-01-15", "59.90")])

    result = runner.invoke(args=["orders", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "1 created" in result.stdout


def test_amounts_are_plain_decimals_and_dates_are_year_month_day(session: Session, tmp_path: Path) -> None:
    load_customers(session, tmp_path)
    written = [
        ("2026-01-02", "12"), ("2026-01-03", "12.5"), ("2026-01-04", "12.50"), ("2026-01-05", "0"),  # rows 2-5
        ("2026-01-06", "1_000"), ("2026-01-06", "1e3"), ("2026-01-06", "NaN"), ("2026-01-06", "Infinity"),
        ("2026-01-06", "+5"), ("2026-01-06", ".5"), ("2026-01-06", "5."), ("2026-01-06", "١٢"),  # rows 6-13
        ("20260106", "5"), ("2026-W02-3", "5"), ("2026-006", "5"), ("2026-01-06T10:00", "5"),  # rows 14-17
        ("2026-1-6", "5"), ("２０２６-０１-０６", "5"),  # rows 18-19
    ]
    path = orders_file(tmp_path / "orders.csv", [("C001", day, amount) for day, amount in written])

    report = import_orders(session, path=path, actor="test")

    reasons = {r.row: r.reason for r in report.rejected}
    assert sorted(reasons) == list(range(6, 20))
    for row in range(6, 14):
        assert reasons[row] == f"amount {written[row - 2][1]!r} is not an amount like 12 or 12.50"
    for row in range(14, 20):
        assert reasons[row] == f"order_date {written[row - 2][0]!r} is not a date like 2026-03-31"
    assert sorted(o.amount for o in session.scalars(select(Order))) == [
        Decimal("0.00"), Decimal("12.00"), Decimal("12.50"), Decimal("12.50")
    ]


def test_order_dates_before_1900_are_rejected(session: Session, tmp_path: Path) -> None:
    load_customers(session, tmp_path)
    path = orders_file(tmp_path / "orders.csv", [("C001", "1899-12-31", "5"), ("C001", "1900-01-01", "5")])

    report = import_orders(session, path=path, actor="test")

    assert [(r.row, r.reason) for r in report.rejected] == [(2, "order_date 1899-12-31 is before 1900-01-01")]
    assert [o.ordered_on for o in session.scalars(select(Order))] == [date(1900, 1, 1)]


def test_rejections_quote_long_values_shortened(session: Session, tmp_path: Path) -> None:
    load_customers(session, tmp_path)
    path = orders_file(
        tmp_path / "orders.csv",
        [("C001", "2" * 5000, "5"), ("C001", "2026-01-05", "x" * 5000), ("C001", "2026-01-05", "9" * 5000),
         ("C001", "2026-01-05", "1." + "1" * 5000), ("K" * 5000, "2026-01-05", "5")],
    )

    report = import_orders(session, path=path, actor="test")

    reasons = {r.row: r.reason for r in report.rejected}
    assert reasons == {
        2: f"order_date '{'2' * 39}…' is not a date like 2026-03-31",
        3: f"amount '{'x' * 39}…' is not an amount like 12 or 12.50",
        4: f"amount '{'9' * 39}…' is not an amount between 0 and 9999999999.99",
        5: f"amount '1.{'1' * 37}…' has more than two decimals",
        6: f"unknown customer_no {'K' * 39}…",
    }


def test_a_fixed_rejects_file_is_imported_again_as_it_is(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    load_customers(session, tmp_path)
    path = orders_file(tmp_path / "orders.csv", [("C001", "2026-01-15", "59.90"), ("C002", "2026-02-01", "-12.50")])

    first = runner.invoke(args=["orders", "import", str(path)])
    rejects = tmp_path / "orders.rejects.csv"
    (rejected,) = read_csv(rejects)
    fixed = runner.invoke(args=["orders", "import", str(fix_rows(rejects, amount="12.50"))])

    assert first.exit_code == 1
    assert (rejected["rejected_row"], rejected["amount"]) == ("3", "'-12.50")
    assert fixed.exit_code == 0, fixed.output
    amounts = session.scalars(select(Order.amount_cents).order_by(Order.amount_cents)).all()
    assert amounts == [1250, 5990]
