"""Returned mail per week and reason: the current returns only, in Monday-to-Sunday weeks of their UTC day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from returns.stats import returns_by_week
from tests.churn.stored import return_mail
from tests.factories import add_customer

TODAY = date(2026, 11, 19)  # a Thursday
MONDAY = date(2026, 11, 16)


def _returned(
    session: Session, prefix: str, returns: list[tuple[str, date | datetime]], *, current: bool = True
) -> None:
    """Store a customer (US address) per return, mail them a catalog and store its return."""
    customers = [add_customer(session, f"{prefix}{i:03d}", line1=f"{i} {prefix} Way") for i in range(len(returns))]
    return_mail(session, [(c, reason, on) for c, (reason, on) in zip(customers, returns, strict=True)], current=current)


def test_returns_are_counted_in_their_week_by_reason_most_returned_first(session: Session) -> None:
    _returned(session, "W", [
        ("REF", MONDAY),
        ("MLNA", datetime(2026, 11, 15, 23, 59, tzinfo=UTC)),  # Sunday, UTC: the week before
        ("MLNA", MONDAY - timedelta(weeks=3)),
        ("ANK", TODAY + timedelta(days=3)),  # Sunday of this week
        ("ANK", MONDAY + timedelta(weeks=1)),  # next week: not drawn
        ("UNC", MONDAY - timedelta(weeks=4)),  # before the first week
    ])
    _returned(session, "X", [("MLNA", TODAY)], current=False)  # corrected: not counted

    weekly = returns_by_week(session, weeks=4, today=TODAY)

    assert weekly.weeks == [MONDAY - timedelta(weeks=3), MONDAY - timedelta(weeks=2), MONDAY - timedelta(weeks=1),
                            MONDAY]
    assert weekly.counts == {"MLNA": [1, 0, 1, 0], "ANK": [0, 0, 0, 1], "REF": [0, 0, 0, 1]}
    assert list(weekly.counts) == ["MLNA", "ANK", "REF"]  # ties by code
    assert weekly.total == 4


def test_no_returns_give_empty_weeks(session: Session) -> None:
    weekly = returns_by_week(session, weeks=2, today=MONDAY)
    assert weekly.weeks == [MONDAY - timedelta(weeks=1), MONDAY]
    assert weekly.counts == {} and weekly.total == 0


def test_at_least_one_week_is_asked_for(session: Session) -> None:
    with pytest.raises(ValueError, match="weeks"):
        returns_by_week(session, weeks=0, today=TODAY)
