"""Address-update tokens: genuine, tied to their piece, expiring."""

from __future__ import annotations

from datetime import date

from mailer.batches.piece_codes import new_piece_code
from mailer.batches.tokens import make_token, token_is_valid, update_url

EXPIRES = date(2027, 6, 30)


def test_a_token_is_valid_for_its_piece_until_it_expires() -> None:
    code = new_piece_code()
    token = make_token(secret="s", piece_code=code, expires_on=EXPIRES)

    assert token.startswith(code)
    assert token_is_valid(secret="s", token=token, expires_on=EXPIRES, today=date(2027, 6, 30))
    assert not token_is_valid(secret="s", token=token, expires_on=EXPIRES, today=date(2027, 7, 1))


def test_tampered_or_moved_tokens_fail() -> None:
    code, other = new_piece_code(), new_piece_code()
    token = make_token(secret="s", piece_code=code, expires_on=EXPIRES)
    signature = token.rsplit("-", 1)[1]
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    assert not token_is_valid(secret="other", token=token, expires_on=EXPIRES, today=EXPIRES)
    assert not token_is_valid(secret="s", token=f"{other}-{signature}", expires_on=EXPIRES, today=EXPIRES)
    assert not token_is_valid(secret="s", token=f"{code}-{flipped}", expires_on=EXPIRES, today=EXPIRES)
    assert not token_is_valid(secret="s", token=token, expires_on=date(2028, 1, 1), today=EXPIRES)
    assert not token_is_valid(secret="s", token="garbage", expires_on=EXPIRES, today=EXPIRES)
    for foreign in ("ÄÄÄÄÄÄÄÄÄÄ", "0000000000", "ABCDE FGHI"):
        assert not token_is_valid(secret="s", token=f"{code}-{foreign}", expires_on=EXPIRES, today=EXPIRES)


def test_update_url_is_short() -> None:
    token = make_token(secret="s", piece_code=new_piece_code(), expires_on=EXPIRES)
    url = update_url(base_url="https://mail.example.com/", token=token)
    assert url == f"https://mail.example.com/u/{token}" and len(url) < 50
