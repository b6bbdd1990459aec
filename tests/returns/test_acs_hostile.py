"""Hostile ACS records: random text and near misses of a valid record read as a notice or a stated reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returns.acs import (
    COA_CODES,
    DETAIL_FIELDS,
    MOVE_TYPES,
    NIXIE_CODES,
    AcsLayout,
    detect_layout,
    format_fixed,
    parse_notice,
    read_records,
)
from tests.returns.acs_files import NEW_ADDRESS, detail, write_fixed

HOSTILE = settings(derandomize=True, database=None, deadline=None, max_examples=150,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])
VALID = format_fixed(detail(" ", serial=42, new_address=NEW_ADDRESS, move_type="F"), DETAIL_FIELDS)


def _check(values: dict[str, str]) -> None:
    try:
        notice = parse_notice(values, file_created_on=date(2026, 11, 16))
    except ValueError as exc:
        assert str(exc)
        return
    assert notice.deliverability_code in COA_CODES or notice.deliverability_code in NIXIE_CODES
    assert (notice.move_type in MOVE_TYPES) if notice.is_coa else notice.move_type is None
    assert (notice.serial is not None) != (notice.keyline is not None)
    assert notice.note()


@HOSTILE
@given(st.text(max_size=800))
def test_any_text_is_a_notice_or_a_reason(text: str) -> None:
    values = {field.name: field.cut(text) for field in DETAIL_FIELDS}
    values["record_type"] = "D"
    _check(values)


@HOSTILE
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.characters(codec="latin-1"))
def test_a_near_miss_of_a_valid_record_is_a_notice_or_a_reason(position: int, character: str) -> None:
    record = VALID[:position] + character + VALID[position + 1 :]
    values = {field.name: field.cut(record) for field in DETAIL_FIELDS}
    _check(values)


@HOSTILE
@given(st.lists(st.text(max_size=720), max_size=4))
def test_any_file_is_read_or_not_taken_for_an_acs_file(tmp_path: Path, lines: list[str]) -> None:
    path = write_fixed(tmp_path / "acs.txt", [detail("V", serial=1)])
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write("\r\n".join(lines))
    layout = detect_layout(path)
    assert layout is AcsLayout.FIXED
    for record in read_records(path, layout):
        assert record.row >= 1
        if record.problem is None and record.values.get("record_type") == "D":
            _check(record.values)
