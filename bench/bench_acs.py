"""Benchmark importing a USPS ACS fulfillment file of 100,000 notices against our own returns CSV.

Builds the database of ``bench_returns.py`` (250,000 US customers mailed four catalogs: 1,000,000
pieces, SQLite, migrated by the project's migrations), gives the pieces of batches 2 and 3 Intelligent
Mail barcode serials under one Mailer ID, and copies the file, so both imports start from the same
state. Then:

- ACS: ``returns import`` of a fixed-length ACS file (header and 100,000 detail records of 700
  characters), 90% of the notices naming the piece by IMb serial and 10% by keyline; deliverability
  codes in the mix of ``bench_returns.py`` (about 8% changes of address with a new address, move
  types F, I and B);
- baseline, same run, on the copy: the same notices written as our own returns CSV (piece code,
  USPS letter, date, new address) through the same ``returns import``;
- the ACS file again (every notice already recorded).

    .venv/bin/python bench/bench_acs.py                    # the full run
    .venv/bin/python bench/bench_acs.py --write-readme     # and update the ACS section of bench/README.md
    .venv/bin/python bench/bench_acs.py --size 5000 --customers 20000   # a small run, to iterate quickly
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import bench_returns  # noqa: E402
from readme_sections import cpu_name, write_section  # noqa: E402

from mailer import create_app  # noqa: E402
from mailer.db import db, make_engine  # noqa: E402
from returns.acs import DETAIL_FIELDS, HEADER_FIELDS, format_fixed  # noqa: E402
from returns.importing import RETURN_COLUMNS, import_returns  # noqa: E402

SECTION = "## ACS files"
NOTICES = 100_000
TARGET_SECONDS = 30.0
MAILER_ID = "123456"
# Our reasons as ACS deliverability codes (blank: moved with a new address).
CODE_OF = {"MLNA": "K", "UNC": "U", "TA": "W", "ANK": "A", "IA": "I", "NSN": "N", "VAC": "V", "MOVED": " ",
           "REF": "R", "ORG": "G", "ILL": "L", "OTH": "Q", "DEC": "P"}
COA = {" ", "K", "G", "W"}


def give_serials(path: Path) -> None:
    """Store an IMb serial (the piece id) on the pieces of batches 2 and 3, as a render would."""
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE mail_pieces SET imb_mailer_id = ?, imb_serial = id, "
            "imb_digits = '00270' || ? || substr('000000000' || id, -9) || postal_code WHERE batch_id IN (2, 3)",
            (MAILER_ID, MAILER_ID),
        )
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def notices(path: Path, count: int, rng: random.Random) -> list[dict[str, str]]:
    """Return ``count`` notices for distinct pieces of batches 2 and 3, with what our CSV needs beside them."""
    connection = sqlite3.connect(path)
    pieces = connection.execute(
        "SELECT id, piece_code, postal_code FROM mail_pieces WHERE batch_id IN (2, 3)"
    ).fetchall()
    connection.close()
    chosen = rng.sample(pieces, count)
    reasons = rng.choices(list(bench_returns.REASON_SHARE), weights=list(bench_returns.REASON_SHARE.values()), k=count)
    result = []
    for sequence, ((piece_id, code, postal_code), reason) in enumerate(zip(chosen, reasons, strict=True), start=1):
        letter = CODE_OF[reason]
        fulfilled = dt.date(2026, 10, 1) + dt.timedelta(days=rng.randrange(40))
        by_keyline = rng.random() < 0.1
        values = {
            "record_type": "D", "file_version": "02", "sequence_number": f"{sequence:08d}", "acs_mailer_id": MAILER_ID,
            "keyline_serial": code if by_keyline else f"{piece_id:09d}",
            "move_effective_date": (fulfilled - dt.timedelta(days=20)).strftime("%Y%m%d") if letter in COA else "",
            "move_type": rng.choice("FFIIIB") if letter in COA else "", "deliverability_code": letter,
            "usps_site_id": "077", "last_name": "CUSTOMER" if letter in COA else "", "old_zip": postal_code,
            "intelligent_mail_barcode": "" if by_keyline else f"00270{MAILER_ID}{piece_id:09d}{postal_code}",
            "fulfillment_date": fulfilled.strftime("%Y%m%d"), "end_marker": "#",
            "piece_code": code,
        }
        if letter == " ":
            values.update(new_address_type="S", new_primary_number=str(rng.randrange(1, 9999)),
                          new_street_name="MAPLE", new_street_suffix="AVE", new_city="PEORIA", new_state="IL",
                          new_zip=f"{61600 + rng.randrange(50)}")
        result.append(values)
    return result


def write_acs(path: Path, details: list[dict[str, str]]) -> None:
    coa = sum(1 for d in details if d["deliverability_code"] in COA)
    head = {"record_type": "H", "file_version": "02", "customer_id": MAILER_ID, "create_date": "20261115",
            "shipment_number": "0000000001", "total_acs_record_count": f"{len(details):09d}",
            "total_coa_count": f"{coa:09d}", "total_nixie_count": f"{len(details) - coa:09d}", "end_marker": "#"}
    with path.open("w", encoding="ascii", newline="") as handle:
        handle.write(format_fixed(head, HEADER_FIELDS) + "\r\n")
        for values in details:
            handle.write(format_fixed(values, DETAIL_FIELDS) + "\r\n")


def write_ours(path: Path, details: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(RETURN_COLUMNS))
        writer.writeheader()
        for d in details:
            code = d["deliverability_code"]
            fulfilled = d["fulfillment_date"]
            row = {"piece_code": d["piece_code"], "reason": "MOVED" if code == " " else code,
                   "returned_at": f"{fulfilled[:4]}-{fulfilled[4:6]}-{fulfilled[6:]}"}
            if code == " ":
                row.update(new_line1=f"{d['new_primary_number']} MAPLE AVE", new_city="PEORIA", new_region="IL",
                           new_postal_code=d["new_zip"], new_country="US")
            writer.writerow(row)


def timed_import(database: Path, path: Path) -> dict[str, Any]:
    app = create_app({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench"})
    with app.app_context():
        started, cpu_started = time.perf_counter(), time.process_time()
        report = import_returns(db.session, path=path, actor="bench")
        db.session.commit()
        result = {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu_started,
                  "load": os.getloadavg()[0], **report.as_dict()}
        db.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--size", type=int, default=NOTICES, help="notices in the file")
    parser.add_argument("--customers", type=int, default=bench_returns.CUSTOMERS, help="customers (4 pieces each)")
    parser.add_argument("--write-readme", action="store_true", help="write the results to bench/README.md")
    args = parser.parse_args()
    if args.write_readme and (args.size != NOTICES or args.customers != bench_returns.CUSTOMERS):
        parser.error("--write-readme records the full run only")
    bench_returns.CUSTOMERS = args.customers
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        database, copy = folder / "acs.sqlite3", folder / "csv.sqlite3"
        started = time.perf_counter()
        bench_returns.build_database(database, seed=args.seed)
        give_serials(database)
        shutil.copyfile(database, copy)
        build_seconds = time.perf_counter() - started
        print(f"built {args.customers * 4:,} pieces in {build_seconds:.0f} s", flush=True)
        details = notices(database, args.size, rng)
        acs_file, our_file = folder / "acs.txt", folder / "returns.csv"
        write_acs(acs_file, details)
        write_ours(our_file, details)
        baseline = timed_import(copy, our_file)
        print(f"our CSV: {baseline}", flush=True)
        first = timed_import(database, acs_file)
        print(f"ACS: {first}", flush=True)
        again = timed_import(database, acs_file)
        print(f"ACS again: {again}", flush=True)

    rows = args.size
    coa_share = sum(1 for d in details if d["deliverability_code"] == " ") / rows
    met = "met" if first["seconds"] < TARGET_SECONDS else "NOT met"
    section = f"""{SECTION}

`bench/bench_acs.py`, run {dt.date.today()} on {cpu_name()} ({os.cpu_count()} cores, shared with other work),
Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}. The database of `bench_returns.py`
({args.customers * 4:,} pieces, built in {build_seconds:.0f} s) with Intelligent Mail barcode serials on two
batches, copied so both imports start from the same state. The ACS file: a header and {rows:,} fixed-length
detail records (700 characters), 90% matched by IMb serial and 10% by keyline, deliverability codes in the mix
of postal returns ({coa_share:.0%} changes of address with a new address, move types F, I and B). Baseline,
same run: the same notices as our own returns CSV through the same `returns import`.

| import | notices | seconds | CPU seconds | rejected | × baseline (time) | × baseline (CPU) |
|---|---:|---:|---:|---:|---:|---:|
| our returns CSV (baseline) | {rows:,} | {baseline['seconds']:.2f} | {baseline['cpu_seconds']:.2f} | \
{baseline['rejected']} | 1.00 | 1.00 |
| ACS fixed-length file | {rows:,} | {first['seconds']:.2f} | {first['cpu_seconds']:.2f} | {first['rejected']} | \
{first['seconds'] / baseline['seconds']:.2f} | {first['cpu_seconds'] / baseline['cpu_seconds']:.2f} |
| ACS file again (all already recorded) | {rows:,} | {again['seconds']:.2f} | {again['cpu_seconds']:.2f} | \
{again['rejected']} | {again['seconds'] / baseline['seconds']:.2f} | \
{again['cpu_seconds'] / baseline['cpu_seconds']:.2f} |

Target: {NOTICES:,} ACS notices under {TARGET_SECONDS:.0f} s — {met} in wall time, \
{"met" if first["cpu_seconds"] < TARGET_SECONDS else "NOT met"} in CPU time ({first['cpu_seconds']:.1f} s). The load \
average at the start of the ACS import was {first['load']:.1f} on {os.cpu_count()} cores: wall time here is mostly \
waiting for a core, so compare the CPU seconds and the ratios. What the ACS file adds to our own CSV is reading
the 700-character records and matching serials to pieces; the rest is the recording both share
(`returns/recording.py`), whose CPU time for our CSV alone is the baseline's.
"""
    print(section)
    if args.write_readme:
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
