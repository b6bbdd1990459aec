"""The backtest: its measures on hand-made data, and the churn risk's goals on CDNOW's purchase history."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mailer.churn import backtest
from mailer.churn.cli import churn_cli

DATA = Path(__file__).parent / "data"
CDNOW = DATA / "cdnow_master.csv.gz"


def test_auc_counts_ties_half_and_needs_both_outcomes() -> None:
    # Pairs (churned, stayed): (0.9, 0.1) right, (0.9, 0.5) right, (0.5, 0.1) right, (0.5, 0.5) tie.
    assert backtest.auc([0.9, 0.5, 0.1, 0.5], [True, True, False, False]) == pytest.approx(3.5 / 4)
    assert math.isnan(backtest.auc([0.2, 0.3], [True, True]))


def test_brier_and_calibration_by_decile() -> None:
    predicted = np.linspace(0.05, 0.95, 100)
    happened = np.arange(100) % 2 == 0

    assert backtest.brier([1.0, 0.0, 0.5], [True, True, False]) == pytest.approx((0 + 1 + 0.25) / 3)
    bins = backtest.calibration(predicted, happened)
    assert [b.customers for b in bins] == [10] * 10
    assert bins[0].predicted == pytest.approx(predicted[:10].mean())
    assert all(b.observed == pytest.approx(0.5) for b in bins)


def _backtest(*extra: str) -> dict[str, object]:
    result = CliRunner().invoke(
        churn_cli,
        ["backtest", "--orders", str(CDNOW), "--calibration-end", "1997-09-30", "--horizon-days", "273", *extra],
    )
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout) if "--json" in extra else {"text": result.stdout}
    return data


def test_on_cdnow_the_risk_ranks_near_the_best_baseline_and_beats_the_base_rate() -> None:
    # The BG/NBD paper's split: 39 weeks of calibration, a 39-week holdout.
    data = _backtest("--json")

    assert data["customers"] == 23_570
    assert data["model"] == "mbg/nbd"
    baselines = {b["name"]: b for b in data["baselines"]}  # type: ignore[attr-defined]
    assert set(baselines) == {"recency", "frequency", "bg/nbd 1 - p_alive", "bg/nbd no purchase"}
    best = max(b["auc"] for b in baselines.values())
    assert data["auc"] >= best - 0.015  # type: ignore[operator]
    assert data["brier"] <= 0.8 * data["base_rate_brier"]  # type: ignore[operator]
    assert data["base_rate"] == pytest.approx(0.7006, abs=1e-4)
    # The chosen model ranks better than the plain BG/NBD figure it replaced, and than BG/NBD's own horizon figure.
    assert data["auc"] > baselines["bg/nbd no purchase"]["auc"] > baselines["bg/nbd 1 - p_alive"]["auc"]
    calibration = data["calibration"]
    assert len(calibration) == 10  # type: ignore[arg-type]
    gaps = [c["observed"] - c["predicted"] for c in calibration]  # type: ignore[attr-defined]
    assert data["worst_gap"] == max(gaps, key=abs)


def test_the_text_names_the_worst_decile_and_the_baselines() -> None:
    text = str(_backtest()["text"])

    assert "churn = no purchase in the next 273 days" in text
    assert "recency" in text and "frequency" in text and "bg/nbd 1 - p_alive" in text
    assert "Worst gap: decile " in text


def test_a_file_that_ends_before_the_holdout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer_no,order_date,amount\nA,2024-01-05,10\nA,2024-02-05,10\nB,2024-03-01,5\n")

    result = CliRunner().invoke(
        churn_cli, ["backtest", "--orders", str(path), "--calibration-end", "2024-02-28", "--horizon-days", "365"]
    )

    assert result.exit_code == 2
    assert "the last order is dated 2024-03-01, but the holdout runs to 2025-02-27" in result.output


def test_too_few_repeat_buyers_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer_no,order_date,amount\nA,2024-01-05,10\nA,2024-02-05,10\nB,2024-12-01,5\n")

    result = CliRunner().invoke(
        churn_cli, ["backtest", "--orders", str(path), "--calibration-end", "2024-03-01", "--horizon-days", "270"]
    )

    assert result.exit_code == 2
    assert "fewer than 20 customers bought on a second day" in result.output
