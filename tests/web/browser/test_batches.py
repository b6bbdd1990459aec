"""Campaigns and batches in a real headless Chromium: preview and create a batch, proof it, render it on the queue."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from flask import Flask
from playwright.sync_api import expect
from pypdf import PdfReader
from rq import Queue
from sqlalchemy import select

from mailer import PROJECT_ROOT
from mailer.auth.models import Role
from mailer.batches.models import Campaign, MailPiece
from mailer.batches.proof import proof_piece_code
from mailer.customers.importing import CUSTOMER_COLUMNS, import_customers
from mailer.db import db
from mailer.demo.generate import generate_customers
from mailer.imports import ImportReport
from tests.batches.test_jobs import TEST_REDIS_URL, private_render_queue
from tests.batches.test_service import returned
from tests.envelopes.helpers import rasterize
from tests.factories import write_csv
from tests.web.browser.conftest import LiveServer
from tests.web.browser.test_pages import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def render_queue(live_server: LiveServer, tmp_path: Path) -> Iterator[Queue]:
    """Render the live server's batches into tmp_path, on a queue of this test's own."""
    with private_render_queue() as queue:
        live_server.app.config.update(
            BATCH_OUTPUT_DIR=str(tmp_path / "batches"), BATCH_PIECES_PER_FILE=25,
            REDIS_URL=TEST_REDIS_URL, RENDER_QUEUE=queue.name,
            # Renders are refused for update links customers could not open; the pages stay on the test server.
            PUBLIC_BASE_URL="https://mail.example.com",
        )
        yield queue


def burst_worker(queue: Queue, app: Flask) -> None:
    """Run `rq worker --burst` on the queue in its own process, configured as a render machine would be."""
    worker = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", TEST_REDIS_URL, queue.name],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DATABASE_URL": app.config["DATABASE_URL"],
             "SECRET_KEY": app.config["SECRET_KEY"]},
    )
    assert worker.returncode == 0, worker.stderr


def import_demo_customers(live_server: LiveServer, folder: Path, customers: list[dict[str, str]]) -> ImportReport:
    """Import generated customers into the live server's database and commit them."""
    with live_server.app.app_context():
        report = import_customers(
            db.session, path=write_csv(folder / "customers.csv", customers, CUSTOMER_COLUMNS), actor="test"
        )
        db.session.commit()
    return report


def test_marketing_creates_a_batch_renders_it_and_downloads_a_pdf(
    live_server: LiveServer, render_queue: Queue, open_page, screenshots: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    customers = list(generate_customers(80, seed=21))
    report = import_demo_customers(live_server, tmp_path, customers)
    assert not report.rejected
    us_customers = sum(1 for c in customers if c["country"] == "US")

    page = open_page()
    log_in(page, live_server, Role.MARKETING, then="/campaigns")
    assert "No campaign yet." in page.inner_text("main")
    page.click("text=New batch")
    page.fill("input[name=campaign]", "Spring catalog 2027")
    page.select_option("select[name=profile]", "us-10")
    page.click("button:has-text('Select recipients')")
    page.wait_for_selector("h1:has-text('Batch')")
    body = page.inner_text("main")
    pieces = int(re.search(r"created: (\d+) pieces", body).group(1))  # type: ignore[union-attr]
    assert 0 < pieces <= us_customers
    assert re.search(rf"outside the filters\s+{len(customers) - us_customers}", body)
    assert page.locator("#pieces tbody tr").count() == min(pieces, 50)

    page.click("button:has-text('Render the print files')")
    page.wait_for_selector("#render-progress")
    assert "Waiting for a worker" in page.inner_text("#render-progress")
    # No worker listens on the test's queue yet: the page says so plainly instead of waiting in silence.
    expect(page.locator("[data-role=no-worker]")).to_be_visible()
    expect(page.locator("[data-role=no-worker]")).to_contain_text(f"queue “{render_queue.name}”")
    # The page keeps polling while a worker on another process renders the files.
    burst_worker(render_queue, live_server.app)
    page.wait_for_selector("a:has-text('Manifest (CSV)')", timeout=30_000)
    files = (pieces + 24) // 25
    assert page.locator("a[href*='/files/']").count() == files
    assert page.locator("#render-progress").count() == 0
    page.screenshot(path=str(screenshots / "batch.png"), full_page=True)

    with page.expect_download() as download:
        page.click("a[href$='/files/1']")
    pdf = Path(download.value.path())
    assert pdf.read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename.endswith("-0001.pdf")

    # Two pieces come back, one of them scanned again with another reason: two returned pieces.
    with live_server.app.app_context():
        first, second = db.session.scalars(select(MailPiece).order_by(MailPiece.sequence).limit(2))
        returned(db.session, first, "NSN", corrects=returned(db.session, first, "VAC"))
        returned(db.session, second, "UNC")
        db.session.commit()
    page.click("text=All campaigns")
    expect(page.locator("main")).to_contain_text("Return rate")
    campaigns = page.inner_text("main")
    rate = f"{2 / pieces:.1%}"
    assert "Spring catalog 2027" in campaigns and f"Return rate: {rate}" in campaigns
    assert f"2 of {pieces} mailed pieces came back at least once" in campaigns
    page.screenshot(path=str(screenshots / "campaigns.png"), full_page=True)
    page.goto(live_server.url + "/dashboard")
    assert f">{rate}</text>" in page.inner_html("svg.chart[aria-label='Return rate per campaign']")


def test_marketing_cancels_a_batch_and_selects_its_campaign_again(
    live_server: LiveServer, open_page, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    import_demo_customers(live_server, tmp_path, list(generate_customers(40, seed=21)))
    page = open_page()
    log_in(page, live_server, Role.MARKETING, then="/batches/new")

    def select_recipients(*, remail: bool = False) -> str:
        page.goto(live_server.url + "/batches/new")
        page.fill("input[name=campaign]", "Summer catalog 2027")
        page.select_option("select[name=profile]", "us-10")
        if remail:
            page.check("input[name=remail]")
        page.click("button:has-text('Select recipients')")
        return page.inner_text("main")

    created = select_recipients()
    pieces = re.search(r"created: (\d+) pieces", created).group(1)  # type: ignore[union-attr]
    page.click("#cancel-batch button")
    expect(page.locator("main")).to_contain_text("This batch is cancelled")
    assert "cancelled" in page.inner_text(".page-head")
    assert page.locator("#cancel-batch").count() == 0
    assert page.locator("button:has-text('Render the print files')").count() == 0

    # The cancelled batch holds nobody: the campaign selects the same customers again, and re-mails them
    # only when asked to (without the tick the form refuses; tests/web/batches covers that answer).
    again = select_recipients()
    assert f"created: {pieces} pieces" in again and re.search(r"already in a batch of this campaign\s+0", again)
    remailed = select_recipients(remail=True)
    assert f"created: {pieces} pieces" in remailed


def test_marketing_previews_a_batch_then_proofs_it_before_rendering(
    live_server: LiveServer, open_page, screenshots: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    import_demo_customers(live_server, tmp_path, list(generate_customers(60, seed=23)))
    page = open_page()
    log_in(page, live_server, Role.MARKETING, then="/batches/new")
    page.fill("input[name=campaign]", "Autumn catalog 2027")
    page.select_option("select[name=profile]", "us-10")
    page.click("button:has-text('Preview')")

    preview = page.locator("#preview")
    expect(preview).to_contain_text("Preview: nothing created yet")
    pieces = int(preview.locator("[data-role=pieces]").inner_text().replace(",", ""))
    assert pieces > 0
    assert preview.locator("[data-role=postage]").inner_text() == f"{pieces * 0.78:.2f} USD"
    assert preview.locator("#preview-regions tbody tr").count() > 0
    bundle_pieces = sum(int(cell.replace(",", "")) for cell in
                        preview.locator("#preview-bundles tbody td.num").all_inner_texts())
    assert bundle_pieces == pieces or "more bundles" in preview.inner_text()
    page.screenshot(path=str(screenshots / "batch-preview.png"), full_page=True)
    with live_server.app.app_context():
        assert db.session.scalar(select(Campaign).where(Campaign.name == "Autumn catalog 2027")) is None

    # The form kept what was typed: creating the batch gives the pieces the preview counted.
    page.click("button:has-text('Select recipients')")
    page.wait_for_selector("h1:has-text('Batch')")
    assert f"created: {pieces} pieces" in page.inner_text("main")

    page.fill("#proof input[name=first]", "3")
    with page.expect_download() as download:
        page.click("#proof button:has-text('Proof PDF')")
    assert download.value.suggested_filename.endswith("-proof.pdf")
    pdf = tmp_path / "proof.pdf"
    download.value.save_as(pdf)
    reader = PdfReader(pdf)
    assert len(reader.pages) == 6 and all("PROOF" in p.extract_text() for p in reader.pages)
    scanned = zxingcpp.read_barcodes(rasterize(pdf, 1, 300), formats=zxingcpp.BarcodeFormat.Code128)
    assert [barcode.text for barcode in scanned] == [proof_piece_code(1)]
    # Nothing changed on the batch: still waiting for its render.
    assert page.locator("button:has-text('Render the print files')").count() == 1
