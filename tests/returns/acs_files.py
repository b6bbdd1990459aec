"""Building USPS ACS fulfillment files for the tests, from the layout tables of ``returns.acs``."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from returns.acs import COA_CODES, DETAIL_FIELDS, DETAIL_NAMES, HEADER_FIELDS, HEADER_NAMES, format_fixed

MAILER_ID = "123456"
SERVICE_TYPE_ID = "270"
FULFILLED = "20261115"
CREATED = "20261116"

NEW_ADDRESS = {
    "new_address_type": "S", "new_primary_number": "500", "new_pre_directional": "N", "new_street_name": "ELM",
    "new_street_suffix": "AVE", "new_unit_designator": "APT", "new_secondary_number": "7", "new_city": "CHICAGO",
    "new_state": "IL", "new_zip": "60601", "hyphen": "-", "new_plus4": "1234",
}


def imb_digits(serial: int, zip_code: str = "62704") -> str:
    """Return the 20-digit tracking code and routing of a piece under the test Mailer ID."""
    return f"00{SERVICE_TYPE_ID}{MAILER_ID}{serial:09d}{zip_code}"


def detail(
    code: str,
    *,
    serial: int | None = None,
    keyline: str | None = None,
    move_type: str | None = None,
    moved: str = "20261101",
    last_name: str = "PAT",
    new_address: Mapping[str, str] | None = None,
    sequence: int = 1,
    **fields: str,
) -> dict[str, str]:
    """Return one detail record's fields: a COA notice for codes blank, K, G, W, a nixie for the others."""
    coa = code in COA_CODES
    values = {
        "record_type": "D", "file_version": "02", "sequence_number": f"{sequence:08d}", "acs_mailer_id": MAILER_ID,
        "keyline_serial": keyline if keyline is not None else (f"{serial:09d}" if serial is not None else ""),
        "move_effective_date": moved if coa else "", "move_type": (move_type or "I") if coa else "",
        "deliverability_code": code, "usps_site_id": "077", "last_name": last_name if coa else "",
        "first_name": "JANE" if coa else "", "old_zip": "62704", "notification_type": "B",
        "intelligent_mail_barcode": imb_digits(serial) if serial is not None and keyline is None else "",
        "type_of_acs": "O", "fulfillment_date": FULFILLED, "nixie_flag": "N" if not coa else "C",
        "end_marker": "#",
    }
    if code == " ":
        values.update(new_address if new_address is not None else NEW_ADDRESS)
    values.update(fields)
    return values


def header(details: Sequence[Mapping[str, str]], **fields: str) -> dict[str, str]:
    """Return the header record announcing ``details``."""
    coa = sum(1 for d in details if d.get("deliverability_code", " ") in COA_CODES)
    values = {
        "record_type": "H", "file_version": "02", "customer_id": MAILER_ID, "create_date": CREATED,
        "shipment_number": "0000004711", "total_acs_record_count": f"{len(details):09d}",
        "total_coa_count": f"{coa:09d}", "total_nixie_count": f"{len(details) - coa:09d}", "end_marker": "#",
    }
    values.update(fields)
    return values


def write_fixed(path: Path, details: Sequence[Mapping[str, str]], *, head: Mapping[str, str] | None = None,
                lines: Sequence[str] = ()) -> Path:
    """Write a fixed-length ACS file: the header, then one 700-character record per notice, CR LF after each."""
    records = [format_fixed(head if head is not None else header(details), HEADER_FIELDS)]
    records += [format_fixed(d, DETAIL_FIELDS) for d in details]
    records += list(lines)
    path.write_bytes("".join(record + "\r\n" for record in records).encode("ascii"))
    return path


def write_csv_layout(path: Path, details: Sequence[Mapping[str, str]], *, titles: bool = False) -> Path:
    """Write the same notices in the CSV layout: every field in the order of the fixed-length layout.

    ``titles`` puts a row of column titles ("Record Type", ...) first.
    """
    with path.open("w", encoding="ascii", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        if titles:
            writer.writerow([name.replace("_", " ").title() for name in DETAIL_NAMES])
        head = header(details)
        writer.writerow([head.get(name, "") for name in HEADER_NAMES])
        for values in details:
            writer.writerow([values.get(name, "") for name in DETAIL_NAMES])
    return path
