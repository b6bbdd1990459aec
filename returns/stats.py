"""Returned mail per week and reason, as the dashboard draws it.

A plain service (the session passed in, plain data out): the current returns only (a correction
replaces the return it corrects), each counted in the week, Monday to Sunday, of the UTC day the
piece came back. The database groups the window's returns by reason and day, so at most a few
hundred rows reach Python whatever the number of returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.churn.columns import epoch_day
from returns.models import MailReturn

EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class WeeklyReturns:
    """Current returns per reason code and week, for consecutive weeks."""

    # The Monday of each week, oldest first.
    weeks: list[date]
    # Reason code -> one count per week; the most returned reason first.
    counts: dict[str, list[int]]

    @property
    def total(self) -> int:
        """Return how many returns the weeks hold."""
        return sum(sum(counts) for counts in self.counts.values())


def returns_by_week(session: Session, *, weeks: int, today: date) -> WeeklyReturns:
    """Count the current returns of the last ``weeks`` weeks (this one included) by reason and week."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    first = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    end = first + timedelta(weeks=weeks)
    day = epoch_day(MailReturn.returned_at)
    rows = session.execute(
        select(MailReturn.reason, day, func.count())
        .where(
            MailReturn.is_current,
            MailReturn.returned_at >= datetime.combine(first, time(), tzinfo=UTC),
            MailReturn.returned_at < datetime.combine(end, time(), tzinfo=UTC),
        )
        .group_by(MailReturn.reason, day)
    ).all()
    first_day = (first - EPOCH).days
    counts: dict[str, list[int]] = {}
    for reason, day_number, count in rows:
        week = (day_number - first_day) // 7
        if 0 <= week < weeks:
            counts.setdefault(reason, [0] * weeks)[week] += count
    ordered = dict(sorted(counts.items(), key=lambda item: (-sum(item[1]), item[0])))
    return WeeklyReturns(weeks=[first + timedelta(weeks=w) for w in range(weeks)], counts=ordered)
