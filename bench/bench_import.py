"""Benchmark the customer import: 100,000 generated rows into a fresh SQLite database.

Baseline, measured in the same run: the naive ORM way of importing the same file (one
Customer, Address and AddressEvent object per row, added to the session and flushed row by
row), timed on the first rows and extrapolated. Run: .venv/bin/python bench/bench_import.py
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailer import create_app
from mailer.addresses.models import Address, AddressEvent, AddressEventKind, ChangeSource
from mailer.customers.importing import CUSTOMER_COLUMNS, CustomerRecord, import_customers, parse_customer_row
from mailer.customers.models import Customer
from mailer.db import db
from mailer.demo.generate import generate_customers, write_csv
from mailer.imports import open_csv
from mailer.schema import upgrade_schema


def fresh_app(folder: Path, name: str):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / name}", "SECRET_KEY": "bench"})
    with app.app_context(), db.engine.begin() as connection:
        upgrade_schema(connection)
    return app


def naive_import(path: Path, limit: int) -> None:
    """Import row by row through ORM objects, flushing each row (the baseline)."""
    source = open_csv(path, required=CUSTOMER_COLUMNS[:2])
    session = db.session
    for row, values in source.rows():
        if row - 1 > limit:
            break
        record = parse_customer_row(row, values)
        assert isinstance(record, CustomerRecord)
        customer = Customer(customer_no=record.customer_no, name=record.name, phone=record.phone,
                            email=record.email, name_incomplete=record.name_incomplete)
        session.add(customer)
        session.flush()
        address = Address(customer_id=customer.id, **record.address.fields, normalized=record.address.normalized,
                          fingerprint=record.address.fingerprint, household_key=record.address.household_key)
        session.add(address)
        session.flush()
        session.add(AddressEvent(address_id=address.id, customer_id=customer.id, kind=AddressEventKind.CREATED,
                                 changes={}, source=ChangeSource.IMPORT, actor="bench"))
        session.flush()
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=5_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        path = folder / "customers.csv"
        write_csv(generate_customers(args.rows, seed=7), path, columns=CUSTOMER_COLUMNS)

        with fresh_app(folder, "baseline.sqlite3").app_context():
            started = time.perf_counter()
            naive_import(path, args.baseline_rows)
            baseline_rate = args.baseline_rows / (time.perf_counter() - started)

        with fresh_app(folder, "import.sqlite3").app_context():
            started = time.perf_counter()
            report = import_customers(db.session, path=path, actor="bench")
            db.session.commit()
            seconds = time.perf_counter() - started
            assert report.created == args.rows, report.as_dict()

            started = time.perf_counter()
            again = import_customers(db.session, path=path, actor="bench")
            db.session.commit()
            reimport_seconds = time.perf_counter() - started
            assert again.unchanged == args.rows

    rate = args.rows / seconds
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print("| import | rows | seconds | rows/s | × baseline |")
    print("|---|---:|---:|---:|---:|")
    print(f"| naive ORM, flush per row (baseline) | {args.baseline_rows:,} | "
          f"{args.baseline_rows / baseline_rate:.2f} | {baseline_rate:,.0f} | 1.0 |")
    print(f"| `customers import`, new customers | {args.rows:,} | {seconds:.2f} | {rate:,.0f} | "
          f"{rate / baseline_rate:.1f} |")
    print(f"| `customers import`, same file again (all unchanged) | {args.rows:,} | {reimport_seconds:.2f} | "
          f"{args.rows / reimport_seconds:,.0f} | {args.rows / reimport_seconds / baseline_rate:.1f} |")
    print(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
