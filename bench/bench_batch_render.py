"""Benchmark a whole batch render: 100,000 cn-dl pieces through `batch render`'s pipeline.

Steps: generate customers in China, import them into a fresh SQLite database, create a cn-dl
batch, then render it with 2 worker processes into files of 5,000 pieces and write the
manifest. Baseline, measured in the same run on one worker: the plain reportlab rendering
(bench_render.render_plain: every element redrawn per page, reportlab's Code128 and QR
widgets) of the batch's first pieces, extrapolated to the whole batch.

``--end-to-end``: about 12,000 pieces (12,500 customers), `batch render` on ONE worker timed
as a whole process (start-up, layout check, token signing, rendering, manifest, database
writes); the baseline is timed before and after the command and averaged, and the command's
peak RSS is its own (it runs under a small launcher process whose children's peak it reads).

Run: .venv/bin/python bench/bench_batch_render.py [--customers 105000]
     .venv/bin/python bench/bench_batch_render.py --end-to-end [--write-readme]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_render import render_plain  # noqa: E402
from readme_sections import cpu_name, write_section  # noqa: E402
from reportlab import Version as REPORTLAB_VERSION  # noqa: E402
from sqlalchemy import select  # noqa: E402

from mailer import create_app  # noqa: E402
from mailer.batches.models import MailPiece  # noqa: E402
from mailer.batches.rendering import envelope_piece  # noqa: E402
from mailer.batches.selection import BatchFilters, create_batch  # noqa: E402
from mailer.customers.importing import CUSTOMER_COLUMNS, import_customers  # noqa: E402
from mailer.db import db  # noqa: E402
from mailer.demo.generate import generate_customers, write_csv  # noqa: E402
from mailer.schema import upgrade_schema  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=105_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-pieces", type=int, default=300)
    parser.add_argument("--end-to-end", action="store_true",
                        help="12,500 customers, one worker, whole process, baseline before and after")
    parser.add_argument("--write-readme", action="store_true", help="with --end-to-end: write bench/README.md")
    args = parser.parse_args()
    if args.end_to_end:
        end_to_end(customers=12_500 if args.customers == 105_000 else args.customers,
                   baseline_pieces=max(args.baseline_pieces, 500), write_readme=args.write_readme)
        return

    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "https://mail.example.cn"})
        with app.app_context():
            with db.engine.begin() as connection:
                upgrade_schema(connection)
            customers = folder / "customers.csv"
            write_csv(generate_customers(args.customers, seed=11, cn_share=1.0), customers, columns=CUSTOMER_COLUMNS)
            import_customers(db.session, path=customers, actor="bench")
            db.session.commit()

            started = time.perf_counter()
            batch = create_batch(db.session, campaign_name="Bench", profile="cn-dl", filters=BatchFilters(),
                                 actor="bench")
            db.session.commit()
            select_seconds = time.perf_counter() - started
            pieces = batch.piece_count

            sample = [
                envelope_piece(p, secret="bench", base_url="https://mail.example.cn",
                               expires_on=batch.update_expires_on)
                for p in db.session.scalars(
                    select(MailPiece).where(MailPiece.batch_id == batch.id).order_by(MailPiece.sequence)
                    .limit(args.baseline_pieces)
                )
            ]
            started = time.perf_counter()
            render_plain(sample, io.BytesIO())
            baseline_rate = len(sample) / (time.perf_counter() - started)

            out = folder / "out"
            batch_id = batch.id

        # The render runs as the real command in its own process, so its memory is measured alone.
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mailer", "batch", "render", str(batch_id), "--out", str(out),
             "--workers", str(args.workers)],
            cwd=ROOT, check=True, capture_output=True,
            env={**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "https://mail.example.cn"},
        )
        render_seconds = time.perf_counter() - started
        files = len(list(out.glob("*.pdf")))
        size_mb = sum(p.stat().st_size for p in out.glob("*.pdf")) / 2**20
        manifest_rows = len((out / "manifest.csv").read_text(encoding="utf-8").splitlines()) - 1
        assert manifest_rows == pieces, (manifest_rows, pieces)

    rate = pieces / render_seconds
    render_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"machine: {platform.machine()}, {args.workers} workers, Python {platform.python_version()}")
    print(f"batch of {pieces:,} pieces selected in {select_seconds:.1f} s; {files} files, {size_mb:.0f} MiB")
    print("| render | pieces | seconds | pieces/s | × baseline |")
    print("|---|---:|---:|---:|---:|")
    print(f"| plain reportlab, 1 worker (baseline, {len(sample)} pieces, extrapolated) | {pieces:,} | "
          f"{pieces / baseline_rate:.0f} | {baseline_rate:,.0f} | 1.0 |")
    print(f"| `batch render`, {args.workers} workers (check, render, manifest) | {pieces:,} | {render_seconds:.1f} | "
          f"{rate:,.0f} | {rate / baseline_rate:.1f} |")
    # ru_maxrss of children includes this (large) process at the moment it forks the command:
    # an upper bound, not the render's own peak; sample /proc for that.
    print(f"peak RSS of any child process, an upper bound (includes this process at fork): {render_mb:.0f} MiB")


# Runs a command and prints the peak RSS of its process tree's largest member: this launcher is
# small, so its children's ru_maxrss is the command's own peak, not the benchmark's.
_LAUNCHER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
END_TO_END_SECTION = "## Batch render end to end, one worker"


def end_to_end(*, customers: int, baseline_pieces: int, write_readme: bool) -> None:
    """Time `batch render` on one worker as a whole process against plain reportlab, in one run."""
    env_values = {"SECRET_KEY": "bench", "PUBLIC_BASE_URL": "https://mail.example.cn"}
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        app = create_app({"DATABASE_URL": url, **env_values})
        with app.app_context():
            with db.engine.begin() as connection:
                upgrade_schema(connection)
            csv_path = folder / "customers.csv"
            write_csv(generate_customers(customers, seed=11, cn_share=1.0), csv_path, columns=CUSTOMER_COLUMNS)
            import_customers(db.session, path=csv_path, actor="bench")
            db.session.commit()
            batch = create_batch(db.session, campaign_name="Bench", profile="cn-dl", filters=BatchFilters(),
                                 actor="bench")
            db.session.commit()
            pieces, batch_id = batch.piece_count, batch.id
            sample = [
                envelope_piece(p, secret="bench", base_url="https://mail.example.cn",
                               expires_on=batch.update_expires_on)
                for p in db.session.scalars(
                    select(MailPiece).where(MailPiece.batch_id == batch.id).order_by(MailPiece.sequence)
                    .limit(baseline_pieces)
                )
            ]
            db.session.close()
            db.engine.dispose()

        def baseline_rate() -> float:
            started = time.perf_counter()
            render_plain(sample, io.BytesIO())
            return len(sample) / (time.perf_counter() - started)

        before = baseline_rate()
        out = folder / "out"
        started = time.perf_counter()
        launched = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "mailer", "batch", "render", str(batch_id),
             "--out", str(out), "--workers", "1"],
            cwd=ROOT, check=True, capture_output=True, text=True,
            env={**os.environ, "DATABASE_URL": url, **env_values},
        )
        render_seconds = time.perf_counter() - started
        peak_mib = int(launched.stdout.strip()) / 1024
        after = baseline_rate()
        manifest_rows = len((out / "manifest.csv").read_text(encoding="utf-8").splitlines()) - 1
        assert manifest_rows == pieces, (manifest_rows, pieces)
        files = len(list(out.glob("*.pdf")))

    baseline = (before + after) / 2
    rate = pieces / render_seconds
    lines = [
        END_TO_END_SECTION,
        "",
        f"`bench/bench_batch_render.py --end-to-end`: {customers:,} generated customers in China imported into "
        f"SQLite, one cn-dl batch of {pieces:,} pieces, then `python -m mailer batch render --workers 1` timed "
        f"as a whole process: start-up, layout check and token signing of every piece, {files} PDFs of at most "
        "5,000 pieces, database writes and the manifest. Baseline, in the same run, one process: the plain "
        f"reportlab rendering (bench_render.render_plain) of the batch's first {len(sample):,} pieces, timed "
        "before and after the command and averaged, extrapolated to the batch (rendering only: no start-up, "
        "no database).",
        "",
        "| render | pieces | seconds | pieces/s | × baseline |",
        "|---|---:|---:|---:|---:|",
        f"| plain reportlab, 1 worker (baseline: {before:.0f} and {after:.0f} pieces/s) | {pieces:,} | "
        f"{pieces / baseline:.0f} | {baseline:,.0f} | 1.0 |",
        f"| `batch render --workers 1`, whole process | {pieces:,} | {render_seconds:.1f} | {rate:,.0f} | "
        f"{rate / baseline:.1f} |",
        "",
        f"Peak RSS of the command's process: {peak_mib:.0f} MiB.",
        "",
        f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} cores ({cpu_name()}), Python "
        f"{platform.python_version()}, reportlab {REPORTLAB_VERSION}, with other work sharing the machine. Run: "
        "`.venv/bin/python bench/bench_batch_render.py --end-to-end --write-readme`.",
    ]
    # Prose paragraphs wrapped as the other sections are; table rows stay whole.
    text = "\n".join(
        line if line.startswith("|") else textwrap.fill(line, 110, break_on_hyphens=False) for line in lines
    )
    print(text)
    if write_readme:
        write_section(END_TO_END_SECTION, text + "\n")


if __name__ == "__main__":
    main()
