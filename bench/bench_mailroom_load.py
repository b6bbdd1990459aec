"""Load test: ten mailroom stations scanning returned mail at once, on SQLite and on PostgreSQL.

For each backend: a fresh database migrated with the project's migrations (a SQLite file in a
temporary folder; a PostgreSQL database this script creates and drops), customers imported and
mailed one batch through the services, a mailroom API token, and the real app under gunicorn
(``deploy/gunicorn.conf.py``, on 127.0.0.1 and a free port). Then ten threads, the stations, each
scan their share of the pieces through ``POST /api/returns``, with a quarter more scans of pieces
other stations scan too (the same reason, so the second scan of a piece is "already recorded"),
in random order, so first scans and rescans of one piece race each other. A station sends a scan
again after an answer of 503 ("send the scan again"), as the API asks.

Checked: every answer is a JSON object; no answer but 201 (recorded), 200 (already recorded) and
503; exactly one 201 per piece; every piece has exactly one return row, and it is current. Reported:
median, 95th and 99th percentile latency and scans per second, per backend.

With ``--faults``, then, on PostgreSQL, another share of the pieces is scanned the same way while a
thread ends every database connection of the app (``pg_terminate_backend`` on the bench
database's own server processes, never the server) a few times a second: the scans in flight
answer an error, the stations send them again, and each piece is still recorded exactly once.
And, each on a fresh SQLite database, ``customers import`` is killed while it writes (nothing may
be stored; importing again stores every row) and ``batch render`` is killed with its workers once
a PDF is written (the same command again finishes: every piece on one manifest row and two pages).

    .venv/bin/python bench/bench_mailroom_load.py                   # both backends, 2,000 pieces each
    .venv/bin/python bench/bench_mailroom_load.py --faults --write-readme   # and update bench/README.md
    .venv/bin/python bench/bench_mailroom_load.py --backend sqlite --pieces 300   # to iterate quickly
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pypdf import PdfReader  # noqa: E402
from readme_sections import cpu_name, write_section  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from mailer import create_app  # noqa: E402
from mailer.auth.models import Role  # noqa: E402
from mailer.auth.service import create_api_token, create_user  # noqa: E402
from mailer.batches.models import MailPiece  # noqa: E402
from mailer.batches.selection import BatchFilters, create_batch  # noqa: E402
from mailer.customers.importing import CUSTOMER_COLUMNS, import_customers  # noqa: E402
from mailer.db import db, make_engine  # noqa: E402
from mailer.demo.generate import generate_customers  # noqa: E402
from mailer.schema import upgrade_schema  # noqa: E402
from returns.models import MailReturn  # noqa: E402
from tests.databases import POSTGRES_ADMIN_URL, create_postgres_database, drop_postgres_database  # noqa: E402
from tests.serving import free_port  # noqa: E402

SECTION = "## Mailroom load"
STATIONS = 10
RESCAN_SHARE = 0.25
# Reasons that need no forwarding address; one per piece, so a rescan repeats the first scan.
REASONS = ("MLNA", "UNC", "TA", "ANK", "IA", "NSN", "VAC", "REF", "OTH")
SECRET_KEY = "bench-mailroom-load"
# A scan a station gives up on after this many tries counts as lost.
MAX_TRIES = 20
# The killed import and render: big enough to be killed midway, small enough to take seconds.
IMPORT_ROWS = 20_000
RENDER_PIECES = 3000
RENDER_PIECES_PER_FILE = 100


@dataclass(slots=True)
class Tally:
    """What the stations saw: every answer's status and latency, and any answer that was not JSON."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    recorded: Counter[str] = field(default_factory=Counter)
    answered: set[str] = field(default_factory=set)
    not_json: list[str] = field(default_factory=list)
    connection_errors: int = 0
    lost: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, other: Tally) -> None:
        """Fold one station's tally into this one."""
        with self.lock:
            self.latencies_ms += other.latencies_ms
            self.statuses += other.statuses
            self.recorded += other.recorded
            self.answered |= other.answered
            self.not_json += other.not_json
            self.connection_errors += other.connection_errors
            self.lost += other.lost


@contextmanager
def database(backend: str, folder: Path) -> Iterator[tuple[str, str]]:
    """Yield the URL and name of a fresh, migrated database on ``backend``; drop a PostgreSQL one afterwards."""
    if backend == "sqlite":
        url, name = f"sqlite:///{folder / 'load.sqlite3'}", "load.sqlite3"
    else:
        name = f"mailer_load_{os.getpid()}"
        url = create_postgres_database(name)
    try:
        engine = make_engine(url)
        with engine.begin() as connection:
            upgrade_schema(connection)
        engine.dispose()
        yield url, name
    finally:
        if backend != "sqlite":
            drop_postgres_database(name)


def write_customers(path: Path, count: int, *, seed: int) -> Path:
    """Write a customer import file of ``count`` generated customers in the United States."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(CUSTOMER_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(generate_customers(count, seed=seed, cn_share=0.0))
    return path


def mail_pieces(url: str, folder: Path, *, count: int) -> tuple[list[str], str, int]:
    """Import ``count`` customers, mail them one batch; return the piece codes, a mailroom API token and the batch."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY})
    path = write_customers(folder / "customers.csv", count, seed=12)
    with app.app_context():
        session = db.session
        import_customers(session, path=path, actor="bench")
        batch = create_batch(session, campaign_name="Load test", profile="us-10", filters=BatchFilters(), actor="bench")
        user = create_user(session, email="station@example.com", password="bench-password-1", role=Role.MAILROOM,
                           actor="bench")
        _, token = create_api_token(session, user=user, label="load test stations", actor="bench")
        codes = list(session.scalars(select(MailPiece.piece_code).where(MailPiece.batch_id == batch.id)))
        batch_id = batch.id
        session.commit()
    # The server about to start opens its own connections; this process holds none while it runs.
    app.extensions["mailer.db"].engine.dispose()
    return codes, token, batch_id


@contextmanager
def gunicorn(url: str, folder: Path, *, workers: int) -> Iterator[int]:
    """Serve the app with the repository's gunicorn configuration; yield the port once it answers."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "PYTHONPATH": ""}
    command = [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--access-logfile", "/dev/null"]
    log = folder / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=output, stderr=output)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    connection.request("GET", "/login")
                    connection.getresponse().read()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"gunicorn did not start:\n{log.read_text(errors='replace')}") from None
                    time.sleep(0.2)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=60)


def reason_of(code: str) -> str:
    """Return the reason every scan of a piece gives."""
    return REASONS[sum(map(ord, code)) % len(REASONS)]


def plan_scans(codes: list[str], *, seed: int) -> list[list[str]]:
    """Split the pieces between the stations and add each a share of other stations' pieces, shuffled."""
    rng = random.Random(seed)
    shares = [codes[station::STATIONS] for station in range(STATIONS)]
    plans = []
    for station, share in enumerate(shares):
        others = [code for index, other in enumerate(shares) if index != station for code in other]
        plan = share + rng.sample(others, min(len(others), round(len(share) * RESCAN_SHARE)))
        rng.shuffle(plan)
        plans.append(plan)
    return plans


def run_station(port: int, token: str, plan: list[str], tally: Tally, deadline: float) -> None:
    """Scan every code of the plan, sending a scan again after a 503 or a broken connection."""
    mine = Tally()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for code in plan:
        body = json.dumps({"piece_code": code, "reason": reason_of(code)})
        for _ in range(MAX_TRIES):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            try:
                connection.request("POST", "/api/returns", body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                mine.connection_errors += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.latencies_ms.append((time.perf_counter() - started) * 1000)
            mine.statuses[response.status] += 1
            try:
                answer = json.loads(payload)
                assert isinstance(answer, dict) and response.getheader("Content-Type") == "application/json"
            except (ValueError, AssertionError):
                mine.not_json.append(f"{response.status} {payload[:120]!r}")
            if response.status in (200, 201):
                mine.answered.add(code)
                if response.status == 201:
                    mine.recorded[code] += 1
                break
            if response.status < 500:
                mine.lost.append(f"{code}: {response.status} {payload[:120]!r}")
                break
            time.sleep(0.05)  # an error on our side (503: the database is busy) says: send the scan again
        else:
            mine.lost.append(f"{code}: no answer after {MAX_TRIES} tries")
    connection.close()
    tally.add(mine)


def cut_connections(name: str, stop: threading.Event, cuts: list[int]) -> None:
    """End every server process of the bench database, a few times a second, until told to stop."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            while not stop.wait(0.3):
                ended = connection.execute(
                    text("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = :name AND pid <> pg_backend_pid()) AS ended"),
                    {"name": name},
                ).scalar_one()
                cuts.append(int(ended))
    finally:
        admin.dispose()


def scan_all(port: int, token: str, codes: list[str], *, seed: int, seconds: float) -> tuple[Tally, float]:
    """Run the ten stations over the codes; return their tally and the wall time taken."""
    tally = Tally()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=run_station, args=(port, token, plan, tally, deadline))
        for plan in plan_scans(codes, seed=seed)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - started


def stored_returns(url: str, codes: list[str]) -> dict[str, int]:
    """Count the return rows of the scanned pieces: all of them, current ones and distinct pieces."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            of_pieces = (
                select(MailReturn).join(MailPiece, MailPiece.id == MailReturn.piece_id)
                .where(MailPiece.piece_code.in_(codes)).subquery()
            )
            return {
                "rows": connection.scalar(select(func.count()).select_from(of_pieces)) or 0,
                "current": connection.scalar(
                    select(func.count()).select_from(of_pieces).where(of_pieces.c.is_current)
                ) or 0,
                "pieces": connection.scalar(select(func.count(func.distinct(of_pieces.c.piece_id)))) or 0,
            }
    finally:
        engine.dispose()


def check(tally: Tally, stored: dict[str, int], codes: list[str], *, faults: bool = False) -> list[str]:
    """Return every way the run lost, doubled or garbled a scan; empty when none.

    Under load every piece gets exactly one 201. With connections cut, a scan may also be answered
    500 (its connection ended) and sent again; if the connection ended as its commit went through,
    the scan sent again is "already recorded", so a piece gets at most one 201 and one success.
    """
    problems = []
    if tally.not_json:
        problems.append(f"{len(tally.not_json)} answers were not JSON objects, e.g. {tally.not_json[0]}")
    allowed = (200, 201, 500, 503) if faults else (200, 201, 503)
    unexpected = {status: n for status, n in tally.statuses.items() if status not in allowed}
    if unexpected:
        problems.append(f"unexpected answers {unexpected}")
    if tally.lost:
        problems.append(f"{len(tally.lost)} scans lost, e.g. {tally.lost[0]}")
    if len(tally.answered) != len(codes):
        problems.append(f"{len(codes) - len(tally.answered)} pieces never answered 200 or 201")
    doubled = [code for code, n in tally.recorded.items() if n > 1]
    if doubled or (not faults and len(tally.recorded) != len(codes)):
        problems.append(f"201 for {len(tally.recorded)} of {len(codes)} pieces, twice for {len(doubled)}")
    if stored != {"rows": len(codes), "current": len(codes), "pieces": len(codes)}:
        problems.append(f"stored {stored} for {len(codes)} pieces")
    return problems


def summary(tally: Tally, seconds: float) -> dict[str, object]:
    """Return the run's figures: requests, answers by status, latency percentiles, throughput."""
    percentiles = statistics.quantiles(tally.latencies_ms, n=100)
    return {
        "requests": len(tally.latencies_ms),
        "statuses": dict(sorted(tally.statuses.items())),
        "connection_errors": tally.connection_errors,
        "p50_ms": statistics.median(tally.latencies_ms),
        "p95_ms": percentiles[94],
        "p99_ms": percentiles[98],
        "per_second": len(tally.latencies_ms) / seconds,
        "seconds": seconds,
    }


def run_backend(backend: str, *, pieces: int, workers: int, seconds: float, faults: bool) -> dict[str, Any]:
    """Build, serve and load one backend; return its figures and the problems found."""
    with tempfile.TemporaryDirectory(prefix="mailer-load-") as folder_name:
        folder = Path(folder_name)
        with database(backend, folder) as (url, name):
            started = time.perf_counter()
            codes, token, _ = mail_pieces(url, folder, count=pieces * (2 if faults else 1))
            load_codes, fault_codes = codes[: len(codes) // 2], codes[len(codes) // 2:]
            if not faults:
                load_codes, fault_codes = codes, []
            print(f"{backend}: {len(codes)} pieces mailed in {time.perf_counter() - started:.1f} s", flush=True)
            with gunicorn(url, folder, workers=workers) as port:
                tally, wall = scan_all(port, token, load_codes, seed=1, seconds=seconds)
                result: dict[str, Any] = {
                    "pieces": len(load_codes), **summary(tally, wall),
                    "problems": check(tally, stored_returns(url, load_codes), load_codes),
                }
                if fault_codes:
                    stop, cuts = threading.Event(), list[int]()
                    cutter = threading.Thread(target=cut_connections, args=(name, stop, cuts))
                    cutter.start()
                    try:
                        tally, wall = scan_all(port, token, fault_codes, seed=2, seconds=seconds)
                    finally:
                        stop.set()
                        cutter.join()
                    result["faults"] = {
                        "pieces": len(fault_codes), **summary(tally, wall),
                        "cuts": len(cuts), "connections_ended": sum(cuts),
                        "problems": check(tally, stored_returns(url, fault_codes), fault_codes, faults=True),
                    }
            return result


def mailer_command(url: str, *args: str) -> list[str]:
    """Return the command line of ``python -m mailer ARGS``; run it with ``command_environment(url)``."""
    return [sys.executable, "-m", "mailer", *args]


def command_environment(url: str) -> dict[str, str]:
    """Return the environment a command of the app runs in against ``url``."""
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "PYTHONPATH": str(ROOT)}


def kill_when(command: list[str], url: str, ready: Callable[[], bool], *, seconds: float = 120) -> bool:
    """Start a command in a process group of its own and kill the group (SIGKILL) once ``ready()``; tell if it was."""
    process = subprocess.Popen(command, cwd=ROOT, env=command_environment(url), start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + seconds
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if ready():
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.05)
        return False
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def count_rows(url: str, table: str) -> int:
    """Return how many rows a table holds."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def kill_an_import(folder: Path, *, rows: int) -> dict[str, Any]:
    """Kill ``customers import`` while it writes (SQLite's WAL growing), check nothing was stored, import again."""
    problems: list[str] = []
    with database("sqlite", folder) as (url, _):
        path = write_customers(folder / "import.csv", rows, seed=21)
        wal = folder / "load.sqlite3-wal"
        started = time.perf_counter()
        # The import takes the write lock as it begins; a WAL past a megabyte holds its first rows.
        killed = kill_when(mailer_command(url, "customers", "import", str(path)), url,
                           lambda: wal.exists() and wal.stat().st_size > 1 << 20)
        killed_after = time.perf_counter() - started
        if not killed:
            problems.append("the import ended before it could be killed")
        left = {"customers": count_rows(url, "customers"), "addresses": count_rows(url, "addresses")}
        if any(left.values()):
            problems.append(f"the killed import left {left}")
        leftovers = [p.name for p in folder.iterdir() if p.name.startswith("import.") and p.name != "import.csv"]
        if leftovers:
            problems.append(f"the killed import left files {leftovers}")
        started = time.perf_counter()
        again = subprocess.run(mailer_command(url, "customers", "import", str(path)), cwd=ROOT,
                               env=command_environment(url), capture_output=True, text=True)
        full_seconds = time.perf_counter() - started
        stored = count_rows(url, "customers")
        if again.returncode != 0 or stored != rows:
            problems.append(f"importing again: exit {again.returncode}, {stored} of {rows} customers stored")
    return {"rows": rows, "killed_after_s": killed_after, "full_import_s": full_seconds, "problems": problems}


def kill_a_render(folder: Path, *, pieces: int, per_file: int) -> dict[str, Any]:
    """Kill ``batch render`` and its workers once a PDF is written, render again, check every piece once."""
    problems: list[str] = []
    with database("sqlite", folder) as (url, _):
        codes, _, batch_id = mail_pieces(url, folder, count=pieces)
        out = folder / "render"
        command = mailer_command(url, "batch", "render", str(batch_id), "--out", str(out),
                                 "--pieces-per-file", str(per_file), "--workers", "2")
        first = out / f"batch-{batch_id}-0001.pdf"
        started = time.perf_counter()
        killed = kill_when(command, url, first.exists)
        killed_after = time.perf_counter() - started
        written = sorted(out.glob("*.pdf"))
        if not killed:
            problems.append("the render ended before it could be killed")
        if (out / "manifest.csv").exists():
            problems.append("the killed render wrote a manifest")
        again = subprocess.run(command, cwd=ROOT, env=command_environment(url), capture_output=True, text=True)
        if again.returncode != 0:
            problems.append(f"rendering again: exit {again.returncode}: {again.stderr[-300:]}")
        files = sorted(out.glob("*.pdf"))
        pages = sum(len(PdfReader(path).pages) for path in files)
        with (out / "manifest.csv").open(encoding="utf-8", newline="") as handle:
            manifest = [row["piece_code"] for row in csv.DictReader(handle)]
        stray = [path.name for path in out.iterdir() if path.name.startswith(".")]
        expected_files = -(-len(codes) // per_file)
        if len(written) >= expected_files:
            problems.append("the render was killed only once every file was written")
        if len(files) != expected_files or pages != 2 * len(codes):
            problems.append(f"{len(files)} files of {pages} pages for {len(codes)} pieces")
        if sorted(manifest) != sorted(codes):
            problems.append(f"the manifest lists {len(manifest)} rows, {len(set(manifest))} pieces of {len(codes)}")
        if stray:
            problems.append(f"left temporary files {stray}")
    return {"pieces": len(codes), "files": len(files), "files_before_kill": len(written),
            "killed_after_s": killed_after, "problems": problems}


def run_process_faults(*, import_rows: int, render_pieces: int) -> dict[str, dict[str, Any]]:
    """Kill an import and a render mid-run, each on a fresh SQLite database; return what each left."""
    faults = {}
    with tempfile.TemporaryDirectory(prefix="mailer-faults-") as folder_name:
        faults["import"] = kill_an_import(Path(folder_name), rows=import_rows)
    with tempfile.TemporaryDirectory(prefix="mailer-faults-") as folder_name:
        faults["render"] = kill_a_render(Path(folder_name), pieces=render_pieces, per_file=RENDER_PIECES_PER_FILE)
    return faults


def render_section(
    results: dict[str, dict[str, Any]], *, workers: int, process_faults: dict[str, dict[str, Any]] | None = None
) -> str:
    """Return the Mailroom load section of bench/README.md."""
    lines = [
        SECTION,
        "",
        f"`bench/bench_mailroom_load.py`: {STATIONS} stations (threads) scan returned mail at once through "
        "`POST /api/returns` with an API token, against the app under gunicorn (`deploy/gunicorn.conf.py`, "
        f"{workers} workers of 4 threads) on 127.0.0.1; each station scans its share of one batch's pieces plus "
        f"{RESCAN_SHARE:.0%} more that other stations scan too, in random order. Checked: every answer is a JSON "
        "object, each piece is recorded once (one 201, one current return row), nothing is lost.",
        "",
        "| backend | pieces | requests | answers | p50 | p95 | p99 | scans/s | checks |",
        "|---|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for backend, result in results.items():
        rows = [(backend, result)]
        if "faults" in result:
            rows.append((f"{backend}, connections cut", result["faults"]))
        for label, row in rows:
            answers = ", ".join(f"{n} × {status}" for status, n in row["statuses"].items())
            problems = row["problems"]
            lines.append(
                f"| {label} | {row['pieces']:,} | {row['requests']:,} | {answers} | {row['p50_ms']:.0f} ms "
                f"| {row['p95_ms']:.0f} ms | {row['p99_ms']:.0f} ms | {row['per_second']:.0f} "
                f"| {'held' if not problems else '; '.join(problems)} |"
            )
    if any("faults" in result for result in results.values()):
        fault = next(result["faults"] for result in results.values() if "faults" in result)
        lines += [
            "",
            f"Connections cut: while the stations scanned, a thread ended every server process of the bench "
            f"database (`pg_terminate_backend`, the shared server itself left running) {fault['cuts']} times, "
            f"{fault['connections_ended']} connections in all. The scans whose connection ended were answered "
            f"500 with a JSON error ({fault['statuses'].get(500, 0)} times), the stations sent them again, "
            "and each piece was still recorded exactly once, with no scan lost.",
        ]
    if process_faults:
        killed_import, killed_render = process_faults["import"], process_faults["render"]

        def verdict(fault: dict[str, Any]) -> str:
            return "held" if not fault["problems"] else "; ".join(fault["problems"])

        lines += [
            "",
            "Processes killed (SIGKILL to the command's whole process group), each on a fresh SQLite database:",
            "",
            f"- `customers import` of {killed_import['rows']:,} rows, killed {killed_import['killed_after_s']:.1f} s "
            f"in (its rows already in the write-ahead log; the whole import takes "
            f"{killed_import['full_import_s']:.1f} s): no customer, address or file left behind; importing the file "
            f"again stored every row. Checks: {verdict(killed_import)}.",
            f"- `batch render` of {killed_render['pieces']:,} pieces in files of {RENDER_PIECES_PER_FILE} with 2 "
            f"workers, killed {killed_render['killed_after_s']:.1f} s in, with {killed_render['files_before_kill']} "
            f"of its {killed_render['files']} PDFs written: the same command again finished the render; every piece "
            "is on exactly one manifest row and two PDF pages, no temporary file is left. "
            f"Checks: {verdict(killed_render)}.",
        ]
    lines += ["", f"Run {date.today().isoformat()} on {cpu_name()} ({os.cpu_count()} cores, shared with other work), "
              f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, gunicorn {version('gunicorn')}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the load test on the chosen backends and print (or write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pieces", type=int, default=2000, help="pieces scanned per backend (default 2000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--seconds", type=float, default=300, help="give up scanning after this long")
    parser.add_argument("--faults", action="store_true", help="then scan as many again while cutting connections")
    parser.add_argument("--write-readme", action="store_true", help="update the Mailroom load section")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {
        backend: run_backend(backend, pieces=args.pieces, workers=args.workers, seconds=args.seconds,
                             faults=args.faults and backend == "postgresql")
        for backend in backends
    }
    process_faults = run_process_faults(import_rows=IMPORT_ROWS, render_pieces=RENDER_PIECES) if args.faults else {}
    print(json.dumps({**results, **process_faults}, indent=2))
    section = render_section(results, workers=args.workers, process_faults=process_faults)
    print(section)
    if args.write_readme:
        write_section(SECTION, section)
    failed = [backend for backend, result in results.items()
              if result["problems"] or (isinstance(result.get("faults"), dict) and result["faults"]["problems"])]
    failed += [fault for fault, result in process_faults.items() if result["problems"]]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
