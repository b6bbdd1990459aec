"""Benchmark the customer search at a million customers, against a LIKE '%term%' scan in the same run.

Builds (once, then reuses) a database whose schema comes from the migrations: generated customers
(60% in China, 40% in the US) with a current address each, and the search terms the app writes
for them (``mailer.customers.search.search_terms``, pinyin included). Then times the first page of
the customer list, searched as a marketer types (a surname in lower case, a given name, pinyin for
a Chinese surname, a customer number in lower case, an email, a phone with punctuation, a postcode,
two words, a word nobody has), through the service the page calls (``list_customers``), the median
of --repeat runs each.

The baseline, in the same run and on the same rows, is the same page found with the query a
search without an index uses: ``lower(column) LIKE '%term%'`` over name, customer number, email and
phone, and the postcode, OR-ed. It is fast when many customers match (the first 50 by id come
early) and reads every row when few or none do.

    .venv/bin/python bench/bench_search.py --customers 1000000                 # SQLite, print only
    .venv/bin/python bench/bench_search.py --customers 1000000 --write-readme  # and update bench/README.md
    .venv/bin/python bench/bench_search.py --postgresql                        # PostgreSQL (a scratch database)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from readme_sections import cpu_name, write_section  # noqa: E402
from sqlalchemy import Engine, and_, func, insert, or_, select, text  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from mailer.addresses.models import Address  # noqa: E402
from mailer.customers.models import Customer, CustomerSearchTerm  # noqa: E402
from mailer.customers.search import search_terms  # noqa: E402
from mailer.customers.service import CustomerFilters, CustomerListRow, customer_list_query, list_customers  # noqa: E402
from mailer.db import make_engine  # noqa: E402
from mailer.demo.generate import generate_customers  # noqa: E402
from mailer.pagination import keyset_page  # noqa: E402
from mailer.schema import upgrade_schema  # noqa: E402

SECTION = "## Customer search"
DEFAULT_DB = Path("/tmp/mailer-bench-search.sqlite3")
CHUNK = 10_000
BUDGET_MS = 100
WHY_A_TERMS_TABLE = [
    "",
    "Why a table of terms and not SQLite FTS5 or PostgreSQL pg_trgm / full-text search: the search must",
    "give the same customers on both databases (the tests run every query on both), and FTS5, trigrams",
    "and `tsvector` each tokenize, stem and rank in their own way. A word typed must begin a word of the",
    "customer (\"nath\" finds Nathan, \"ang\" does not find Wang): that is a prefix range on a btree,",
    "where trigrams would also find words inside words and need three characters, and `to_tsvector`",
    "stems (\"collins\" → \"collin\"). Chinese names are found by their pinyin (\"wang\", \"xiaoming\",",
    "\"wangxiaoming\"), which no database tokenizer writes: the terms are folded once, in Python, when a",
    "customer is written (pypinyin, NFKC, no case or accents), and a search folds what is typed the same",
    "way. The table needs no extension (pg_trgm is not installed everywhere) and no second index",
    "language to keep in step.",
]


def build_database(engine: Engine, customers: int, seed: int) -> None:
    """Create the schema by the migrations, then insert customers, addresses and search terms in bulk."""
    with engine.begin() as connection:
        upgrade_schema(connection)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    customer_id = 0
    rows = generate_customers(customers, seed=seed)
    while chunk := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
        customer_rows, address_rows, term_rows = [], [], []
        for row in chunk:
            customer_id += 1
            customer_rows.append({
                "id": customer_id, "customer_no": row["customer_no"], "name": row["name"], "name_incomplete": False,
                "phone": row["phone"] or None, "email": row["email"] or None, "status": "active",
                "created_at": now, "updated_at": now,
            })
            key = f"{row['line1']}|{row['city']}|{row['postal_code']}".lower()
            digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
            address_rows.append({
                "customer_id": customer_id, "line1": row["line1"], "line2": row["line2"] or None,
                "city": row["city"], "region": row["region"] or None, "postal_code": row["postal_code"],
                "country": row["country"], "normalized": key, "fingerprint": digest, "household_key": digest,
                "validity": "unverified", "is_current": True, "created_at": now, "updated_at": now,
            })
            terms = search_terms(
                customer_no=row["customer_no"], name=row["name"], phone=row["phone"] or None,
                email=row["email"] or None,
            )
            term_rows.extend({"customer_id": customer_id, "term": term} for term in terms)
        with engine.begin() as connection:
            connection.execute(insert(Customer.__table__), customer_rows)
            connection.execute(insert(Address.__table__), address_rows)
            connection.execute(insert(CustomerSearchTerm.__table__), term_rows)
        print(f"\r  {customer_id:,} customers", end="", file=sys.stderr, flush=True)
    print(f"\n  built in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def database_is_ready(engine: Engine, customers: int) -> bool:
    """Tell whether the database already holds the benchmark's customers and their terms."""
    try:
        with engine.connect() as connection:
            return bool(
                connection.scalar(select(func.max(Customer.id))) == customers
                and connection.scalar(select(func.max(CustomerSearchTerm.customer_id))) == customers
            )
    except DBAPIError:  # no schema yet
        return False


def like_scan_page(session: Session, typed: str) -> list[CustomerListRow]:
    """Return the first page of the list found by a LIKE '%term%' scan (the baseline)."""
    term = typed.strip().lower()
    pattern = f"%{term}%"
    condition = or_(
        func.lower(Customer.name).like(pattern), func.lower(Customer.customer_no).like(pattern),
        func.lower(Customer.email).like(pattern), Customer.phone.like(pattern),
        Address.postal_code.like(f"%{term.upper()}%"),
    )
    page = keyset_page(session, customer_list_query(CustomerFilters()).where(condition), key=Customer.id)
    return [CustomerListRow(**row._asdict()) for row in page.items]


def searched_page(session: Session, typed: str) -> list[CustomerListRow]:
    """Return the first page of the list as the customer page's search finds it."""
    return list_customers(session, filters=CustomerFilters(search=typed)).items


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Return the median and the 95th percentile wall time of ``call`` in milliseconds, after a warm-up call."""
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    return statistics.median(times), p95


def searches(session: Session, customers: int) -> list[tuple[str, str]]:
    """Return (what, typed) pairs: words a marketer types, taken from customers deep in the file."""
    deep = session.execute(
        select(Customer.customer_no, Customer.name, Customer.email, Customer.phone, Address.postal_code)
        .join(Address, and_(Address.customer_id == Customer.id, Address.is_current))
        .where(Customer.id >= int(customers * 0.9), Customer.email.is_not(None), Customer.phone.is_not(None))
        .order_by(Customer.id)
        .limit(400)
    ).all()
    us = next(row for row in deep if row.name.isascii() and len(row.name.split()) == 2)
    cn = next(row for row in deep if not row.name.isascii() and len(row.name) == 3)
    given, surname = us.name.split()
    digits = "".join(ch for ch in us.phone if ch.isdigit())[-10:]
    return [
        ("a US surname in lower case", surname.lower()),
        ("a given name in lower case", given.lower()),
        ("pinyin of a Chinese surname", "wang"),
        ("a Chinese name in characters", cn.name),
        ("a customer number in lower case", cn.customer_no.lower()),
        ("an email", cn.email),
        ("a phone typed with other punctuation", f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"),
        ("a postcode", us.postal_code),
        ("two words: given name and surname", f"{given} {surname}"),
        ("two common words rarely together (pinyin)", "zhang wei"),
        ("two common words often together (pinyin)", "wang li"),
        ("one letter", "m"),
        ("a word nobody has", "xanthippe"),
    ]


def render_section(results: list[dict[str, Any]], *, customers: int, backend: str, loads: tuple[float, float]) -> str:
    """Return the bench/README.md section for these results."""
    machine = f"{cpu_name()}, {platform.system()}, Python {platform.python_version()}"
    heading = SECTION if backend == "SQLite" else f"{SECTION} ({backend})"
    lines = [
        heading,
        "",
        f"`bench/bench_search.py --customers {customers}` ({backend}), {dt.date.today().isoformat()}, {machine}.",
        "The first page (50 rows) of the customer list as the page's search finds it (`list_customers`),",
        "median and 95th percentile of the repeats, against the same page found by a",
        "`lower(column) LIKE '%term%'` scan of name, customer number, email, phone and postcode in the same",
        "run (median). The search reads the `customer_search_terms` index (a prefix range per word) and the",
        f"addresses' postcode index. Load average {loads[0]:.1f} when the timing started and {loads[1]:.1f} when it",
        f"ended, on {os.cpu_count()} cores (other jobs shared the machine).",
        "",
        "| typed | rows | search median | search p95 | LIKE scan | scan ÷ search |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result['what']} (`{result['typed']}`) | {result['rows']} | {result['search_ms']:.1f} ms"
            f" | {result['search_p95_ms']:.1f} ms | {result['scan_ms']:.1f} ms"
            f" | {result['scan_ms'] / result['search_ms']:.1f}× |"
        )
    slowest = max(result["search_ms"] for result in results)
    slowest_p95 = max(result["search_p95_ms"] for result in results)
    lines += [
        "",
        f"Slowest search median {slowest:.1f} ms, slowest p95 {slowest_p95:.1f} ms (budget {BUDGET_MS} ms).",
        "A word with at most 5,000 index rows is read from the index and only its customers are listed; a",
        "more common one is checked customer by customer while the list is walked in id order. Several",
        "common words are first checked on the first 2,000 customers: when 5 or more have them all",
        "(\"wang li\"), the list is walked; when they are rare together (\"zhang wei\"), each word's ids are",
        "read in index order, up to 70,000 rows a word, straight from the driver's cursor, and intersected;",
        "a word too common for that (\"li\", \"m\") is checked on the shared ids.",
        "The scan finds the first 50 of a common word quickly, because they come early in id order, but",
        "reads every customer for a rare one; it also finds words inside words (\"ang\" in \"Wang\") and",
        "knows no pinyin, so its rows differ.",
    ]
    if backend == "SQLite":
        lines += WHY_A_TERMS_TABLE
    else:
        lines += ["", "The same searches and the same answers as on SQLite (see \"Customer search\" above for why the",
                  "index is a table of terms rather than pg_trgm or full-text search)."]
    return "\n".join(lines) + "\n"


@contextmanager
def _scratch_postgres_database(kept: str | None) -> Iterator[str]:
    """Yield the URL of a PostgreSQL database for this run, dropped afterwards unless it is ``kept``.

    A kept database (``--keep-postgresql NAME``) is built once and reused by the next runs; drop it
    with ``--drop-postgresql NAME``.
    """
    from tests.databases import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database, postgres_admin

    if kept is None:
        name = f"mailer_bench_search_{os.getpid()}"
        url = create_postgres_database(name)
        try:
            yield url
        finally:
            drop_postgres_database(name)
        return
    exists = make_engine(POSTGRES_ADMIN_URL)
    with exists.connect() as connection:
        found = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": kept})
    exists.dispose()
    if not found:
        postgres_admin(f'CREATE DATABASE "{kept}"')
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{kept}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="the SQLite file (built once, then reused)")
    parser.add_argument("--postgresql", action="store_true", help="use a scratch PostgreSQL database instead")
    parser.add_argument("--keep-postgresql", metavar="NAME", help="build PostgreSQL database NAME once and keep it")
    parser.add_argument("--drop-postgresql", metavar="NAME", help="drop a kept PostgreSQL database and stop")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    if args.drop_postgresql:
        from tests.databases import drop_postgres_database

        drop_postgres_database(args.drop_postgresql)
        return
    args.postgresql = args.postgresql or args.keep_postgresql is not None

    scratch: AbstractContextManager[str] = (
        _scratch_postgres_database(args.keep_postgresql) if args.postgresql else nullcontext(f"sqlite:///{args.db}")
    )
    with scratch as url:
        engine = make_engine(url)
        if not database_is_ready(engine, args.customers):
            if not args.postgresql:
                engine.dispose()
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{args.db}{suffix}").unlink(missing_ok=True)
                engine = make_engine(url)
            build_database(engine, args.customers, args.seed)
        if args.postgresql:
            # What autovacuum does after a bulk load: planner statistics, and the visibility map that
            # lets index-only scans skip the table.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        results = []
        load_before = os.getloadavg()[0]
        with Session(engine) as session:
            for what, typed in searches(session, args.customers):
                rows = searched_page(session, typed)
                search_ms, search_p95_ms = timed(lambda typed=typed: searched_page(session, typed), args.repeat)
                scan_ms, _ = timed(lambda typed=typed: like_scan_page(session, typed), max(3, args.repeat // 5))
                results.append({"what": what, "typed": typed, "rows": len(rows), "search_ms": search_ms,
                                "search_p95_ms": search_p95_ms, "scan_ms": scan_ms})
                print(f"{what:44} {typed!r:28} {len(rows):3} rows  search {search_ms:7.1f} ms"
                      f" (p95 {search_p95_ms:7.1f})  scan {scan_ms:8.1f} ms", flush=True)
        load_after = os.getloadavg()[0]
        engine.dispose()
    backend = "PostgreSQL" if args.postgresql else "SQLite"
    section = render_section(results, customers=args.customers, backend=backend, loads=(load_before, load_after))
    print(section)
    if args.write_readme:
        write_section(section.split("\n", 1)[0], section)

if __name__ == "__main__":
    main()
