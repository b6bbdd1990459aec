"""Benchmark ``churn backtest`` on an orders file of 1,000,000 customers, and its figures on CDNOW.

Writes (or reuses) an orders CSV of a million customers whose purchases are drawn from the BG/NBD
process over two and a half years, then times the command end to end as an analyst runs it:
``python -m mailer churn backtest --orders FILE --calibration-end DATE --horizon-days 365 --json``
(read and check the file, summarize, fit MBG/NBD and BG/NBD, score, AUC for the risk and the four
baselines, Brier scores, calibration). The backtest on arrays alone (``run_backtest``) is timed too.

Baseline, in the same run on the same file: ``churn fit`` (read the same file, fit BG/NBD once), the
command the backtest is most like.

It also runs the backtest on CDNOW's public purchase history (the BG/NBD paper's split: calibration
to 1997-09-30, a 39-week holdout) and prints the table for README.md.

    .venv/bin/python bench/bench_churn_backtest.py                  # 1,000,000 customers
    .venv/bin/python bench/bench_churn_backtest.py --write-readme   # and update bench/README.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from bench_churn import write_readme_part  # noqa: E402
from readme_sections import cpu_name  # noqa: E402

from mailer.churn.backtest import run_backtest  # noqa: E402
from mailer.churn.bgnbd import BgNbdParams, TimeUnit  # noqa: E402
from mailer.churn.orders_file import read_orders_csv  # noqa: E402
from tests.churn.simulation import simulate, simulate_orders  # noqa: E402

PART = "Backtest: `bench/bench_churn_backtest.py`"
END = dt.date(2026, 6, 30)
HORIZON_DAYS = 365
CALIBRATION_END = END - dt.timedelta(days=HORIZON_DAYS)
PARAMS = BgNbdParams(r=0.5, alpha=8.0, a=0.9, b=2.5)
CDNOW = ROOT / "tests" / "churn" / "data" / "cdnow_master.csv.gz"
PYTHON = sys.executable


def build_file(path: Path, *, customers: int, seed: int) -> int:
    """Write the orders of ``customers`` simulated customers, first purchases over 18 months; return the orders."""
    rng = np.random.default_rng(seed)
    # Ages at the end of the holdout: first purchases spread over the 18 months before the calibration end.
    ages = (HORIZON_DAYS + rng.uniform(0, 548, customers)) / 7
    x, t_x, T = simulate(PARAMS, customers, ages, rng)
    customer, days = simulate_orders(x, t_x, T, as_of=END, unit=TimeUnit.WEEK, rng=rng)
    amounts = np.round(rng.gamma(2.0, 20.0, customer.size), 2)
    dates = np.datetime_as_string(days.astype("datetime64[D]"))
    with path.open("w", encoding="utf-8") as handle:
        handle.write("customer_no,order_date,amount\n")
        rows = zip(customer.tolist(), dates.tolist(), amounts.tolist(), strict=True)
        handle.writelines(f"K{c:07d},{d},{a:.2f}\n" for c, d, a in rows)
    return int(customer.size)


def timed_command(*args: str) -> tuple[float, str, float]:
    """Run ``python -m mailer`` with ``args``; return the wall seconds, stdout and the command's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-m", "mailer", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, done.stdout, cpu


def cdnow_table() -> tuple[dict[str, object], str]:
    """Return the CDNOW backtest and its Markdown tables (figures, baselines, calibration)."""
    _, text, _ = timed_command(
        "churn", "backtest", "--orders", str(CDNOW), "--calibration-end", "1997-09-30", "--horizon-days", "273",
        "--json",
    )
    result = json.loads(text)
    lines = [
        "| score | AUC | Brier |",
        "|---|---:|---:|",
        f"| **churn risk ({result['model']}, no purchase within 273 days)** | **{result['auc']:.3f}** "
        f"| **{result['brier']:.4f}** |",
    ]
    for baseline in result["baselines"]:
        brier = "—" if baseline["brier"] is None else f"{baseline['brier']:.4f}"
        lines.append(f"| {baseline['name']} | {baseline['auc']:.3f} | {brier} |")
    lines.append(
        f"| the base rate ({result['base_rate']:.1%}) for everyone | 0.500 | {result['base_rate_brier']:.4f} |"
    )
    lines += ["", "| decile of the risk | customers | predicted | observed | gap |", "|---:|---:|---:|---:|---:|"]
    for part in result["calibration"]:
        gap = part["observed"] - part["predicted"]
        mark = "**" if part["decile"] == result["worst_decile"] else ""
        lines.append(
            f"| {mark}{part['decile']}{mark} | {part['customers']:,} | {part['predicted']:.3f} | "
            f"{part['observed']:.3f} | {mark}{gap:+.3f}{mark} |"
        )
    return result, "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, help="the orders file (default /tmp/churn-backtest-N.csv)")
    parser.add_argument("--seed", type=int, default=1997)
    parser.add_argument("--write-readme", action="store_true", help="update the Churn section of bench/README.md")
    args = parser.parse_args()

    path = args.file or Path(f"/tmp/churn-backtest-{args.customers}.csv")
    if not path.exists():
        started = time.perf_counter()
        orders = build_file(path, customers=args.customers, seed=args.seed)
        print(f"wrote {path} ({orders:,} orders) in {time.perf_counter() - started:.0f} s")

    load_before = os.getloadavg()
    backtest_s, text, backtest_cpu = timed_command(
        "churn", "backtest", "--orders", str(path), "--calibration-end", CALIBRATION_END.isoformat(),
        "--horizon-days", str(HORIZON_DAYS), "--json",
    )
    fit_s, _, fit_cpu = timed_command(
        "churn", "fit", "--orders", str(path), "--as-of", CALIBRATION_END.isoformat(), "--json"
    )
    result = json.loads(text)
    orders = read_orders_csv(path)
    started, cpu_started = time.perf_counter(), time.process_time()
    end_day = (CALIBRATION_END - dt.date(1970, 1, 1)).days
    run_backtest(orders.customer_nos, orders.order_days, calibration_end_day=end_day, horizon_days=HORIZON_DAYS)
    arrays_s, arrays_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    load_after = os.getloadavg()
    load = (min(load_before[0], load_after[0]), max(load_before[0], load_after[0]))
    best = max(result["baselines"], key=lambda b: b["auc"])
    print(f"{result['customers']:,} customers, {orders.n_orders:,} orders in the file")
    print(f"load average {load[0]:.1f}–{load[1]:.1f}; churn backtest: {backtest_cpu:.1f} CPU s, {backtest_s:.1f} s "
          f"end to end ({arrays_cpu:.1f} CPU s, {arrays_s:.1f} s on arrays); churn fit on the same file: "
          f"{fit_cpu:.1f} CPU s, {fit_s:.1f} s; ratio {backtest_cpu / fit_cpu:.2f} CPU, {backtest_s / fit_s:.2f} wall")
    print(f"simulated file: AUC {result['auc']:.3f} (best baseline {best['name']} {best['auc']:.3f}), "
          f"Brier {result['brier']:.4f} (base rate's {result['base_rate_brier']:.4f})")
    cdnow, table = cdnow_table()
    print(table)

    if args.write_readme:
        lines = [
            f"Run {dt.date.today().isoformat()} on {cpu_name()} ({os.cpu_count()} cores, shared with other work; "
            f"1-minute load average {load[0]:.1f}–{load[1]:.1f} during the run), "
            f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}.",
            "",
            f"- Data: an orders CSV of {result['customers']:,} customers and {orders.n_orders:,} orders drawn from "
            "the BG/NBD process, first purchases over the 18 months before the calibration end.",
            f"- Timed: `churn backtest --calibration-end {CALIBRATION_END} --horizon-days {HORIZON_DAYS} --json` "
            "end to end (a new process: read and check the file, fit MBG/NBD and BG/NBD, score, AUC of the risk and "
            "four baselines, Brier scores, calibration); baseline in the same run: `churn fit` on the same file.",
            "",
            "| what | CPU s | wall s |",
            "|---|---:|---:|",
            f"| **`churn backtest`, {result['customers']:,} customers** | **{backtest_cpu:.1f}** "
            f"| **{backtest_s:.1f}** |",
            f"| of which `run_backtest` on the arrays | {arrays_cpu:.1f} | {arrays_s:.1f} |",
            f"| `churn fit` on the same file (baseline) | {fit_cpu:.1f} | {fit_s:.1f} |",
            f"| ratio backtest / fit | {backtest_cpu / fit_cpu:.2f} | {backtest_s / fit_s:.2f} |",
            "",
            f"On the simulated file the risk's AUC is {result['auc']:.3f} (best baseline, {best['name']}: "
            f"{best['auc']:.3f}), its Brier score {result['brier']:.4f} against {result['base_rate_brier']:.4f} "
            "for the base rate. (The file is drawn from BG/NBD itself, so BG/NBD's own horizon figure may rank "
            f"best there; the risk's AUC is {best['auc'] - result['auc']:.3f} below the best baseline's.)",
            "",
            f"CDNOW's purchase history ({cdnow['customers']:,} customers, calibration to 1997-09-30, 39-week holdout):",
            "",
            table,
        ]
        write_readme_part(PART, "\n".join(lines))
        print("wrote bench/README.md")


if __name__ == "__main__":
    main()
