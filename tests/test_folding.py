"""Text folding: width, case, punctuation and spacing."""

from __future__ import annotations

import pytest

from mailer.folding import fold_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello,   World!", "hello world"),
        ("ＡＢＣ　１２３", "abc 123"),  # full-width letters, digits and space
        ("  12 Oak St.\tApt #4 ", "12 oak st apt 4"),
        ("中山路８８号，１单元", "中山路88号 1单元"),
        ("O'Brien-Smith", "o brien smith"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
        ("", ""),
    ],
)
def test_fold_text(raw: str, expected: str) -> None:
    assert fold_text(raw) == expected
