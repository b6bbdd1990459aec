"""The batch form's preview and the batch page's proof: numbers and a PDF, nothing created."""

from __future__ import annotations

import io
import re

import zxingcpp
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from mailer.audit.models import AuditEntry
from mailer.auth.models import Role
from mailer.batches.models import Batch, BatchStatus, Campaign, MailPiece
from mailer.batches.proof import proof_piece_code
from mailer.batches.selection import BatchFilters, create_batch
from mailer.customers.models import CustomerStatus
from mailer.db import db
from tests.envelopes.helpers import rasterize
from tests.factories import CN_ROW, US_ROW, add_customer
from tests.web.conftest import data, post


def _stored(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Campaign)) or 0,
            db.session.scalar(select(func.count()).select_from(Batch)) or 0,
            db.session.scalar(select(func.count()).select_from(MailPiece)) or 0,
        )


def test_preview_shows_pieces_left_out_regions_bundles_and_postage_and_creates_nothing(
    app: Flask, logged_in  # type: ignore[no-untyped-def]
) -> None:
    with data(app) as session:
        add_customer(session, "C001", base=US_ROW)
        add_customer(session, "C002", base=US_ROW, line1="2 Elm Street", status=CustomerStatus.DECEASED)
        add_customer(session, "C003", base=US_ROW, line1="7 Pine Street", region="CA", postal_code="94105")
        add_customer(session, "C004", base=CN_ROW)
    client = logged_in(Role.MARKETING)

    response = post(client, "/batches/new", {"campaign": "Spring catalog 2027", "profile": "us-10", "preview": "1"})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Preview: nothing created yet" in page
    assert re.search(r'data-role="pieces">2<', page)
    assert "1.56 USD" in page  # 2 pieces at 0.78
    assert re.search(r"<td>IL</td><td class=\"num\">1</td>", page) and re.search(r"<td>CA</td>", page)
    assert re.search(r'<td class="mono">627</td><td class="num">1</td>', page)
    assert re.search(r"<td>deceased</td><td class=\"num\">1</td>", page)
    # The form keeps what was typed, ready to create the batch it previewed.
    assert 'value="Spring catalog 2027"' in page
    assert _stored(app) == (0, 0, 0)


def test_preview_of_nobody_says_who_was_left_out(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with data(app) as session:
        add_customer(session, "C001", base=US_ROW)
    client = logged_in(Role.MARKETING)
    response = post(client, "/batches/new", {"campaign": "Spring", "profile": "us-10", "regions": "Nowhere",
                                             "preview": "1"})
    assert response.status_code == 400
    assert "No customer matches the filters" in response.get_data(as_text=True)
    assert _stored(app) == (0, 0, 0)


def _batch(app: Flask, count: int) -> int:
    with data(app) as session:
        for index in range(count):
            add_customer(session, f"C{index:03d}", base=CN_ROW, line1=f"中山路{index + 1}号")
        batch = create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
        session.flush()
        return batch.id


def test_the_batch_page_sends_a_proof_pdf(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    batch_id = _batch(app, 3)
    client = logged_in(Role.MARKETING)
    assert 'id="proof"' in client.get(f"/batches/{batch_id}").get_data(as_text=True)

    response = post(client, f"/batches/{batch_id}/proof", {"first": "2"})

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"batch-{batch_id}-proof.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) == 4 and all("PROOF" in page.extract_text() for page in reader.pages)
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.proof")).one()
        assert entry.actor == "marketing@example.com" and entry.object_id == str(batch_id)


def test_a_proof_of_one_customer_scans_to_a_proof_code(app: Flask, logged_in, tmp_path) -> None:  # type: ignore[no-untyped-def]
    batch_id = _batch(app, 3)
    client = logged_in(Role.MARKETING)

    response = post(client, f"/batches/{batch_id}/proof", {"first": "10", "customer": "C001"})

    assert response.status_code == 200
    path = tmp_path / "proof.pdf"
    path.write_bytes(response.get_data())
    assert len(PdfReader(path).pages) == 2
    found = zxingcpp.read_barcodes(rasterize(path, 1, 300), formats=zxingcpp.BarcodeFormat.Code128)
    assert [barcode.text for barcode in found] == [proof_piece_code(1)]


def test_a_proof_is_refused_in_words(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    batch_id = _batch(app, 1)
    client = logged_in(Role.MARKETING)

    # Each refusal is read before the next post: reading the form's token shows (and clears) the flashed message.
    unknown = post(client, f"/batches/{batch_id}/proof", {"customer": "C999"})
    assert unknown.status_code == 302
    assert "C999 has no piece" in client.get(unknown.location).get_data(as_text=True)
    too_many = post(client, f"/batches/{batch_id}/proof", {"first": "1000"})
    assert too_many.status_code == 302
    assert "1 to 100 envelopes" in client.get(too_many.location).get_data(as_text=True)
    missing = post(client, "/batches/999/proof", {})
    assert missing.status_code == 404
    with data(app) as session:
        session.get_one(Batch, batch_id).status = BatchStatus.RENDERED
    assert 'id="proof"' not in client.get(f"/batches/{batch_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEntry.action == "batch.proof")) == 0
