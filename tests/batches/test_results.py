"""A campaign's results per batch: mailed, returned by reason, updated by customers; the CLI export."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from mailer.batches.results import batch_file_name, campaign_results, file_name_part, results_file_name
from tests.batches.test_service import mark_rendered, new_batch, pieces_of, returned


def test_results_count_pieces_mailed_returned_by_reason_and_updated_by_customers(session: Session) -> None:
    first = new_batch(session, range(1, 6))
    mark_rendered(session, first, held=1)
    pieces = pieces_of(session, first)
    returned(session, pieces[1], "NSN", corrects=returned(session, pieces[1], "VAC"))
    returned(session, pieces[2], "UNC")
    pieces[3].address_updated_at = datetime(2027, 4, 2, tzinfo=UTC)
    second = new_batch(session, range(10, 12))  # not rendered: nothing mailed yet
    session.flush()

    results = campaign_results(session, campaign_id=first.campaign_id)

    assert [r.batch.id for r in results] == [first.id, second.id]
    assert (results[0].mailed, results[0].returned, results[0].updated_by_customer) == (4, 2, 1)
    assert dict(results[0].returned_by_reason) == {"NSN": 1, "UNC": 1}
    assert (results[1].mailed, results[1].returned, dict(results[1].returned_by_reason)) == (0, 0, {})


def test_download_names_say_the_campaign_and_batch_in_any_script() -> None:
    assert file_name_part("Spring catalog 2027!") == "spring-catalog-2027"
    assert file_name_part("春季 目录/2027") == "春季-目录-2027"
    assert file_name_part("../..") == "campaign"
    assert batch_file_name(campaign_name="Spring 2027", batch_id=3, name="manifest.csv") == (
        "spring-2027-batch-3-manifest.csv"
    )
    assert results_file_name("Spring 2027") == "spring-2027-results.csv"


def test_the_command_writes_the_results_file_and_refuses_an_unknown_campaign(
    session: Session, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    batch = new_batch(session, range(1, 4))
    mark_rendered(session, batch)
    returned(session, pieces_of(session, batch)[0], "MLNA")
    session.commit()
    out = tmp_path / "results.csv"

    result = runner.invoke(args=["batch", "results", "Spring 2027", "--out", str(out)])
    unknown = runner.invoke(args=["batch", "results", "Winter", "--out", str(tmp_path / "w.csv")])

    assert result.exit_code == 0, result.output
    assert f"Wrote the results of 1 batch(es) of Spring 2027 to {out}." in result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["batch"], row["mailed"], row["returned"], row["returned_MLNA"]) for row in rows] == [
        (str(batch.id), "3", "1", "1"), ("total", "3", "1", "1"),
    ]
    assert unknown.exit_code == 2 and "no campaign named 'Winter'" in unknown.output
    assert not (tmp_path / "w.csv").exists()
