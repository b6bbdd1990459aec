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
from tests.factories import CN_ROW, US_ROW, read_csv, write_csv


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
        6: "amount 'ten' is not a number",
        7: "amount '-5' is not an amount between 0 and 9999999999.99",
        8: "amount '1.234' has more than two decimals",
        9: f"order_date {tomorrow} is in the future",
        10: "missing order_date",
    }
    assert [r["row"] for r in read_csv(tmp_path / "orders.rejects.csv")] == [str(n) for n in range(4, 11)]
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
