"""``python -m mailer dedupe``: the pairs file, its columns, and merging from the command line."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.customers.importing import import_customers
from mailer.customers.models import Customer, CustomerStatus
from mailer.files import PRIVATE_FILE_MODE
from tests.conftest import file_mode
from tests.factories import CN_ROW, customer_row, write_csv

COLUMNS = [
    "customer_no_a", "customer_no_b", "score", "name_score", "address_score", "match_probability", "cluster",
]


@pytest.fixture
def customers(session: Session, tmp_path: Path) -> None:
    rows = [
        customer_row(customer_no="C001", name="John Smith", line1="12 Oak St", line2="Apt 4"),
        customer_row(customer_no="C002", name="Jon Smith", line1="12 Oak Street #4", line2=""),
        customer_row(CN_ROW, customer_no="C003"),
        customer_row(
            customer_no="C004", name="Wang Lei", line1="478 Wensan Rd, Huaxing Shidai Guangchang",
            line2="Tower A, Rm 1201", city="Hangzhou", region="Zhejiang", postal_code="310012", country="CN",
        ),
    ]
    import_customers(session, path=write_csv(tmp_path / "customers.csv", rows), actor="test:import")
    session.commit()


def test_dedupe_prints_the_pairs_as_csv_and_a_summary(runner: FlaskCliRunner, customers: None) -> None:
    result = runner.invoke(args=["dedupe"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == COLUMNS
    assert sorted(row[:2] for row in rows[1:]) == [["C001", "C002"], ["C003", "C004"]]
    assert all(float(row[5]) >= 0.9 and float(row[2]) >= 90 for row in rows[1:])
    assert [row[6] for row in rows[1:]] == ["1", "2"]
    assert "4 customers compared" in result.stderr
    assert "2 likely duplicate pairs" in result.stderr
    assert "pairs/s" in result.stderr


@pytest.mark.usefixtures("open_umask")
def test_find_writes_the_pairs_file(runner: FlaskCliRunner, customers: None, tmp_path: Path) -> None:
    out = tmp_path / "pairs.csv"
    result = runner.invoke(args=["dedupe", "find", "--threshold", "0.99", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert file_mode(out) == PRIVATE_FILE_MODE
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == COLUMNS
    assert sorted((row["customer_no_a"], row["customer_no_b"], row["score"]) for row in rows) == [
        ("C001", "C002", "100.0"), ("C003", "C004", "100.0"),
    ]
    assert f"pairs written to {out}" in result.stderr


def test_group_options_work_without_the_find_subcommand(
    runner: FlaskCliRunner, customers: None, tmp_path: Path
) -> None:
    out = tmp_path / "pairs.csv"
    result = runner.invoke(args=["dedupe", "--threshold", "0.99", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["threshold"] == 0.99
    assert [list(pair) for pair in data["pairs"]] == [[*COLUMNS, "waterfall"]] * 2
    steps = data["pairs"][0]["waterfall"]
    assert [s["step"] for s in steps[:2]] == ["prior", "given"]
    assert steps[-1] == {"step": "match_probability", "probability": data["pairs"][0]["match_probability"]}
    assert sorted(pair["customer_no_a"] for pair in data["pairs"]) == ["C001", "C003"]
    assert data["summary"]["customers"] == 4
    assert {"pairs_compared", "pairs_per_second", "clusters", "households", "seconds"} <= set(data["summary"])
    assert next(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")))) == COLUMNS


def test_a_bad_threshold_is_a_usage_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["dedupe", "--threshold", "120"])
    assert result.exit_code == 2


def test_merge_list_and_undo(runner: FlaskCliRunner, customers: None, session: Session) -> None:
    result = runner.invoke(args=["dedupe", "merge", "C001", "C002"])
    assert result.exit_code == 0, result.output
    assert "customer C002 merged into C001 (score 100.0)" in result.stdout
    merged = session.scalar(select(Customer).where(Customer.customer_no == "C002"))
    assert merged is not None and merged.status == CustomerStatus.MERGED

    listed = json.loads(runner.invoke(args=["dedupe", "merges", "--json"]).stdout)
    assert [(m["survivor"], m["merged"], m["automatic"], m["undone_at"]) for m in listed] == [
        ("C001", "C002", False, None)
    ]
    merge_id = listed[0]["merge_id"]

    again = runner.invoke(args=["dedupe", "merge", "C003", "C002"])
    assert again.exit_code == 1
    assert "already merged" in again.stderr

    undone = runner.invoke(args=["dedupe", "undo", str(merge_id)])
    assert undone.exit_code == 0, undone.output
    session.expire_all()
    assert session.scalar(select(Customer.status).where(Customer.customer_no == "C002")) == CustomerStatus.ACTIVE
    assert runner.invoke(args=["dedupe", "undo", str(merge_id)]).exit_code == 1


def test_auto_needs_a_configured_line(runner: FlaskCliRunner, customers: None) -> None:
    result = runner.invoke(args=["dedupe", "auto"])
    assert result.exit_code == 2
    assert "no auto-merge line configured" in result.stderr
    assert runner.invoke(args=["dedupe", "auto", "--min-score", "80"]).exit_code == 2


def test_auto_merges_above_the_line_from_the_settings(app: Flask, runner: FlaskCliRunner, customers: None) -> None:
    # What the settings read from MAILER_DEDUPE_AUTO_MERGE_SCORE (tests/test_settings.py).
    app.config["DEDUPE_AUTO_MERGE_SCORE"] = 99.0
    dry = runner.invoke(args=["dedupe", "auto", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert [m["merge_id"] for m in json.loads(dry.stdout)["merges"]] == [None, None]

    result = runner.invoke(args=["dedupe", "auto"])
    assert result.exit_code == 0, result.output
    assert "C001 / C002 (score 100.0)" in result.stdout
    assert "2 pairs merged automatically at score 99 or more" in result.stderr
    listed = json.loads(runner.invoke(args=["dedupe", "merges", "--json"]).stdout)
    assert sorted((m["merged"], m["automatic"]) for m in listed) == [("C002", True), ("C004", True)]


def test_dismiss_list_and_restore_a_pair(runner: FlaskCliRunner, customers: None) -> None:
    result = runner.invoke(args=["dedupe", "dismiss", "C002", "C001", "--note", "father and son"])
    assert result.exit_code == 0, result.output
    assert "customers C002 and C001 marked as not duplicates" in result.stdout
    again = runner.invoke(args=["dedupe", "dismiss", "C001", "C002"])
    assert again.exit_code == 0 and "already marked" in again.stdout

    found = runner.invoke(args=["dedupe", "--json"])
    data = json.loads(found.stdout)
    assert [(p["customer_no_a"], p["customer_no_b"]) for p in data["pairs"]] == [("C003", "C004")]
    assert data["summary"]["dismissed"] == 1
    assert "1 likely duplicate pairs in 1 groups at match probability 0.9 or more (1 more marked not duplicates)" in (
        runner.invoke(args=["dedupe"]).stderr
    )

    listed = json.loads(runner.invoke(args=["dedupe", "dismissed", "--json"]).stdout)
    assert [(p["customer_no_a"], p["customer_no_b"], p["note"]) for p in listed] == [
        ("C001", "C002", "father and son")
    ]
    assert listed[0]["actor"].startswith("cli:")
    assert "C001 / C002" in runner.invoke(args=["dedupe", "dismissed"]).stdout

    restored = runner.invoke(args=["dedupe", "restore", "C001", "C002"])
    assert restored.exit_code == 0, restored.output
    assert json.loads(runner.invoke(args=["dedupe", "dismissed", "--json"]).stdout) == []
    assert "\"C001\",\"C002\"" in runner.invoke(args=["dedupe"]).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [(["dismiss", "C001", "C001"], "cannot be paired with itself"),
     (["dismiss", "C001", "C999"], "no customer C999"),
     (["restore", "C001", "C002"], "not marked as different people")],
)
def test_a_refused_dismiss_or_restore_exits_1(
    runner: FlaskCliRunner, customers: None, args: list[str], message: str
) -> None:
    result = runner.invoke(args=["dedupe", *args])
    assert result.exit_code == 1
    assert message in result.stderr and "nothing was changed" in result.stderr
    assert json.loads(runner.invoke(args=["dedupe", "dismissed", "--json"]).stdout) == []


def test_merging_a_pair_marked_different_people_exits_1_until_it_is_restored(
    runner: FlaskCliRunner, customers: None
) -> None:
    runner.invoke(args=["dedupe", "dismiss", "C001", "C002", "--note", "twins"])
    refused = runner.invoke(args=["dedupe", "merge", "C001", "C002"])
    assert refused.exit_code == 1
    assert "are marked as different people" in refused.stderr and "nothing was merged" in refused.stderr
    assert json.loads(runner.invoke(args=["dedupe", "merges", "--json"]).stdout) == []

    runner.invoke(args=["dedupe", "restore", "C001", "C002"])
    assert runner.invoke(args=["dedupe", "merge", "C001", "C002"]).exit_code == 0


@pytest.mark.parametrize("command", [["dedupe"], ["dedupe", "find"]])
def test_an_out_path_that_cannot_be_written_is_refused(
    runner: FlaskCliRunner, customers: None, tmp_path: Path, command: list[str]
) -> None:
    out = tmp_path / "missing" / "pairs.csv"

    result = runner.invoke(args=[*command, "--out", str(out)])

    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {out}: No such file or directory\n"
    assert result.stdout == ""


def test_a_merged_customer_is_shown_with_the_customer_it_was_merged_into(
    runner: FlaskCliRunner, customers: None
) -> None:
    assert runner.invoke(args=["dedupe", "merge", "C001", "C002"]).exit_code == 0
    shown = runner.invoke(args=["customers", "show", "C002"])
    assert "(merged)" in shown.stdout and "merged into C001" in shown.stdout
    assert json.loads(runner.invoke(args=["customers", "show", "C002", "--json"]).stdout)["merged_into"] == "C001"


def test_run_stores_the_search_for_the_review_page(runner: FlaskCliRunner, customers: None) -> None:
    result = runner.invoke(args=["dedupe", "run", "--threshold", "0.95"])
    assert result.exit_code == 0, result.output
    assert re.search(r"duplicate search \d+ stored: 2 pairs among 4 customers", result.stdout)
    from mailer.db import db
    from mailer.dedupe.stored import latest_run

    run = latest_run(db.session)
    assert run is not None and run.threshold == 0.95 and run.pairs_found == 2


def test_run_incremental_adds_new_customers_pairs_and_needs_a_stored_search(
    runner: FlaskCliRunner, customers: None, session: Session
) -> None:
    refused = runner.invoke(args=["dedupe", "run", "--incremental"])
    assert refused.exit_code == 1 and "run a full search first" in refused.output
    assert runner.invoke(args=["dedupe", "run"]).exit_code == 0
    from tests.factories import add_customer

    add_customer(session, "C005", name="John Smiht", line1="12 Oak St", line2="Apt 4")
    session.commit()
    result = runner.invoke(args=["dedupe", "run", "--incremental"])
    assert result.exit_code == 0, result.output
    assert re.search(r"duplicate search \d+ refreshed: 1 new or changed customers, \d+ pairs compared, "
                     r"2 pairs found; 4 pairs stored in all", result.stdout), result.stdout
