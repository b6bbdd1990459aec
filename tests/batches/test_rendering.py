"""Rendering batches as the print shop and the mailroom will read them."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskCliRunner
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailer import PROJECT_ROOT
from mailer.batches.models import Batch, BatchStatus, MailPiece, PieceStatus
from mailer.batches.piece_codes import display_piece_code, parse_piece_code
from mailer.batches.rendering import (
    RenderError,
    enqueue_files,
    finish_render,
    is_test_link_address,
    prepare_render,
    render_file,
)
from mailer.batches.selection import BatchFilters, create_batch
from mailer.batches.tokens import token_is_valid
from mailer.db import db
from mailer.files import PRIVATE_FILE_MODE
from tests.conftest import file_mode
from tests.factories import CN_ROW, US_ROW, add_customer

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def make_batch(app: Flask, count: int, *, base: dict[str, str] = CN_ROW, profile: str = "cn-dl", **extra: str) -> int:
    with app.app_context():
        session = db.session
        for index in range(count):
            add_customer(session, f"C{index:03d}", base=base, line1=f"中山路{index + 1}号", **extra)
        batch = create_batch(session, campaign_name="Spring", profile=profile, filters=BatchFilters(), actor="t")
        session.commit()
        return batch.id


def manifest_rows(out: Path) -> list[dict[str, str]]:
    with (out / "manifest.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def decode_page(pdf: Path, page: int, tmp_path: Path) -> list[str]:
    prefix = tmp_path / f"{pdf.stem}-{page}"
    subprocess.run(["pdftoppm", "-r", "200", "-f", str(page), "-l", str(page), "-png", "-singlefile", str(pdf),
                    str(prefix)], check=True)
    return [result.text for result in zxingcpp.read_barcodes(Image.open(f"{prefix}.png"))]


def test_render_writes_bounded_files_and_a_manifest_matching_the_pages(committed_app: Flask, tmp_path: Path) -> None:
    batch_id = make_batch(committed_app, 7)
    out = tmp_path / "out"

    result = committed_app.test_cli_runner().invoke(
        args=["batch", "render", str(batch_id), "--out", str(out), "--pieces-per-file", "3", "--workers", "2"]
    )

    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.glob("*.pdf"))
    assert files == [f"batch-{batch_id}-0001.pdf", f"batch-{batch_id}-0002.pdf", f"batch-{batch_id}-0003.pdf"]
    assert [len(PdfReader(out / name).pages) for name in files] == [6, 6, 2]
    rows = manifest_rows(out)
    assert len(rows) == 7 and [r["page"] for r in rows[:4]] == ["1", "3", "5", "1"]
    assert [r["postal_code"] for r in rows] == sorted(r["postal_code"] for r in rows)
    assert {r["bundle"] for r in rows} == {"310"}
    fourth = rows[3]
    assert fourth["file"] == files[1]
    front = decode_page(out / fourth["file"], int(fourth["page"]), tmp_path)
    back = decode_page(out / fourth["file"], int(fourth["page"]) + 1, tmp_path)
    assert fourth["piece_code"] in front
    (url,) = [text for text in back if text.startswith("https://")]
    token = url.rsplit("/u/", 1)[1]
    with committed_app.app_context():
        batch = db.session.get(Batch, batch_id)
        assert batch is not None and batch.status is BatchStatus.RENDERED
        assert token_is_valid(secret="render-secret", token=token, expires_on=batch.update_expires_on,
                              today=date.today())
    assert token.startswith(fourth["piece_code"])


@pytest.mark.parametrize(("profile", "base"), [("cn-dl", CN_ROW), ("us-10", US_ROW)])
def test_the_code_under_the_barcode_prints_grouped_as_people_type_it(
    committed_app: Flask, tmp_path: Path, profile: str, base: dict[str, str]
) -> None:
    batch_id = make_batch(committed_app, 1, base=base, profile=profile)
    out = tmp_path / "out"

    result = committed_app.test_cli_runner().invoke(args=["batch", "render", str(batch_id), "--out", str(out),
                                                          "--workers", "1"])

    assert result.exit_code == 0, result.output
    (row,) = manifest_rows(out)
    code = row["piece_code"]
    front_text = PdfReader(out / row["file"]).pages[0].extract_text()
    assert display_piece_code(code) in front_text and code not in front_text.replace(display_piece_code(code), "")
    # The bars keep the plain code, which the mailroom's scan reads as it always did.
    scanned = [text for text in decode_page(out / row["file"], 1, tmp_path) if text != row["postal_code"]]
    assert code in scanned and parse_piece_code(display_piece_code(code)) == code


def test_an_interrupted_render_resumes_with_the_files_not_yet_written(committed_app: Flask, tmp_path: Path) -> None:
    batch_id = make_batch(committed_app, 5)
    out = tmp_path / "out"
    from mailer.batches.jobs import render_settings

    with committed_app.app_context():
        settings = render_settings(out)
        pending = prepare_render(db.session, batch_id=batch_id, settings=settings, pieces_per_file=2, actor="t")
        db.session.commit()
        render_file(settings, pending[0].id)
    first = out / f"batch-{batch_id}-0001.pdf"
    written_at = first.stat().st_mtime_ns
    stale = out / f".batch-{batch_id}-0002.pdf.abc.tmp"
    stale.write_bytes(b"%PDF-1.4 half a file")

    result = committed_app.test_cli_runner().invoke(
        args=["batch", "render", str(batch_id), "--out", str(out), "--pieces-per-file", "2", "--workers", "1"]
    )

    assert result.exit_code == 0, result.output
    assert first.stat().st_mtime_ns == written_at
    assert not stale.exists()
    assert len(manifest_rows(out)) == 5
    again = committed_app.test_cli_runner().invoke(args=["batch", "render", str(batch_id), "--out", str(out)])
    assert again.exit_code == 2 and "already rendered" in again.stderr


def test_an_address_that_does_not_fit_is_refused_by_piece_or_held(committed_app: Flask, tmp_path: Path) -> None:
    batch_id = make_batch(committed_app, 2)
    with committed_app.app_context():
        session = db.session
        long_line = "东方明珠花园" * 30 + "1号"
        add_customer(session, "C999", base=CN_ROW, line1=long_line, postal_code="310099")
        # The first batch's customers again, with one whose address does not fit.
        batch = create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), remail=True,
                             actor="t")
        session.commit()
        batch_id = batch.id
    runner = committed_app.test_cli_runner()

    refused = runner.invoke(args=["batch", "render", str(batch_id), "--out", str(tmp_path / "a"), "--workers", "1"])
    held = runner.invoke(args=["batch", "render", str(batch_id), "--out", str(tmp_path / "b"), "--workers", "1",
                               "--hold-unfit"])

    assert refused.exit_code == 1
    assert "do not fit" in refused.stderr and "mm wide" in refused.stderr
    assert not list((tmp_path / "a").glob("*.pdf"))
    assert held.exit_code == 0, held.output
    assert len(manifest_rows(tmp_path / "b")) == 2
    with (tmp_path / "b" / "held.csv").open(encoding="utf-8-sig") as handle:
        (hold,) = list(csv.DictReader(handle))
    assert hold["customer_no"] == "C999" and "mm wide" in hold["reason"]
    assert hold["piece_code"] in refused.stderr


def test_file_jobs_run_on_the_rq_queue_against_postgresql(committed_postgres_app: Flask, tmp_path: Path) -> None:
    from mailer.batches.jobs import render_settings
    from tests.batches.test_jobs import private_render_queue

    batch_id = make_batch(committed_postgres_app, 5, base=US_ROW, profile="us-10")
    out = tmp_path / "out"
    # A queue of this test's own: a worker on a shared one could take another test run's jobs, or lose these.
    with private_render_queue() as queue:
        with committed_postgres_app.app_context():
            settings = render_settings(out)
            pending = prepare_render(
                db.session, batch_id=batch_id, settings=settings, pieces_per_file=2, actor="t"
            )
            db.session.commit()
            enqueue_files(settings, [f.id for f in pending], queue=queue)

        worker = subprocess.run(
            [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", TEST_REDIS_URL, queue.name],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        )

    assert worker.returncode == 0, worker.stderr
    with committed_postgres_app.app_context():
        finish_render(db.session, batch_id=batch_id, out_dir=out)
        db.session.commit()
    rows = manifest_rows(out)
    assert len(rows) == 5 and len(list(out.glob("*.pdf"))) == 3
    assert rows[0]["piece_code"] in decode_page(out / rows[0]["file"], 1, tmp_path)


def test_an_empty_batch_made_before_empty_ones_were_refused_is_not_rendered(
    committed_app: Flask, tmp_path: Path
) -> None:
    batch_id = make_batch(committed_app, 1)
    with committed_app.app_context():
        batch = db.session.get_one(Batch, batch_id)
        db.session.execute(delete(MailPiece).where(MailPiece.batch_id == batch_id))
        batch.piece_count = 0
        db.session.commit()

    result = committed_app.test_cli_runner().invoke(args=["batch", "render", str(batch_id), "--out", str(tmp_path)])

    assert result.exit_code == 2
    assert f"batch {batch_id} holds no piece" in result.stderr
    assert not (tmp_path / "manifest.csv").exists()


def _selected_batch(session: Session, *line1s: str) -> Batch:
    for index, line1 in enumerate(line1s):
        add_customer(session, f"C{index:03d}", base=CN_ROW, line1=line1)
    batch = create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
    session.commit()
    return batch


def test_finishing_a_batch_never_rendered_is_refused_and_changes_nothing(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    batch = _selected_batch(session, "中山路1号", "中山路2号")

    result = runner.invoke(args=["batch", "finish", str(batch.id), "--out", str(tmp_path)])

    assert result.exit_code == 2
    assert f"error: batch {batch.id} has not been rendered: it must be rendered first" in result.stderr
    assert list(tmp_path.iterdir()) == []
    session.expire_all()
    assert session.get_one(Batch, batch.id).status is BatchStatus.SELECTED


@pytest.mark.parametrize("folder", ["out", "missing/out"])
def test_finishing_a_batch_that_does_not_exist_writes_nothing(
    runner: FlaskCliRunner, session: Session, tmp_path: Path, folder: str
) -> None:
    out = tmp_path / folder
    (tmp_path / "out").mkdir()

    result = runner.invoke(args=["batch", "finish", "999", "--out", str(out)])

    assert result.exit_code == 2
    assert result.stderr.startswith("error: no batch 999")
    assert isinstance(result.exception, SystemExit)  # refused, not crashed
    assert list((tmp_path / "out").iterdir()) == [] and not (tmp_path / "missing").exists()


def test_a_batch_whose_every_piece_would_be_held_is_neither_planned_nor_finished(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    from mailer.batches.jobs import render_settings

    batch = _selected_batch(session, "东方明珠花园" * 30 + "1号")
    with pytest.raises(RenderError, match="would be held"):
        prepare_render(session, batch_id=batch.id, settings=render_settings(tmp_path), hold_unfit=True,
                       allow_test_links=True, actor="t")
    session.rollback()

    result = runner.invoke(args=["batch", "finish", str(batch.id), "--out", str(tmp_path)])

    assert result.exit_code == 2 and "has not been rendered" in result.stderr
    assert not (tmp_path / "manifest.csv").exists()
    assert session.scalars(select(MailPiece.status)).all() == [PieceStatus.READY]


def test_finishing_before_every_file_is_written_exits_1(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    from mailer.batches.jobs import render_settings

    batch = _selected_batch(session, "中山路1号")
    prepare_render(session, batch_id=batch.id, settings=render_settings(tmp_path), allow_test_links=True, actor="t")
    session.commit()

    result = runner.invoke(args=["batch", "finish", str(batch.id), "--out", str(tmp_path)])

    assert result.exit_code == 1
    assert f"error: 1 file(s) not rendered yet: batch-{batch.id}-0001.pdf" in result.stderr
    assert not (tmp_path / "manifest.csv").exists()


def test_rendering_into_a_folder_that_cannot_be_made_is_refused(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    batch = _selected_batch(session, "中山路1号")
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    out = tmp_path / "a-file" / "out"

    result = runner.invoke(
        args=["batch", "render", str(batch.id), "--out", str(out), "--workers", "1", "--allow-test-links"]
    )

    assert result.exit_code == 2
    assert f"error: cannot write to {out.resolve()}: Not a directory" in result.stderr
    session.expire_all()
    assert session.get_one(Batch, batch.id).status is BatchStatus.SELECTED


def test_holding_every_piece_is_refused_rather_than_freezing_a_batch_that_prints_nothing(
    committed_app: Flask, tmp_path: Path
) -> None:
    with committed_app.app_context():
        add_customer(db.session, "C998", base=CN_ROW, line1="东方明珠花园" * 30 + "1号")
        batch = create_batch(db.session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
        db.session.commit()
        batch_id = batch.id

    result = committed_app.test_cli_runner().invoke(
        args=["batch", "render", str(batch_id), "--out", str(tmp_path), "--workers", "1", "--hold-unfit"]
    )

    assert result.exit_code == 2
    assert f"every piece of batch {batch_id} would be held" in result.stderr and "mm wide" in result.stderr
    with committed_app.app_context():
        assert db.session.get_one(Batch, batch_id).status is BatchStatus.SELECTED
        assert db.session.scalar(select(MailPiece.status)) is PieceStatus.READY
    assert not (tmp_path / "manifest.csv").exists()


@pytest.mark.usefixtures("open_umask")
def test_manifest_and_held_pieces_escape_formula_cells_and_keep_piece_codes_exact(
    committed_app: Flask, tmp_path: Path
) -> None:
    with committed_app.app_context():
        session = db.session
        add_customer(session, "+1", base=CN_ROW, name="=HYPERLINK(\"http://x.invalid\",\"x\")", line1="中山路1号")
        add_customer(session, "@2", base=CN_ROW, line1="东方明珠花园" * 30 + "1号", postal_code="310099")
        batch = create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
        session.commit()
        batch_id = batch.id
    out = tmp_path / "out"

    result = committed_app.test_cli_runner().invoke(
        args=["batch", "render", str(batch_id), "--out", str(out), "--workers", "1", "--hold-unfit"]
    )

    assert result.exit_code == 0, result.output
    with committed_app.app_context():
        codes = dict(db.session.execute(
            select(MailPiece.status, MailPiece.piece_code).where(MailPiece.batch_id == batch_id)
        ).all())
    (piece,) = manifest_rows(out)
    assert piece["customer_no"] == "'+1"
    assert piece["piece_code"] == codes[PieceStatus.READY]
    assert (piece["postal_code"], piece["bundle"], piece["page"]) == ("310012", "310", "1")
    with (out / "held.csv").open(encoding="utf-8-sig", newline="") as handle:
        (hold,) = list(csv.DictReader(handle))
    assert hold["customer_no"] == "'@2" and hold["piece_code"] == codes[PieceStatus.HELD]
    # Text cells are quoted, the page number is written as a number.
    last_line = (out / "manifest.csv").read_text(encoding="utf-8-sig").splitlines()[-1]
    assert last_line.startswith(f'"{codes[PieceStatus.READY]}","\'+1",') and last_line.endswith(",1")
    # Like the PDFs, the lists of who gets which piece are readable by their owner only.
    written = sorted(path.name for path in out.iterdir())
    assert written == [f"batch-{batch_id}-0001.pdf", "held.csv", "manifest.csv"]
    assert {name: file_mode(out / name) for name in written} == dict.fromkeys(written, PRIVATE_FILE_MODE)


@pytest.mark.parametrize(
    "base_url",
    ["http://localhost:5000", "http://mail.example.com", "https://localhost", "https://127.0.0.1:8443",
     "https://[::1]", "https://shop.localhost"],
)
def test_a_render_whose_update_links_would_not_open_is_refused_naming_the_setting(
    runner: FlaskCliRunner, session: Session, tmp_path: Path, base_url: str
) -> None:
    runner.app.config["PUBLIC_BASE_URL"] = base_url
    batch = _selected_batch(session, "中山路1号")

    result = runner.invoke(args=["batch", "render", str(batch.id), "--out", str(tmp_path / "out"), "--workers", "1"])

    assert result.exit_code == 2
    assert f"error: PUBLIC_BASE_URL is {base_url}: the update links" in result.stderr
    assert "--allow-test-links" in result.stderr
    session.expire_all()
    assert session.get_one(Batch, batch.id).status is BatchStatus.SELECTED
    assert not list((tmp_path / "out").glob("*.pdf"))


def test_test_links_are_rendered_when_explicitly_allowed(committed_app: Flask, tmp_path: Path) -> None:
    committed_app.config["PUBLIC_BASE_URL"] = "http://localhost:5000"
    batch_id = make_batch(committed_app, 1)
    out = tmp_path / "out"

    result = committed_app.test_cli_runner().invoke(
        args=["batch", "render", str(batch_id), "--out", str(out), "--workers", "1", "--allow-test-links"]
    )

    assert result.exit_code == 0, result.output
    (url,) = [text for text in decode_page(out / f"batch-{batch_id}-0001.pdf", 2, tmp_path) if "/u/" in text]
    assert url.startswith("http://localhost:5000/u/")


@pytest.mark.parametrize("base_url", ["https://mail.example.com", "https://mail.example.cn/shop", "https://10.0.0.5"])
def test_a_public_https_address_is_not_taken_for_a_test_one(base_url: str) -> None:
    assert not is_test_link_address(base_url)
