"""The one-key shortcuts of the return reasons: data in returns/reasons.csv, checked when it is read."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mailer.envelopes.profiles import PROFILES
from returns.catalog import CATALOG_PATH, REASONS, load_reasons, resolve_reason


def test_every_reason_has_its_own_key() -> None:
    keys = [reason.key for reason in REASONS.values()]

    assert all(len(key) == 1 and key.isascii() and key.isalnum() and key == key.upper() for key in keys)
    assert len(set(keys)) == len(REASONS)
    for profile in PROFILES.values():
        assert all(REASONS[code].key for code in profile.reason_codes), profile.key


def test_no_key_begins_a_reason_code_or_names_another_reason() -> None:
    initials = {code[0] for code in REASONS}
    for reason in REASONS.values():
        assert reason.key not in initials, reason.code
        # Sent to the API as it is, a letter key means what the USPS letter means, if anything.
        named = resolve_reason(reason.key)
        assert named is None or named is reason, reason.code


def test_the_envelope_reasons_get_the_digits() -> None:
    printed = {code for profile in PROFILES.values() for code in profile.reason_codes}
    digits = {reason.code for reason in REASONS.values() if reason.key.isdigit()}
    # Ten digits for the eleven reasons the envelopes print: the rest get letters.
    assert len(digits) == 10 and digits < printed


def _catalog_with_keys(tmp_path: Path, keys: dict[str, str]) -> Path:
    with CATALOG_PATH.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows, columns = list(reader), reader.fieldnames
    assert columns is not None
    path = tmp_path / "reasons.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows({**row, "key": keys.get(row["code"], row["key"])} for row in rows)
    return path


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"IA": "1"}, "IA and ANK share the key 1"),
        ({"IA": "c"}, "MOVED and IA share the key C"),
        ({"OTH": ""}, "OTH needs a key of one digit or letter"),
        ({"OTH": "10"}, "OTH needs a key of one digit or letter"),
        ({"OTH": "#"}, "OTH needs a key of one digit or letter"),
        ({"OTH": "R"}, "the key R of OTH begins a reason code"),
        ({"OTH": "K"}, "the key K of OTH is the USPS letter of MLNA"),
    ],
)
def test_a_catalog_with_unusable_keys_is_refused(tmp_path: Path, keys: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_reasons(_catalog_with_keys(tmp_path, keys))


def test_the_catalog_reads_keys_in_either_case(tmp_path: Path) -> None:
    assert load_reasons(_catalog_with_keys(tmp_path, {"ORG": "g"}))["ORG"].key == "G"
