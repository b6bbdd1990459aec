"""Small builders of test data: import rows and files."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from mailer.customers.importing import CUSTOMER_COLUMNS

CN_ROW = {
    "customer_no": "C001", "name": "王磊", "line1": "文三路478号华星时代广场A座1201室", "line2": "",
    "city": "杭州市", "region": "浙江省", "postal_code": "310012", "country": "CN",
    "phone": "13812345678", "email": "wanglei@example.cn",
}  # fmt: skip
US_ROW = {
    "customer_no": "C002", "name": "John Smith", "line1": "12 Oak Street", "line2": "Apt 4",
    "city": "Springfield", "region": "IL", "postal_code": "62704", "country": "US",
    "phone": "(217) 555-0100", "email": "john.smith@example.com",
}  # fmt: skip


def customer_row(base: dict[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """Return a valid customer row (US by default) with some fields replaced."""
    return {**(base or US_ROW), **overrides}


def write_csv(path: Path, rows: Iterable[dict[str, str]], columns: Sequence[str] = CUSTOMER_COLUMNS) -> Path:
    """Write rows under a header to a UTF-8 CSV file."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    """Read a CSV file into a list of rows."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
