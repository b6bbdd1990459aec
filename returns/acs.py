"""USPS Address Change Service (ACS) fulfillment files: their layouts, read into notices.

The Postal Service sends ACS notices as files of one header record and one detail record per
notice, in a fixed-length layout (every record 700 characters, then CR LF) or as CSV with the
same fields in the same order (ACS File Format Technical Guide, version 2, "ACS Header, COA, and
Nixie Layout"). Positions below are the guide's: 1-based, first character of the field.

A detail record is a change-of-address (COA) notice when its deliverability code is blank (a new
address is given), K (moved, left no address), G (PO box closed) or W (temporary move); any other
code is a nixie notice (undeliverable as addressed, the reason as the code). A notice names the
piece by its Intelligent Mail barcode (the Mailer ID and serial number) or by the keyline the
mailer printed above the address.

Nothing here touches the database: ``returns.acs_importing`` matches the notices to pieces.
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Final

from mailer.envelopes.imb import ImbError, split_digits
from mailer.imports import UnusableFile
from mailer.messages import Message

RECORD_LENGTH: Final = 700
END_MARKER: Final = "#"


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a fixed-length record: where it starts (1-based, as the guide counts) and its length."""

    name: str
    start: int
    length: int

    @property
    def end(self) -> int:
        return self.start + self.length - 1

    def cut(self, record: str) -> str:
        """Return this field's characters of a fixed-length record."""
        return record[self.start - 1 : self.end]


def _fields(*spec: tuple[str, int]) -> tuple[Field, ...]:
    # The guide gives each field's length in order; positions follow from them, so a typo in one
    # length cannot leave a gap or an overlap unnoticed (the last field must end at 700).
    fields, start = [], 1
    for name, length in spec:
        fields.append(Field(name, start, length))
        start += length
    if start - 1 != RECORD_LENGTH:
        raise ValueError(f"layout ends at {start - 1}, not {RECORD_LENGTH}")
    return tuple(fields)


def _fee_block(prefix: str) -> tuple[tuple[str, int], ...]:
    # Header: record count, ACS fee amount (9.2, cents), COA count and fee, nixie count and fee.
    return (
        (f"{prefix}_record_count", 9), (f"{prefix}_acs_fee_amount", 11),
        (f"{prefix}_coa_count", 9), (f"{prefix}_coa_acs_fee_amount", 11),
        (f"{prefix}_nixie_count", 9), (f"{prefix}_nixie_acs_fee_amount", 11),
    )


# Header record: positions 1 record type "H", 2-3 file version, 4-9 ACS customer ID, 10-17 create
# date (CCYYMMDD), 18-27 shipment number, 28-36 total ACS record count, 37-45 COA count, 46-54
# nixie count, 55-294 counts and fees by kind of ACS (traditional, OneCode, Full-Service, IMpb),
# 295-699 filler, 700 end marker "#".
HEADER_FIELDS: Final = _fields(
    ("record_type", 1), ("file_version", 2), ("customer_id", 6), ("create_date", 8), ("shipment_number", 10),
    ("total_acs_record_count", 9), ("total_coa_count", 9), ("total_nixie_count", 9),
    *_fee_block("trd"), *_fee_block("ocd"), *_fee_block("fs"), *_fee_block("impb"),
    ("filler", 405), ("end_marker", 1),
)

# Detail record (COA and nixie share it; a nixie leaves the name and new address blank): 1 record
# type "D", 2-3 file version, 4-11 sequence number, 12-20 ACS Mailer ID, 21-36 keyline / sequence /
# serial number, 37-44 move effective date (CCYYMMDD), 45 move type, 46 deliverability code, 47-49
# USPS site ID, 50-96 name, 97-220 old address (parsed), 221-372 new address (parsed), 373-438 new
# address label, 439 fee notification, 440 notification type, 441-471 Intelligent Mail barcode,
# 472-506 IMpb, 507-522 ID tag, 523 hardcopy-to-electronic flag, 524 type of ACS, 525-532 fulfillment
# date, 533 processing type, 534 capture type, 535-542 made-available date, 543 shape of mail, 544
# mail action code, 545 nixie flag, 546-617 product codes and fees, 618-699 filler, 700 end marker "#".
DETAIL_FIELDS: Final = _fields(
    ("record_type", 1), ("file_version", 2), ("sequence_number", 8), ("acs_mailer_id", 9),
    ("keyline_serial", 16), ("move_effective_date", 8), ("move_type", 1), ("deliverability_code", 1),
    ("usps_site_id", 3), ("last_name", 20), ("first_name", 15), ("prefix", 6), ("suffix", 6),
    ("old_address_type", 1), ("old_urbanization", 28), ("old_primary_number", 10), ("old_pre_directional", 2),
    ("old_street_name", 28), ("old_street_suffix", 4), ("old_post_directional", 2), ("old_unit_designator", 4),
    ("old_secondary_number", 10), ("old_city", 28), ("old_state", 2), ("old_zip", 5),
    ("new_address_type", 1), ("new_pmb", 8), ("new_urbanization", 28), ("new_primary_number", 10),
    ("new_pre_directional", 2), ("new_street_name", 28), ("new_street_suffix", 4), ("new_post_directional", 2),
    ("new_unit_designator", 4), ("new_secondary_number", 10), ("new_city", 28), ("new_state", 2),
    ("new_zip", 5), ("hyphen", 1), ("new_plus4", 4), ("new_delivery_point", 2), ("new_abbreviated_city", 13),
    ("new_address_label", 66), ("fee_notification", 1), ("notification_type", 1),
    ("intelligent_mail_barcode", 31), ("intelligent_mail_package_barcode", 35), ("id_tag", 16),
    ("hardcopy_to_electronic", 1), ("type_of_acs", 1), ("fulfillment_date", 8), ("processing_type", 1),
    ("capture_type", 1), ("made_available_date", 8), ("shape_of_mail", 1), ("mail_action_code", 1),
    ("nixie_flag", 1),
    *((name, 6) for n in range(1, 7) for name in (f"product_code_{n}", f"product_code_fee_{n}")),
    ("filler", 82), ("end_marker", 1),
)

HEADER_NAMES: Final = tuple(f.name for f in HEADER_FIELDS)
DETAIL_NAMES: Final = tuple(f.name for f in DETAIL_FIELDS)


def _cutter(fields: tuple[Field, ...]) -> Callable[[str], dict[str, str]]:
    # One itemgetter of slices cuts every field of a record in C: a file holds 100,000 records.
    getter = operator.itemgetter(*(slice(f.start - 1, f.end) for f in fields))
    names = tuple(f.name for f in fields)
    return lambda record: dict(zip(names, getter(record), strict=True))


cut_header: Final = _cutter(HEADER_FIELDS)
cut_detail: Final = _cutter(DETAIL_FIELDS)

# Deliverability codes (the guide's "Deliverability Code" table). Blank, K, G and W come from a
# change-of-address order; the others are the carrier's nixie reasons.
COA_CODES: Final = {
    " ": "change of address with a new address",
    "K": "moved, left no forwarding address",
    "G": "PO box closed, no order",
    "W": "temporarily away",
}
NIXIE_CODES: Final = {
    "A": "attempted, not known",
    "E": "in dispute",
    "I": "insufficient address",
    "L": "illegible",
    "M": "no mail receptacle",
    "N": "no such number",
    "P": "deceased",
    "Q": "not deliverable as addressed, unable to forward",
    "R": "refused",
    "S": "no such street",
    "U": "unclaimed",
    "V": "vacant",
}
MOVE_TYPES: Final = {"F": "family", "I": "individual", "B": "business"}


class AcsLayout(StrEnum):
    """How an ACS file is laid out."""

    FIXED = "fixed"  # 700-character records
    CSV = "csv"  # the same fields, comma-separated, header record first
    NAMED_CSV = "named_csv"  # our rejects file: the fields under a row of their names


class UnusableAcsFile(UnusableFile):
    """The file looks like an ACS file but cannot be read as one; nothing is imported."""


@dataclass(frozen=True, slots=True)
class AcsNotice:
    """One detail record, checked: which piece it names and what the Postal Service says of it."""

    deliverability_code: str  # " " for a change of address with a new address
    move_type: str | None  # F, I or B on a change of address
    move_effective_on: date | None
    fulfilled_on: date
    mailer_id: str | None  # with ``serial``, from the Intelligent Mail barcode
    serial: int | None
    keyline: str | None
    last_name: str
    new_address: Mapping[str, str]  # new_line1 ... new_country, empty when none is given

    @property
    def is_coa(self) -> bool:
        return self.deliverability_code in COA_CODES

    def note(self) -> str:
        """Describe the notice for the return's note and the address history."""
        if self.deliverability_code in NIXIE_CODES:
            return f"USPS ACS nixie {self.deliverability_code}: {NIXIE_CODES[self.deliverability_code]}"
        code = self.deliverability_code.strip() or "blank"
        parts = [f"USPS ACS change of address ({code}: {COA_CODES[self.deliverability_code]})"]
        if self.move_type:
            parts.append(f"{MOVE_TYPES[self.move_type]} move")
        if self.move_effective_on:
            parts.append(f"effective {self.move_effective_on.isoformat()}")
        return ", ".join(parts)


def detect_layout(path: Path) -> AcsLayout | None:
    """Tell whether a file is an ACS file, and in which layout; None when it is not one."""
    with path.open("rb") as handle:
        start = handle.read(4 * RECORD_LENGTH)
    try:
        text = start.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = start.decode("latin-1")
    first = text.splitlines()[0] if text else ""
    if len(first) == RECORD_LENGTH and first[:1] in ("H", "D") and first[-1] == END_MARKER:
        return AcsLayout.FIXED
    try:
        cells = next(csv.reader(io.StringIO(first)), [])
    except csv.Error:
        return None
    if cells and cells[0] == "H" and len(cells) == len(HEADER_FIELDS):
        return AcsLayout.CSV
    if cells and _is_title_row(cells):
        return AcsLayout.CSV
    if cells and cells[0] == "D" and len(cells) == len(DETAIL_FIELDS):
        return AcsLayout.CSV
    if "record_type" in cells and "keyline_serial" in cells and "deliverability_code" in cells:
        return AcsLayout.NAMED_CSV
    return None


@dataclass(frozen=True, slots=True)
class AcsRecord:
    """One record as read: its row (line) number and its fields by name, or why it cannot be read."""

    row: int
    values: dict[str, str]
    problem: Message | None = None


def read_records(path: Path, layout: AcsLayout) -> Iterator[AcsRecord]:
    """Read every record of an ACS file, in order, with 1-based row numbers."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        if layout is AcsLayout.FIXED:
            yield from _fixed_records(handle)
        else:
            yield from _csv_records(handle, named=layout is AcsLayout.NAMED_CSV)


def _fixed_records(handle: io.TextIOBase) -> Iterator[AcsRecord]:
    for row, line in enumerate(handle, start=1):
        record = line.rstrip("\r\n")
        if not record.strip():
            continue
        values = cut_header(record) if record[:1] == "H" else cut_detail(record)
        if len(record) != RECORD_LENGTH:
            yield AcsRecord(row, values, Message(
                "the record is %(length)s characters long; the fixed-length layout has %(expected)s",
                length=len(record), expected=RECORD_LENGTH,
            ))
        elif record[-1] != END_MARKER:
            yield AcsRecord(row, values, Message(
                "position %(position)s holds %(found)s, not the end marker #", position=RECORD_LENGTH,
                found=repr(record[-1]),
            ))
        else:
            yield AcsRecord(row, values)


def _is_title_row(cells: list[str]) -> bool:
    # A row of column titles ("Record Type", ...) over the fields in the layout's order: read by position.
    title = cells[0].strip().lower().replace(" ", "_")
    return title == "record_type" and len(cells) in (len(HEADER_FIELDS), len(DETAIL_FIELDS))


def _csv_records(handle: io.TextIOBase, *, named: bool) -> Iterator[AcsRecord]:
    reader = csv.reader(handle)
    names: list[str] | None = None
    for cells in reader:
        row = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if not named and row == 1 and _is_title_row(cells):
            continue
        if named and names is None:
            names = cells
            continue
        if names is not None:
            values = {name: value for name, value in zip(names, cells, strict=False) if name in DETAIL_NAMES}
            yield AcsRecord(row, {name: values.get(name, "") for name in DETAIL_NAMES})
            continue
        expected = HEADER_NAMES if cells[:1] == ["H"] else DETAIL_NAMES
        values = dict(zip(expected, cells, strict=False))
        if len(cells) != len(expected):
            yield AcsRecord(row, values, Message(
                "the record has %(count)s fields; the CSV layout has %(expected)s",
                count=len(cells), expected=len(expected),
            ))
        else:
            yield AcsRecord(row, values)


def parse_date(value: str, field: str, *, required: bool) -> date | None:
    """Read a CCYYMMDD date; blank is None unless required. Raise ValueError naming the field."""
    text = value.strip()
    if not text or text == "00000000":
        if required:
            raise ValueError(f"{field} is blank")
        return None
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"{field} {value!r} is not a date (CCYYMMDD)")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ValueError(f"{field} {value!r} is not a date (CCYYMMDD)") from None


@dataclass(frozen=True, slots=True)
class AcsHeader:
    """The header record: when the file was made and how many notices it announces."""

    created_on: date
    notice_count: int


def parse_header(values: Mapping[str, str]) -> AcsHeader:
    """Check the header record; raise UnusableAcsFile saying what is wrong."""
    try:
        created_on = parse_date(values.get("create_date", ""), "create date (positions 10-17)", required=True)
    except ValueError as exc:
        raise UnusableAcsFile(f"header record: {exc}") from None
    count = values.get("total_acs_record_count", "").strip()
    if not count.isdigit():
        raise UnusableAcsFile(f"header record: total ACS record count {count!r} (positions 28-36) is not a number")
    assert created_on is not None
    return AcsHeader(created_on=created_on, notice_count=int(count))


def parse_notice(values: Mapping[str, str], *, file_created_on: date | None) -> AcsNotice:
    """Check one detail record; raise ValueError naming the field and its position."""
    if values.get("record_type") != "D":
        raise ValueError(f"record type {values.get('record_type', '')!r} (position 1) is neither H nor D")
    sequence = values.get("sequence_number", "").strip()
    if not sequence.isdigit():
        raise ValueError(f"sequence number {sequence!r} (positions 4-11) is not a number")
    code = values.get("deliverability_code", "") or " "
    if code not in COA_CODES and code not in NIXIE_CODES:
        raise ValueError(f"deliverability code {code!r} (position 46) is none of blank, "
                         f"{', '.join(sorted({*COA_CODES, *NIXIE_CODES} - {' '}))}")
    move_type = values.get("move_type", "").strip() or None
    if code in COA_CODES and move_type not in MOVE_TYPES:
        raise ValueError(f"move type {values.get('move_type', '')!r} (position 45) of a change of address is "
                         "none of F (family), I (individual), B (business)")
    if code in NIXIE_CODES:
        move_type = None
    moved_on = parse_date(values.get("move_effective_date", ""), "move effective date (positions 37-44)",
                          required=code in COA_CODES)
    fulfilled_on = parse_date(values.get("fulfillment_date", ""), "fulfillment date (positions 525-532)",
                              required=file_created_on is None) or file_created_on
    assert fulfilled_on is not None
    mailer_id: str | None = None
    serial: int | None = None
    keyline: str | None = None
    imb = values.get("intelligent_mail_barcode", "").strip()
    if imb:
        try:
            value = split_digits(imb)
        except ImbError as exc:
            raise ValueError(f"Intelligent Mail barcode (positions 441-471): {exc}") from None
        mailer_id, serial = value.mailer_id, value.serial
    else:
        keyline = values.get("keyline_serial", "").strip() or None
        if keyline is None:
            raise ValueError("neither an Intelligent Mail barcode (positions 441-471) nor a keyline "
                             "(positions 21-36) names the piece")
    return AcsNotice(
        deliverability_code=code, move_type=move_type, move_effective_on=moved_on, fulfilled_on=fulfilled_on,
        mailer_id=mailer_id, serial=serial, keyline=keyline, last_name=values.get("last_name", "").strip(),
        new_address=_new_address(values) if code == " " else {},
    )


def _words(*parts: str) -> str:
    return " ".join(part.strip() for part in parts if part.strip())


def _new_address(values: Mapping[str, str]) -> dict[str, str]:
    """Return the parsed new address as ``new_``-prefixed address fields; empty if none is given."""
    get = values.get
    if (get("new_address_type") or "").strip() == "F":
        raise ValueError("the new address is abroad (new address type F, position 221): enter it by hand")
    line1 = _words(get("new_primary_number", ""), get("new_pre_directional", ""), get("new_street_name", ""),
                   get("new_street_suffix", ""), get("new_post_directional", ""))
    line2 = _words(get("new_unit_designator", ""), get("new_secondary_number", ""))
    pmb = (get("new_pmb") or "").strip()
    if pmb:
        line2 = _words(line2, f"PMB {pmb}")
    zip5, plus4 = (get("new_zip") or "").strip(), (get("new_plus4") or "").strip()
    if not (line1 or zip5):
        return {}
    return {
        "new_line1": line1,
        "new_line2": line2,
        "new_city": (get("new_city") or "").strip(),
        "new_region": (get("new_state") or "").strip(),
        "new_postal_code": f"{zip5}-{plus4}" if zip5 and plus4 else zip5,
        "new_country": "US",
    }


def format_fixed(values: Mapping[str, str], fields: tuple[Field, ...]) -> str:
    """Lay out one record in the fixed-length layout: every field left-aligned and space-padded to its length."""
    parts = []
    for field in fields:
        value = values.get(field.name, "")
        if len(value) > field.length:
            raise ValueError(f"{field.name} {value!r} is longer than {field.length}")
        parts.append(value.ljust(field.length))
    return "".join(parts)
