"""Piece codes: unique, typeable, and a misread is rejected rather than matched."""

from __future__ import annotations

import pytest

from mailer.batches.piece_codes import (
    ALPHABET,
    CODE_LENGTH,
    PieceCodeError,
    check_symbol,
    display_piece_code,
    new_piece_code,
    new_piece_codes,
    parse_piece_code,
)


def test_new_codes_carry_a_valid_check_symbol() -> None:
    for _ in range(200):
        code = new_piece_code()
        assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)
        assert parse_piece_code(code) == code


def test_no_code_starts_with_the_mailroom_tray_key() -> None:
    codes = new_piece_codes(2000)
    assert not [code for code in codes if code.startswith("T")]
    assert "T" in {symbol for code in codes for symbol in code[1:]}


def test_every_single_substitution_is_rejected() -> None:
    code = new_piece_code()
    for position in range(CODE_LENGTH):
        for symbol in ALPHABET:
            if symbol == code[position]:
                continue
            typo = code[:position] + symbol + code[position + 1 :]
            with pytest.raises(PieceCodeError, match="check character"):
                parse_piece_code(typo)


def test_neighbour_swaps_are_caught_almost_always() -> None:
    swaps = caught = 0
    for _ in range(300):
        code = new_piece_code()
        for i in range(CODE_LENGTH - 1):
            if code[i] == code[i + 1]:
                continue
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            swaps += 1
            try:
                parse_piece_code(swapped)
            except PieceCodeError:
                caught += 1
    # Luhn mod N misses only swaps of the symbols valued 0 and N-1, like 09/90 in decimal.
    assert caught / swaps > 0.95


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("ABC", "8 characters"), ("ABCD-EFGU", "'U'"), ("", "8 characters")],
)
def test_malformed_input_says_what_is_wrong(typed: str, reason: str) -> None:
    with pytest.raises(PieceCodeError, match=reason):
        parse_piece_code(typed)


def test_typed_forms_are_accepted() -> None:
    payload = "0123456"
    code = payload + check_symbol(payload)
    assert parse_piece_code(display_piece_code(code).lower()) == code
    assert parse_piece_code(" " + code.replace("0", "O").replace("1", "l") + "\n") == code


def test_batches_of_codes_are_distinct_and_avoid_taken_ones() -> None:
    taken = set(new_piece_codes(1000))
    fresh = new_piece_codes(5000, taken=taken)
    assert len(set(fresh)) == 5000 and not taken & set(fresh)


def test_a_long_typed_value_is_quoted_shortened() -> None:
    with pytest.raises(PieceCodeError) as caught:
        parse_piece_code("X" * 5000)
    assert str(caught.value) == f"a piece code has 8 characters; '{'X' * 39}…' has 5000"
