"""The USPS street vocabulary."""

from __future__ import annotations

import pytest

from mailer.addresses.usps import street_word_in_full


@pytest.mark.parametrize(
    ("word", "in_full"),
    [("ctr", "center"), ("pne", "pine"), ("riv", "river"), ("n", "north"), ("oak", "oak"), ("st", "street")],
)
def test_street_word_in_full(word: str, in_full: str) -> None:
    assert street_word_in_full(word) == in_full
