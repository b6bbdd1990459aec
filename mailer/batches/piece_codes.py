"""Piece codes: short, typeable, unique, with a check character that catches misreads.

A code is seven random symbols of Crockford's base 32 (digits and letters without I, L, O, U,
so nothing reads as something else) and one check symbol computed with the Luhn mod N
algorithm over the same alphabet: every single mistyped symbol and most swaps of neighbours
give a code whose check fails, so a misread code is rejected rather than matched to another
customer's piece.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from mailer.messages import Message, shortened

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAYLOAD_LENGTH = 7
CODE_LENGTH = PAYLOAD_LENGTH + 1
_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
# What people and scanners type for the symbols Crockford's alphabet leaves out.
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]")


class PieceCodeError(ValueError):
    """A typed or scanned code is not a valid piece code."""


def check_symbol(payload: str) -> str:
    """Return the Luhn mod 32 check symbol of a payload."""
    base = len(ALPHABET)
    total = 0
    factor = 2
    for symbol in reversed(payload):
        addend = factor * _VALUE[symbol]
        total += addend // base + addend % base
        factor = 1 if factor == 2 else 2
    return ALPHABET[(base - total % base) % base]


# A code never starts with T: on the mailroom's page T starts a tray, and a clerk typing a code by
# hand must not start one with its first key.
_FIRST_SYMBOLS = ALPHABET.replace("T", "")


def new_piece_code() -> str:
    """Return a random piece code with its check symbol."""
    payload = secrets.choice(_FIRST_SYMBOLS) + "".join(secrets.choice(ALPHABET) for _ in range(PAYLOAD_LENGTH - 1))
    return payload + check_symbol(payload)


def new_piece_codes(count: int, *, taken: Iterable[str] = ()) -> list[str]:
    """Return ``count`` distinct new piece codes, none of them in ``taken``."""
    excluded = set(taken)
    codes: list[str] = []
    while len(codes) < count:
        code = new_piece_code()
        if code not in excluded:
            excluded.add(code)
            codes.append(code)
    return codes


def parse_piece_code(typed: str) -> str:
    """Return the canonical code for what a clerk typed or a scanner sent; raise if it is not valid."""
    code = _SEPARATORS.sub("", typed).upper().translate(_TYPED)
    shown = repr(shortened(typed))
    if len(code) != CODE_LENGTH:
        raise PieceCodeError(
            Message("a piece code has %(length)s characters; %(typed)s has %(count)s",
                    length=CODE_LENGTH, typed=shown, count=len(code))
        )
    unknown = sorted({symbol for symbol in code if symbol not in _VALUE})
    if unknown:
        raise PieceCodeError(
            Message("%(typed)s contains %(symbols)s, which no piece code uses",
                    typed=shown, symbols=repr(shortened("".join(unknown))))
        )
    if check_symbol(code[:PAYLOAD_LENGTH]) != code[-1]:
        raise PieceCodeError(Message("%(typed)s fails its check character: mistyped or misread", typed=shown))
    return code


def display_piece_code(code: str) -> str:
    """Return the code split in two groups of four, as printed for people to read."""
    return f"{code[:4]}-{code[4:]}"
