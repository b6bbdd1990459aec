"""Benchmark duplicate detection: 1,000,000 customers, speed, blocking recall, precision, recall, F1.

The customers are a generated labelled set (tests.dedupe.labelled): clean demo customers plus
realistic duplicates and hard non-duplicates, so every number below is measured against known
answers. Two runs over the same customers:

1. in memory: match keys, blocking plan, scoring (``find_pairs``), then precision, recall, F1 and
   the blocking's recall (the share of true pairs that share a block window, i.e. are compared);
2. end to end through the database, as ``python -m mailer dedupe`` runs it: the customers are
   imported with the customer import into a fresh SQLite database (setup, timed apart), then
   ``find_duplicates`` streams them back and searches.

A quality table over several seeds at a smaller size shows the threshold is not tuned to one set.
Run: .venv/bin/python bench/bench_dedupe.py [--customers 1000000] [--write-readme]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy as np
import rapidfuzz
from readme_sections import write_section

from mailer import create_app
from mailer.customers.importing import CUSTOMER_COLUMNS, import_customers
from mailer.db import db
from mailer.dedupe.blocking import DEFAULT_MAX_BLOCK, plan_blocks
from mailer.dedupe.keys import KeyTable
from mailer.dedupe.scoring import DEFAULT_THRESHOLD
from mailer.dedupe.search import find_pairs
from mailer.dedupe.service import find_duplicates
from mailer.demo.generate import write_csv
from mailer.schema import upgrade_schema
from tests.dedupe.labelled import (
    LabelledSet,
    customer_fields,
    generate_labelled_set,
)

README = Path(__file__).resolve().parent / "README.md"
SECTION = "## Duplicate detection"
# A labelled set grows by its duplicates and hard non-duplicates: about this many rows per clean one.
GROWTH = 1.31


def scores(found: set[tuple[str, str]], truth: frozenset[tuple[str, str]]) -> tuple[float, float, float]:
    true_positives = len(found & truth)
    precision = true_positives / len(found) if found else 1.0
    recall = true_positives / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def in_memory(labelled: LabelledSet, threshold: float) -> dict[str, float]:
    """Search the set in memory; return timings, pairs compared, quality and blocking recall."""
    started = time.perf_counter()
    table = KeyTable.from_customers(customer_fields(labelled.rows))
    keyed = time.perf_counter()
    plan = plan_blocks(table, max_block=DEFAULT_MAX_BLOCK)
    planned = time.perf_counter()
    found, stats = find_pairs(table, threshold=threshold, plan=plan)
    searched = time.perf_counter()
    numbers = table.customer_nos
    pairs = {
        tuple(sorted((numbers[a], numbers[b])))
        for a, b in zip(found.a.tolist(), found.b.tolist(), strict=True)
    }
    precision, recall, f1 = scores(pairs, labelled.pairs)  # type: ignore[arg-type]
    index = {no: i for i, no in enumerate(numbers)}
    truth = sorted(labelled.pairs)
    covered = plan.covers([index[a] for a, _ in truth], [index[b] for _, b in truth])
    return {
        "customers": len(table),
        "true_pairs": len(truth),
        "keys_s": keyed - started,
        "plan_s": planned - keyed,
        "score_s": searched - planned,
        "total_s": searched - started,
        "blocks": plan.block_count,
        "pairs_compared": stats.pairs_compared,
        "candidates": stats.candidates,
        "found": len(pairs),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "blocking_recall": float(np.mean(covered)),
        "load": os.getloadavg()[0],
    }


def through_database(labelled: LabelledSet, threshold: float, folder: Path) -> dict[str, float]:
    """Import the set into a fresh SQLite database, then time ``find_duplicates`` end to end."""
    path = folder / "customers.csv"
    write_csv(labelled.rows, path, columns=CUSTOMER_COLUMNS)
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'dedupe.sqlite3'}", "SECRET_KEY": "bench"})
    with app.app_context():
        with db.engine.begin() as connection:
            upgrade_schema(connection)
        started = time.perf_counter()
        report = import_customers(db.session, path=path, actor="bench")
        db.session.commit()
        imported = time.perf_counter() - started
        rejected = {r.values.get("customer_no") for r in report.rejected}
        truth = frozenset(p for p in labelled.pairs if not rejected & set(p))

        started = time.perf_counter()
        search = find_duplicates(db.session, threshold=threshold)
        seconds = time.perf_counter() - started
        db.session.rollback()
    pairs = {(p.customer_no_a, p.customer_no_b) for p in search.pairs}
    precision, recall, f1 = scores(pairs, truth)
    return {
        "customers": search.stats.customers,
        "rejected": len(report.rejected),
        "import_s": imported,
        "total_s": seconds,
        "search_s": search.stats.seconds,
        "pairs_compared": search.stats.pairs_compared,
        "found": len(pairs),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "load": os.getloadavg()[0],
    }


def quality_table(size: int, seeds: list[int], threshold: float) -> list[dict[str, float]]:
    rows = []
    for seed in seeds:
        result = in_memory(generate_labelled_set(size, seed=seed), threshold)
        rows.append({"seed": seed, **result})
    return rows


def report(args: argparse.Namespace, memory: dict[str, float], database: dict[str, float] | None,
           quality: list[dict[str, float]], sweep: list[tuple[float, dict[str, float]]]) -> str:
    cpu = "unknown CPU"
    if Path("/proc/cpuinfo").exists():
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else cpu
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        SECTION,
        "",
        f"`bench/bench_dedupe.py`, run {time.strftime('%Y-%m-%d')} on {cpu} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}, RapidFuzz {rapidfuzz.__version__}, NumPy {np.__version__}, "
        "SQLite.",
        "",
        f"- Data: a generated labelled set of {memory['customers']:,.0f} customers: clean demo customers "
        "(60% China, 40% US, 5% in shared households), a quarter of them with one or two realistic "
        "duplicates (typos, nicknames, initials, honorifics, name order, traditional characters, "
        "homophones, pinyin transliteration of name and address, units dropped or rewritten, "
        "districts and provinces added or dropped, ZIP+4, mistyped ZIPs and general postcodes), "
        f"and hard non-duplicates (namesakes in the same city, relatives in the next flat); "
        f"{memory['true_pairs']:,.0f} true duplicate pairs.",
        f"- Threshold {args.threshold:g}; blocks: postal code, and locality + Soundex of each name word; "
        f"blocks over {DEFAULT_MAX_BLOCK} customers are scored in overlapping windows of "
        f"{DEFAULT_MAX_BLOCK}.",
        "",
        "| step (in memory) | seconds |",
        "|---|---:|",
        f"| match keys (normalize, pinyin) | {memory['keys_s']:.1f} |",
        f"| blocking plan | {memory['plan_s']:.1f} |",
        f"| scoring (`cdist` in blocks, rescoring of candidates) | {memory['score_s']:.1f} |",
        f"| **total** | **{memory['total_s']:.1f}** |",
        "",
        f"- Pairs compared: {memory['pairs_compared']:,.0f} in {memory['blocks']:,.0f} blocks "
        f"(all pairs would be {memory['customers'] * (memory['customers'] - 1) / 2:,.0f}); "
        f"{memory['pairs_compared'] / memory['score_s']:,.0f} pairs/s in scoring, "
        f"{memory['pairs_compared'] / memory['total_s']:,.0f} pairs/s over the whole search.",
        f"- Blocking recall: {memory['blocking_recall']:.4f} of the true pairs share a block window.",
        f"- Quality at this size: precision {memory['precision']:.4f}, recall {memory['recall']:.4f}, "
        f"F1 {memory['f1']:.4f} ({memory['found']:,.0f} pairs found).",
    ]
    if database is not None:
        lines += [
            f"- Through the database (`find_duplicates`, as `python -m mailer dedupe` runs it): "
            f"**{database['total_s']:.1f} s** for {database['customers']:,.0f} customers, reading included "
            f"({database['search_s']:.1f} s of it blocking and scoring); precision {database['precision']:.4f}, "
            f"recall {database['recall']:.4f}, F1 {database['f1']:.4f}. Setup, not timed in that figure: "
            f"`customers import` of the set took {database['import_s']:.1f} s "
            f"({database['rejected']:,.0f} rows rejected).",
        ]
    loads = [memory["load"], *([database["load"]] if database else [])]
    lines += [
        f"- Peak RSS {peak_mib:,.0f} MiB. Load average after the timed runs: "
        f"{', '.join(f'{load:.1f}' for load in loads)}; where other work shares the two cores, "
        "wall-clock seconds stretch.",
        "",
        f"Quality on smaller sets ({quality[0]['customers']:,.0f} customers each), threshold {args.threshold:g}:",
        "",
        "| seed | true pairs | precision | recall | F1 | blocking recall |",
        "|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {row['seed']:.0f} | {row['true_pairs']:,.0f} | {row['precision']:.4f} | {row['recall']:.4f} "
            f"| {row['f1']:.4f} | {row['blocking_recall']:.4f} |"
            for row in quality
        ),
        "",
        f"Threshold sweep on seed {quality[0]['seed']:.0f}:",
        "",
        "| threshold | precision | recall | F1 |",
        "|---:|---:|---:|---:|",
        *(
            f"| {threshold:g} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} |"
            for threshold, row in sweep
        ),
        "",
        "Misses are mostly pairs no name-and-address rule can tell from two people: a transposed "
        "house number (it reads as the neighbour), a surname-only record at an address where two "
        "people share that surname, a mistyped ZIP together with a mistyped city (no shared block). "
        "False pairs are mostly household members with near-identical given names.",
        "",
        "Run: `.venv/bin/python bench/bench_dedupe.py --write-readme`.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000, help="about this many customers in all")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--quality-size", type=int, default=20_000, help="clean customers per quality set")
    parser.add_argument("--skip-database", action="store_true", help="only the in-memory run")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    labelled = generate_labelled_set(round(args.customers / GROWTH), seed=args.seed)
    print(f"labelled set: {len(labelled.rows):,} customers, {len(labelled.pairs):,} true pairs "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    memory = in_memory(labelled, args.threshold)
    print({k: round(v, 4) for k, v in memory.items()}, flush=True)
    database = None
    if not args.skip_database:
        with tempfile.TemporaryDirectory() as folder:
            database = through_database(labelled, args.threshold, Path(folder))
        print({k: round(v, 4) for k, v in database.items()}, flush=True)
    del labelled

    quality = quality_table(args.quality_size, [1, 2, 3, 4, 5], args.threshold)
    sweep_set = generate_labelled_set(args.quality_size, seed=1)
    sweep = [(t, in_memory(sweep_set, t)) for t in (80, 85, 88, 90, 92, 95)]
    section = report(args, memory, database, quality, sweep)
    print(section)
    if args.write_readme:
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
