"""The USPS street vocabulary."""

from __future__ import annotations

import pytest

from mailer.addresses.usps import standard_delivery_line, street_word_in_full


@pytest.mark.parametrize(
    ("word", "in_full"),
    [("ctr", "center"), ("pne", "pine"), ("riv", "river"), ("n", "north"), ("oak", "oak"), ("st", "street")],
)
def test_street_word_in_full(word: str, in_full: str) -> None:
    assert street_word_in_full(word) == in_full


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("123 North Main Street Apartment 4", "123 N MAIN ST APT 4"),
        ("12 Oak St", "12 OAK ST"),
        ("100 Park Avenue", "100 PARK AVE"),
        ("55 North Ave", "55 NORTH AVE"),  # North is the street's name
        ("1600 Pennsylvania Ave. N.W.", "1600 PENNSYLVANIA AVE NW"),
        ("12 Main St. Suite 300", "12 MAIN ST STE 300"),
        ("9 Highway 61", "9 HWY 61"),
        ("7 W. 42nd Street, Floor 3", "7 W 42ND ST FL 3"),
        ("12 Elm Street South #5", "12 ELM ST S #5"),
        ("3.5 Mill Road", "3.5 MILL RD"),
    ],
)
def test_standard_delivery_line(typed: str, standard: str) -> None:
    assert standard_delivery_line(typed) == standard
