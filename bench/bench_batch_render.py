"""Benchmark a whole batch render: 100,000 cn-dl pieces through `batch render`'s pipeline.

Steps: generate customers in China, import them into a fresh SQLite database, create a cn-dl
batch, then render it with 2 worker processes into files of 5,000 pieces and write the
manifest. Baseline, measured in the same run on one worker: the plain reportlab rendering
(bench_render.render_plain: every element redrawn per page, reportlab's Code128 and QR
widgets) of the batch's first pieces, extrapolated to the whole batch.

Run: .venv/bin/python bench/bench_batch_render.py [--customers 105000]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_render import render_plain  # noqa: E402
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
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
