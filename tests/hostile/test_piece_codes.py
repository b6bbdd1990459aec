"""Piece codes as clerks type and scanners send them: any text is a code or a clear refusal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailer.batches.piece_codes import (
    ALPHABET,
    CODE_LENGTH,
    PAYLOAD_LENGTH,
    PieceCodeError,
    check_symbol,
    display_piece_code,
    parse_piece_code,
)

payloads = st.text(alphabet=ALPHABET, min_size=PAYLOAD_LENGTH, max_size=PAYLOAD_LENGTH)
# What a keyboard wedge or a tired clerk sends: code symbols, look-alikes, separators and anything else.
typed_text = st.text(alphabet=st.sampled_from(ALPHABET + "ILOUilou -_.\t\n\r\x00é٣") | st.characters(), max_size=40)


@given(typed_text)
def test_any_text_is_a_valid_code_or_refused_with_a_piece_code_error(typed: str) -> None:
    try:
        code = parse_piece_code(typed)
    except PieceCodeError as exc:
        assert str(exc)
        return
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(ALPHABET)
    assert check_symbol(code[:PAYLOAD_LENGTH]) == code[-1]


@given(payloads, st.sampled_from(["", " ", "-", "_", "."]), st.booleans())
def test_a_code_typed_as_printed_or_in_lower_case_reads_back(payload: str, separator: str, lower: bool) -> None:
    code = payload + check_symbol(payload)
    typed = display_piece_code(code).replace("-", separator)
    assert parse_piece_code(typed.lower() if lower else typed) == code


@given(payloads, st.integers(0, CODE_LENGTH - 1), st.sampled_from(ALPHABET))
def test_one_misread_symbol_is_never_taken_for_another_code(payload: str, position: int, symbol: str) -> None:
    code = payload + check_symbol(payload)
    misread = code[:position] + symbol + code[position + 1:]
    if misread == code:
        assert parse_piece_code(misread) == code
        return
    try:
        parse_piece_code(misread)
    except PieceCodeError:
        return
    raise AssertionError(f"{misread} was read as a code")
