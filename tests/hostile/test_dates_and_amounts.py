"""The order file's dates and amounts, and the returns' returned_at: any text is read or refused in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from mailer.messages import Message
from mailer.orders.importing import EARLIEST_ORDER_DATE, MAX_AMOUNT, OrderRecord, parse_order_row
from returns.importing import parse_return_row
from returns.outcomes import ReturnRequest
from returns.service import ReturnError, parse_returned_at
from tests.hostile.strategies import amount_like, date_like

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

customer_numbers = st.text(min_size=1, max_size=20).filter(str.strip)


@given(customer_numbers, date_like, amount_like)
@example("C1", "2026-11-20", "9999999999.99")
@example("C1", "0001-01-01", "0.001")
@example("C1", "2026-02-30", "1e3")
def test_an_order_row_is_a_record_in_range_or_a_reason(customer_no: str, ordered: str, amount: str) -> None:
    result = parse_order_row(2, {"customer_no": customer_no, "order_date": ordered, "amount": amount}, today=TODAY)
    if isinstance(result, Message):
        assert str(result)
        return
    assert isinstance(result, OrderRecord)
    assert EARLIEST_ORDER_DATE <= result.ordered_on <= TODAY
    assert 0 <= result.amount_cents <= MAX_AMOUNT * 100
    assert Decimal(result.amount_cents) / 100 == Decimal(amount)


@given(date_like)
@example("9999-12-31T23:59:59-23:59")
@example("0001-01-01T00:00:00+23:59")
@example("2026-11-20\x00")
def test_returned_at_is_an_aware_moment_or_a_return_error(text: str) -> None:
    try:
        moment = parse_returned_at(text)
    except ReturnError as exc:
        assert str(exc)
        return
    assert moment.utcoffset() is not None


@given(date_like, st.text(max_size=12), st.text(max_size=12))
@example("9999-12-31T23:59:59-23:59", "ANK", "00000000")
@example("0001-01-01T00:00:00+23:59", "MOVED", "0000-0000")
def test_a_returns_row_is_a_request_within_a_day_of_now_or_a_reason(returned_at: str, reason: str, code: str) -> None:
    result = parse_return_row({"piece_code": code, "reason": reason, "returned_at": returned_at}, now=NOW)
    if isinstance(result, str):
        assert result
        return
    assert isinstance(result, ReturnRequest)
    assert result.returned_at.astimezone(UTC) <= NOW + timedelta(days=1)
