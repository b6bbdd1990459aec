"""Benchmark the staff pages on a SQLite database of a million customers.

Builds (once, then reuses) a SQLite file whose schema comes from the migrations and whose rows
are inserted in bulk, bypassing the import for speed: generated customers with a current
address each, 5% of them with an older superseded address, address history, orders, and a
spread of statuses, validities and churn risks. A second step, also done once, mails four
rendered batches of a campaign and stores about 50,000 returns of their pieces (dated over the
last half year), then runs the churn refresh, which scores every customer from the orders and
returns and stores the retention list's spend at stake. A file built before a newer migration
is upgraded first.

Then times pages through the Flask test client, logged in as marketing, the median of --repeat
requests each: the customer list's first page, a keyset page 900,000 customers deep, filtered
pages, a name search, a customer page, the retention list (first page, a keyset page deep in it,
filtered) and the dashboard with its charts (returns per week by reason included). As a
baseline, the same deep customer page is served by the same view and template with OFFSET
pagination, in the same run. The retention list's CSV download is timed once, whole.

    .venv/bin/python bench/bench_web.py                 # print only
    .venv/bin/python bench/bench_web.py --write-readme  # and update bench/README.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from readme_sections import write_section  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from mailer import create_app  # noqa: E402
from mailer.addresses.models import Address  # noqa: E402
from mailer.auth.models import Role, User  # noqa: E402
from mailer.auth.service import create_user  # noqa: E402
from mailer.churn.retention import RetentionFilters, count_listed, retention_list  # noqa: E402
from mailer.churn.service import refresh_churn  # noqa: E402
from mailer.customers.models import Customer  # noqa: E402
from mailer.customers.search import search_terms  # noqa: E402
from mailer.customers.service import CustomerFilters, CustomerListRow, customer_list_query  # noqa: E402
from mailer.db import db, make_engine  # noqa: E402
from mailer.demo.generate import generate_customers, generate_orders  # noqa: E402
from mailer.pagination import Page  # noqa: E402
from mailer.schema import upgrade_schema  # noqa: E402

README = ROOT / "bench" / "README.md"
SECTION = "## Web pages"
DEFAULT_DB = Path("/tmp/mailer-bench-web.sqlite3")
EMAIL, PASSWORD = "bench@example.com", "bench password 1"
CHUNK = 20_000
MOVER_SHARE = 0.05
BUDGET_MS = 300
STATUSES = (("active", 0.95), ("do_not_mail", 0.03), ("deceased", 0.015), ("merged", 0.005))
VALIDITIES = (("unverified", 0.78), ("deliverable", 0.15), ("suspect", 0.04), ("undeliverable", 0.03))
SCORED_SHARE = 0.85
# Returned mail: pieces mailed in four batches a few weeks apart, this many of them returned.
RETURNS = 50_000
MAILED_PER_BATCH = 250_000
BATCH_AGES_DAYS = (170, 120, 70, 25)
# Returned pieces per reason code, relative; deceased returns are rare.
REASON_SHARE = {"MLNA": 4, "UNC": 4, "TA": 2, "ANK": 3, "IA": 1, "NSN": 1, "VAC": 2, "MOVED": 3, "REF": 1,
                "ORG": 0.5, "ILL": 0.5, "OTH": 1, "DEC": 0.4}


def _stamp(moment: dt.datetime) -> str:
    # How SQLAlchemy stores a DateTime on SQLite.
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    point, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if point < total:
            return value
    return weighted[-1][0]


def _chunks(rows: Iterator[dict[str, str]], size: int) -> Iterator[list[dict[str, str]]]:
    chunk: list[dict[str, str]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build_database(path: Path, customers: int, seed: int) -> None:
    """Create the schema by the migrations, then insert generated rows in bulk."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        upgrade_schema(connection)
    engine.dispose()

    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    customer_id = address_id = 0
    numbers: list[str] = []
    for chunk in _chunks(generate_customers(customers, seed=seed), CHUNK):
        customer_rows, address_rows, event_rows, term_rows = [], [], [], []
        for row in chunk:
            customer_id += 1
            # The words the customer list's search finds the customer by, as the import writes them.
            term_rows.extend(
                (customer_id, term)
                for term in search_terms(customer_no=row["customer_no"], name=row["name"],
                                         phone=row["phone"] or None, email=row["email"] or None)
            )
            numbers.append(row["customer_no"])
            created = now - dt.timedelta(days=rng.randint(30, 2000))
            scored = rng.random() < SCORED_SHARE
            risk = min(rng.betavariate(1.6, 3.2), 1.0) if scored else None
            explanation = (
                json.dumps([{"kind": "result", "text": f"Churn risk: {risk:.0%}.", "risk_after": risk}])
                if scored else None
            )
            customer_rows.append((
                customer_id, row["customer_no"], row["name"], 0, row["phone"] or None, row["email"] or None,
                _pick(rng, STATUSES), risk, explanation, _stamp(now) if scored else None,
                _stamp(created), _stamp(created),
            ))
            addresses = [(row["line1"], row["postal_code"])]
            if rng.random() < MOVER_SHARE:  # an older address, superseded by the current one
                addresses.insert(0, (f"{rng.randint(1, 999)} {row['line1']}", row["postal_code"]))
            for index, (line1, postal_code) in enumerate(addresses):
                address_id += 1
                current = index == len(addresses) - 1
                text = f"{line1}|{row['line2']}|{row['city']}|{row['region']}|{postal_code}|{row['country']}".lower()
                digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
                address_rows.append((
                    address_id, customer_id, line1, row["line2"] or None, row["city"], row["region"] or None,
                    postal_code, row["country"], text, digest, digest,
                    _pick(rng, VALIDITIES) if current else "superseded", 1 if current else 0,
                    "unverifiable", _stamp(created), _stamp(created),
                ))
                changes = json.dumps({"line1": [None, line1], "city": [None, row["city"]]}, ensure_ascii=False)
                event_rows.append((address_id, customer_id, "created", changes, "import", "bench", _stamp(created)))
                if not current:
                    event_rows.append((
                        address_id, customer_id, "superseded",
                        json.dumps({"validity": ["unverified", "superseded"], "is_current": [True, False]}),
                        "import", "bench", _stamp(created),
                    ))
        connection.executemany(
            "INSERT INTO customers (id, customer_no, name, name_incomplete, phone, email, status, churn_risk, "
            "churn_explanation, churn_scored_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            customer_rows,
        )
        connection.executemany(
            "INSERT INTO addresses (id, customer_id, line1, line2, city, region, postal_code, country, normalized, "
            "fingerprint, household_key, validity, is_current, verification, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            address_rows,
        )
        connection.executemany(
            "INSERT INTO address_events (address_id, customer_id, kind, changes, source, actor, created_at) "
            "VALUES (?,?,?,?,?,?,?)",
            event_rows,
        )
        connection.executemany("INSERT INTO customer_search_terms (customer_id, term) VALUES (?,?)", term_rows)
        print(f"\r  {customer_id:,} customers", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    number_to_id = {number: index + 1 for index, number in enumerate(numbers)}
    order_rows = (
        (number_to_id[order["customer_no"]], order["order_date"], round(float(order["amount"]) * 100), _stamp(now))
        for order in generate_orders(numbers, as_of=now.date(), seed=seed)
    )
    while batch := [row for _, row in zip(range(CHUNK * 5), order_rows, strict=False)]:
        connection.executemany(
            "INSERT INTO orders (customer_id, ordered_on, amount_cents, created_at) VALUES (?,?,?,?)", batch
        )
    connection.commit()
    # No ANALYZE: the app never runs it, so the planner works without statistics, as in production.
    connection.close()
    print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def database_is_ready(path: Path, customers: int) -> bool:
    """Tell whether the file already holds the benchmark's customers."""
    if not path.exists():
        return False
    try:
        with sqlite3.connect(path) as connection:
            return connection.execute("SELECT max(id) FROM customers").fetchone()[0] == customers
    except sqlite3.Error:
        return False


def returns_are_ready(path: Path) -> bool:
    """Tell whether the returns step ran to the end: returns stored and the churn refresh committed."""
    with sqlite3.connect(path) as connection:
        returns = connection.execute("SELECT count(*) FROM mail_returns").fetchone()[0]
        refreshed = connection.execute("SELECT count(*) FROM audit_log WHERE action = 'churn.refresh'").fetchone()[0]
    return returns > 0 and refreshed > 0


def add_returns_and_refresh(path: Path, seed: int) -> None:
    """Mail four rendered batches, store returns of some of their pieces, and refresh every churn risk."""
    rng = random.Random(seed + 1)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("DELETE FROM mail_returns")
    connection.execute("DELETE FROM mail_pieces")
    connection.execute("DELETE FROM batch_files")
    connection.execute("DELETE FROM batches")
    connection.execute("DELETE FROM campaigns")
    addresses = connection.execute(
        "SELECT a.customer_id, a.id, a.postal_code, a.country FROM addresses a JOIN customers c "
        "ON c.id = a.customer_id WHERE a.is_current AND c.status IN ('active', 'do_not_mail') ORDER BY a.customer_id"
    ).fetchall()
    connection.execute(
        "INSERT INTO campaigns (id, name, created_at, created_by) VALUES (1, 'Bench catalog', ?, 'bench')",
        (_stamp(now - dt.timedelta(days=max(BATCH_AGES_DAYS) + 5)),),
    )
    codes, weights = list(REASON_SHARE), list(REASON_SHARE.values())
    piece_id = 0
    for batch_id, age in enumerate(BATCH_AGES_DAYS, start=1):
        mailed = now - dt.timedelta(days=age)
        recipients = rng.sample(addresses, MAILED_PER_BATCH)
        connection.execute(
            "INSERT INTO batches (id, campaign_id, profile, status, filters, left_out, piece_count, "
            "update_expires_on, print_problem, created_at, created_by, rendered_at) "
            "VALUES (?, 1, 'us-10', 'rendered', '{}', '{}', ?, ?, 0, ?, 'bench', ?)",
            (batch_id, len(recipients), (mailed + dt.timedelta(days=365)).date().isoformat(), _stamp(mailed),
             _stamp(mailed)),
        )
        pieces, returns = [], []
        for sequence, (customer_id, address_id, postal_code, country) in enumerate(recipients, start=1):
            piece_id += 1
            pieces.append((piece_id, batch_id, customer_id, address_id, f"B{piece_id:07d}", sequence,
                           postal_code[:3], '["bench"]', postal_code, country, 1, "ready"))
            if rng.random() < RETURNS / (MAILED_PER_BATCH * len(BATCH_AGES_DAYS)):
                back = mailed + dt.timedelta(days=rng.randint(4, 24), hours=rng.randint(8, 17))
                reason = rng.choices(codes, weights)[0]
                returns.append((piece_id, batch_id, customer_id, address_id, reason, reason, "scan", _stamp(back),
                                _stamp(back), "mailroom@example.com", 1, 0))
        # Rendered into PDF files of 10,000 pieces, front and back.
        connection.executemany(
            "INSERT INTO batch_files (batch_id, file_no, first_sequence, last_sequence, file_name, status, pages, "
            "rendered_at) VALUES (?, ?, ?, ?, ?, 'done', ?, ?)",
            [
                (batch_id, number, first, last, f"batch-{batch_id}-{number:03d}.pdf", 2 * (last - first + 1),
                 _stamp(mailed))
                for number, first in enumerate(range(1, len(recipients) + 1, 10_000), start=1)
                for last in [min(first + 9_999, len(recipients))]
            ],
        )
        connection.executemany(
            "INSERT INTO mail_pieces (id, batch_id, customer_id, address_id, piece_code, sequence, bundle, lines, "
            "postal_code, country, household_size, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            pieces,
        )
        connection.executemany(
            "INSERT INTO mail_returns (piece_id, batch_id, customer_id, address_id, reason, given_as, source, "
            "returned_at, recorded_at, actor, is_current, address_unchanged) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            returns,
        )
    connection.commit()
    connection.close()
    print(f"  {piece_id:,} pieces mailed, returns stored in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    started = time.perf_counter()
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        report = refresh_churn(session, as_of=now.date(), actor="bench")
        session.commit()
    engine.dispose()
    print(f"  churn refresh of {report.scored:,} customers in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def timed(call: Callable[[], object], repeat: int) -> float:
    """Return the median milliseconds of ``repeat`` calls, after two warm-up calls."""
    for _ in range(2):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"the SQLite file (default {DEFAULT_DB})")
    parser.add_argument("--rebuild", action="store_true", help="build the database even if it exists")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page (median reported)")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--write-readme", action="store_true", help="write the results to bench/README.md")
    args = parser.parse_args()

    if args.rebuild or not database_is_ready(args.db, args.customers):
        print(f"building {args.db} with {args.customers:,} customers …", file=sys.stderr)
        build_database(args.db, args.customers, args.seed)
    engine = make_engine(f"sqlite:///{args.db}")
    with engine.begin() as connection:  # a file built before a newer migration
        upgrade_schema(connection)
    engine.dispose()
    if args.rebuild or not returns_are_ready(args.db):
        print("mailing batches, storing returns and refreshing churn risks …", file=sys.stderr)
        add_returns_and_refresh(args.db, args.seed)

    app = create_app({
        "DATABASE_URL": f"sqlite:///{args.db}", "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
    })
    deep = int(args.customers * 0.9)
    with app.app_context():
        session = db.session
        if session.scalar(select(User.id).where(User.email == EMAIL)) is None:
            create_user(session, email=EMAIL, password=PASSWORD, role=Role.MARKETING, actor="bench")
            session.commit()
        counts = {
            "customers": session.scalar(select(func.count(Customer.id))),
            "addresses": session.scalar(select(func.count(Address.id))),
            "returns": session.scalar(text("SELECT count(*) FROM mail_returns")),
            "pieces": session.scalar(text("SELECT count(*) FROM mail_pieces")),
        }
        listed = count_listed(session, filters=RetentionFilters())
        counts["listed"] = listed
        # A page 90% of the way down the retention list: after the cursor of the customer just above it.
        above = next(itertools.islice(retention_list(session, min_risk=0.7), int(listed * 0.9), None))
        deep_cursor = above.cursor
        region = session.scalar(
            select(Address.region)
            .where(Address.customer_id >= deep, Address.country == "CN", Address.region.is_not(None))
            .limit(1)
        )
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', login_page).group(1)  # type: ignore[union-attr]
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}).status_code == 302

    def get(url: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return call

    def search(term: str) -> Callable[[], object]:
        def call() -> object:
            page = client.get("/customers").get_data(as_text=True)
            csrf = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            client.post("/customers/search", data={"q": term, "csrf_token": csrf})
            return get("/customers")()

        return call

    surname = "王"
    pages: list[tuple[str, Callable[[], object]]] = [
        ("customers, first page", get("/customers")),
        (f"customers, keyset page {deep:,} deep", get(f"/customers?after={deep}")),
        ("customers, status=active and risk=high", get("/customers?status=active&risk=high")),
        ("customers, validity=undeliverable", get("/customers?validity=undeliverable")),
        (f"customers, region={region}", get(f"/customers?region={region}")),
        ("customers, risk=high, keyset page deep", get(f"/customers?risk=high&after={deep}")),
        (f"customers, name search “{surname}” (a common surname)", search(surname)),
        ("customers, name search “Xanthe” (no match)", search("Xanthe")),
        (f"customers, search by customer number C{deep:07d}", search(f"C{deep:07d}")),
        ("customer page", get(f"/customers/{deep + 7}")),
        ("retention list, first page", get("/retention")),
        (f"retention list, keyset page {int(listed * 0.9):,} deep", get(f"/retention?min_risk=70&after={deep_cursor}")),
        ("retention list, risk ≥ 90%, do-not-mail left out", get("/retention?min_risk=90&exclude_do_not_mail=y")),
        ("dashboard (with returns per week by reason)", get("/dashboard")),
    ]
    load_before = os.getloadavg()[0]
    results = [(name, timed(call, args.repeat)) for name, call in pages]
    export_seconds, export_rows = time_export(client)
    parts = time_dashboard_parts(app, args.repeat)
    # Clear the search before the baseline, so the deep pages compare like with like.
    search("")()

    # The baseline: the same view and template, but the page fetched by OFFSET.
    from mailer.web.customers import views

    keyset_list = views.list_customers

    def offset_list(session, *, filters: CustomerFilters, after=None, before=None, size=50):  # type: ignore[no-untyped-def]
        rows = session.execute(
            customer_list_query(filters).order_by(Customer.id).offset(deep).limit(size + 1)
        ).all()
        items = [CustomerListRow(**row._asdict()) for row in rows[:size]]
        return Page(items, items[-1].id if len(rows) > size else None, items[0].id if items else None)

    views.list_customers = offset_list  # type: ignore[assignment]
    try:
        baseline = timed(get(f"/customers?after={deep}"), args.repeat)
    finally:
        views.list_customers = keyset_list

    name_width = max(len(name) for name, _ in results) + 2
    print(f"{'OFFSET page (baseline)':<{name_width}} {baseline:8.1f} ms   1.00")
    for name, ms in results:
        print(f"{name:<{name_width}} {ms:8.1f} ms   {ms / baseline:.3f}{'   OVER BUDGET' if ms > BUDGET_MS else ''}")

    for name, ms in parts:
        print(f"  dashboard part: {name:<{name_width - 18}} {ms:8.1f} ms")
    print(f"retention list CSV download: {export_rows:,} rows in {export_seconds:.1f} s")

    if args.write_readme:
        write_section(SECTION,
            render_section(args, counts, results, baseline, deep, load_before, parts, (export_seconds, export_rows))
        )


def time_dashboard_parts(app: Any, repeat: int) -> list[tuple[str, float]]:
    """Time each query the dashboard runs, alone: where the page's time goes."""
    from mailer.batches.service import list_campaigns_with_stats
    from mailer.customers.service import addresses_by_validity, churn_risk_histogram, customers_by_status
    from mailer.db import utcnow
    from mailer.web.dashboard.views import RETURN_WEEKS
    from returns.stats import returns_by_week

    with app.app_context():
        session = db.session
        calls: list[tuple[str, Callable[[], object]]] = [
            ("customers by status", lambda: customers_by_status(session)),
            ("addresses by validity", lambda: addresses_by_validity(session)),
            ("churn-risk histogram", lambda: churn_risk_histogram(session)),
            ("return rate per campaign (`list_campaigns_with_stats`)", lambda: list_campaigns_with_stats(session)),
            (f"returns per week by reason ({RETURN_WEEKS} weeks)",
             lambda: returns_by_week(session, weeks=RETURN_WEEKS, today=utcnow().date())),
        ]
        return [(name, timed(call, repeat)) for name, call in calls]


def time_export(client: Any) -> tuple[float, int]:
    """Download the retention list as CSV once (the default filters); return the seconds and the rows."""
    page = client.get("/retention").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    started = time.perf_counter()
    response = client.post("/retention/export.csv", data={"min_risk": "70", "csrf_token": csrf})
    body = response.get_data()
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return seconds, body.count(b"\n") - 1


def render_section(
    args: argparse.Namespace, counts: dict[str, int | None], results: list[tuple[str, float]], baseline: float,
    deep: int, load: float, parts: list[tuple[str, float]], export: tuple[float, int],
) -> str:
    """Return the README section with this run's numbers."""
    rows = "\n".join(
        f"| {name} | {ms:,.1f} | {ms / baseline:.3f} |" for name, ms in results
    )
    cpu = platform.processor() or platform.machine()
    today = dt.date.today().isoformat()
    slow = [name for name, ms in results if ms > BUDGET_MS]
    part_rows = "\n".join(f"| {name} | {ms:,.1f} |" for name, ms in parts)
    verdict = (
        f"Pages over the {BUDGET_MS} ms budget: {', '.join(slow)}."
        if slow
        else f"Every page answers within the {BUDGET_MS} ms budget. The OFFSET page walks past {deep:,} rows "
        "on every request; a keyset page starts from an index lookup, however deep."
    )
    return f"""{SECTION}

`bench/bench_web.py`, run {today} on {os.cpu_count()} cores ({cpu}), Python {platform.python_version()},
SQLite {sqlite3.sqlite_version}: {counts['customers']:,} customers with {counts['addresses']:,} addresses (5% moved
once), address history and BG/NBD orders, in a SQLite file migrated by Alembic and filled in bulk; one campaign of
four rendered batches ({counts['pieces']:,} pieces) with {counts['returns']:,} returns over the last half year, and
every customer scored by `refresh_churn` ({counts['listed']:,} on the retention list at 70% or more). Each page is
requested {args.repeat} times through the Flask test client, logged in as marketing (session, CSRF, template and
all); the table gives the median. Load average when the timing started: {load:.1f} (other jobs shared the
machine; absolute numbers vary).

Baseline, in the same run: the customer list {deep:,} customers deep with OFFSET instead of a keyset cursor,
through the same view and template. SQLite plans without ANALYZE statistics, as the app never gathers them;
the search reads the `customer_search_terms` index of migration 5e4fc4a1b2c3 (see "Customer search") and the
region filter the `addresses.region` index of migration 75264a062ab5. The retention list pages walk the
`(churn_value_at_risk_cents, id)` index of migration caa5b0a17af4 from the cursor, checking risk and status
row by row; the dashboard's returns chart groups the current returns of the last 12 weeks by reason and day in SQL.

| page | ms (median) | time / OFFSET baseline |
|---|---:|---:|
| OFFSET page {deep:,} deep (baseline) | {baseline:,.1f} | 1.000 |
{rows}

{verdict}

Where the dashboard's time goes, each of its queries timed alone (median of {args.repeat}):

| dashboard query | ms (median) |
|---|---:|
{part_rows}

The retention list's CSV download (`POST /retention/export.csv`, audited, streamed) of all {export[1]:,} customers
at 70% or more takes {export[0]:.1f} s, timed once.

Run: `.venv/bin/python bench/bench_web.py --write-readme` (the database is built once, in about two minutes, then
mailed, returned and scored once, in about two more; both are reused).
"""


if __name__ == "__main__":
    main()
