"""Strategies more than one hostile test draws from."""

from __future__ import annotations

from datetime import datetime

from hypothesis import strategies as st

# Text that looks like a date or a number often enough to reach every branch, and anything at all.
date_like = st.one_of(
    st.dates().map(lambda day: day.isoformat()),
    st.datetimes(timezones=st.none() | st.timezones()).map(datetime.isoformat),
    st.from_regex(r"[0-9+\-]{0,6}-?[0-9W]{1,3}-?[0-9T:.Z+ ]{0,20}", fullmatch=True),
    st.text(max_size=30),
)
amount_like = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"-?[0-9_]{0,14}(\.[0-9]{0,4})?(e-?[0-9]{1,4})?", fullmatch=True),
    st.text(max_size=30),
)
