"""Small builders of test data: import rows and files."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mailer.addresses.models import Address, AddressValidity
from mailer.addresses.normalize import normalize_address
from mailer.addresses.verification import verify_address
from mailer.customers.importing import CUSTOMER_COLUMNS
from mailer.customers.models import Customer, CustomerStatus
from mailer.messages import stored
from mailer.orders.models import Order
from mailer.reference.store import reference_in_use

CN_ROW = {
    "customer_no": "C001", "name": "王磊", "line1": "文三路478号华星时代广场A座1201室", "line2": "",
    "city": "杭州市", "region": "浙江省", "postal_code": "310012", "country": "CN",
    "phone": "13812345678", "email": "wanglei@example.cn",
}
US_ROW = {
    "customer_no": "C002", "name": "John Smith", "line1": "12 Oak Street", "line2": "Apt 4",
    "city": "Springfield", "region": "IL", "postal_code": "62704", "country": "US",
    "phone": "(217) 555-0100", "email": "john.smith@example.com",
}


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
    """Read a CSV file into a list of rows (the byte-order mark mailer writes left out)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def add_customer(
    session: Session,
    customer_no: str,
    *,
    base: dict[str, str] | None = None,
    status: CustomerStatus = CustomerStatus.ACTIVE,
    validity: AddressValidity = AddressValidity.UNVERIFIED,
    churn_risk: float | None = None,
    order_cents: Sequence[int] = (),
    **fields: str,
) -> Customer:
    """Store a customer with a current address (and orders) directly, for tests that need one."""
    row = {**(base or US_ROW), **fields}
    customer = Customer(
        customer_no=customer_no, name=row["name"], status=status, churn_risk=churn_risk,
        phone=row.get("phone") or None, email=row.get("email") or None,
    )
    session.add(customer)
    session.flush()
    normalized = normalize_address(
        line1=row["line1"], line2=row.get("line2", ""), city=row["city"], region=row.get("region", ""),
        postal_code=row["postal_code"], country=row["country"],
    )
    session.add(
        Address(
            customer_id=customer.id, line1=row["line1"], line2=row.get("line2") or None, city=row["city"],
            region=row.get("region") or None, postal_code=row["postal_code"], country=row["country"],
            normalized=normalized.text, fingerprint=normalized.fingerprint,
            household_key=normalized.household_key, validity=validity, is_current=True,
            **_verification_columns(row),
        )
    )
    for index, cents in enumerate(order_cents):
        session.add(Order(customer_id=customer.id, ordered_on=date(2026, 1, 1 + index), amount_cents=cents))
    session.flush()
    return customer


def _verification_columns(row: dict[str, str]) -> dict[str, Any]:
    # As the services store it: what the postal reference data says about the address.
    fields = {name: row.get(name) or None for name in ("line1", "line2", "city", "region", "postal_code", "country")}
    found = verify_address(fields, reference_in_use())
    return {
        "verification": found.status, "verification_reason": found.reason,
        "verification_phrase": stored(found.reason), "verification_suggestion": found.suggestion or None,
    }


def fix_rows(path: Path, **fixes: str) -> Path:
    """Set fields in every row of a CSV file, as a person fixing a rejects file in a spreadsheet would."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = list(reader.fieldnames or ()), [{**row, **fixes} for row in reader]
    return write_csv(path, rows, columns)
