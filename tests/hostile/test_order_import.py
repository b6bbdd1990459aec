"""The order import with any file: every row is stored or rejected, or the file is refused with nothing stored."""

from __future__ import annotations

import json
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mailer.orders.models import Order
from tests.factories import US_ROW, add_customer
from tests.hostile.strategies import amount_like, date_like
from tests.web.conftest import data

CUSTOMERS = ("C1", "C2")
rows = st.lists(
    st.tuples(st.sampled_from(CUSTOMERS) | st.text(max_size=6), date_like, amount_like),
    max_size=8,
)
cells = st.sampled_from(['"', ",", "\n", "\r", "'", "=", " "]) | st.text(max_size=6)


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@st.composite
def order_files(draw: st.DrawFn) -> bytes:
    """Return an order file: a right header and odd rows, a row broken by hand, or odd bytes after the header."""
    text = "customer_no,order_date,amount\n" + "".join(
        ",".join(map(_csv_cell, row)) + "\n" for row in draw(rows)
    )
    broken = draw(st.sampled_from(["", "cells", "bytes"]))
    if broken == "cells":
        text += "".join(draw(st.lists(cells, max_size=12)))
    content = text.encode("utf-8", "surrogatepass")
    if broken == "bytes":
        content += draw(st.binary(max_size=20))
    return content


def _orders(app: Flask) -> int:
    with data(app) as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


@pytest.fixture
def customers(app: Flask) -> None:
    with data(app) as session:
        for number in CUSTOMERS:
            add_customer(session, number, base=US_ROW, line1=f"{number[1:]} Oak Street")


@settings(max_examples=40)
@given(order_files())
@example(b"customer_no,order_date,amount\nC1,2026-01-05,12.50\nC2,2026-01-06,3\n\"C1,2026-01-07,1\n")
@example(b"customer_no,order_date,amount\nC1,2026-01-05,12.50\nC2,2026-01-06,3\n\xff\n")
def test_an_order_file_is_stored_row_by_row_or_not_at_all(
    app: Flask, runner: FlaskCliRunner, customers: None, content: bytes
) -> None:
    before = _orders(app)
    with TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        path.write_bytes(content)
        result = runner.invoke(args=["orders", "import", str(path), "--json"])
    stored = _orders(app) - before
    event(f"exit {result.exit_code}")
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 2:
        assert stored == 0 and "nothing" in result.output
        return
    counts = json.loads(result.stdout)
    assert counts["created"] + counts["unchanged"] + counts["rejected"] == counts["total"]
    assert stored == counts["created"]
    assert result.exit_code == (1 if counts["rejected"] else 0)
