"""Signed, expiring address-update tokens, short enough to print as a URL under the QR code.

A token is the piece code and a truncated HMAC of it and its batch's expiry date, keyed with
the app's secret: it cannot be forged or moved to another piece, and the server checks the
expiry from the piece's batch, so nothing personal is carried in the URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date

from mailer.batches.piece_codes import PieceCodeError, parse_piece_code

SIGNATURE_LENGTH = 10
SIGNATURE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")  # base 32 (RFC 4648)


def _signature(secret: str, piece_code: str, expires_on: date) -> str:
    message = f"address-update|{piece_code}|{expires_on.isoformat()}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:SIGNATURE_LENGTH]


def make_token(*, secret: str, piece_code: str, expires_on: date) -> str:
    """Return the address-update token of a piece."""
    return f"{piece_code}-{_signature(secret, piece_code, expires_on)}"


def split_token(token: str) -> tuple[str, str]:
    """Return (piece code, signature) of a token; raise PieceCodeError if malformed."""
    code, _, signature = token.strip().rpartition("-")
    signature = signature.upper()
    # Only the signature's own alphabet is compared: compare_digest refuses other text with an error.
    if not code or len(signature) != SIGNATURE_LENGTH or not set(signature) <= SIGNATURE_ALPHABET:
        raise PieceCodeError("the link is incomplete")
    return parse_piece_code(code), signature


def token_is_valid(*, secret: str, token: str, expires_on: date, today: date) -> bool:
    """Tell whether a token is genuine for its piece and not yet expired."""
    try:
        piece_code, signature = split_token(token)
    except PieceCodeError:
        return False
    expected = _signature(secret, piece_code, expires_on)
    return hmac.compare_digest(signature, expected) and today <= expires_on


def update_url(*, base_url: str, token: str) -> str:
    """Return the address-update URL printed on the envelope."""
    return f"{base_url.rstrip('/')}/u/{token}"
