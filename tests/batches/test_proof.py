"""Proofs: marked PROOF, with proof codes that can never be piece codes, and nothing else stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.batches.models import Batch, BatchStatus, Campaign, MailPiece
from mailer.batches.piece_codes import PieceCodeError, new_piece_codes, parse_piece_code
from mailer.batches.proof import (
    ProofError,
    proof_of_batch,
    proof_of_customer,
    proof_of_selection,
    proof_piece_code,
    render_proof,
)
from mailer.batches.rendering import RenderSettings
from mailer.batches.selection import BatchFilters, create_batch
from mailer.batches.tokens import token_is_valid
from tests.batches.test_rendering import decode_page
from tests.factories import CN_ROW, US_ROW, add_customer

SETTINGS = RenderSettings(database_url="", out_dir="", secret_key="proof-secret",
                          public_base_url="https://mail.example.cn")


def _customers(session: Session, count: int) -> None:
    for index in range(count):
        add_customer(session, f"C{index:03d}", base=CN_ROW, line1=f"中山路{index + 1}号",
                     postal_code=f"3100{index:02d}")


def test_proof_codes_never_pass_as_piece_codes() -> None:
    codes = [proof_piece_code(number) for number in range(1, 101)]
    assert len(set(codes)) == 100 and codes[0].startswith("PRF0001")
    for code in codes:
        with pytest.raises(PieceCodeError, match="check character"):
            parse_piece_code(code)
    # Every real code passes its check, so none is a proof code.
    assert not set(codes) & set(new_piece_codes(5000))


def test_proof_of_a_batch_is_its_first_pieces_marked_and_with_proof_codes(session: Session, tmp_path: Path) -> None:
    _customers(session, 4)
    batch = create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
    codes_before = set(session.scalars(select(MailPiece.piece_code)))
    out = tmp_path / "proof.pdf"

    proof = proof_of_batch(session, batch_id=batch.id, first=2)
    envelopes = render_proof(session, proof, settings=SETTINGS, out=out, actor="t")

    assert envelopes == 2
    reader = PdfReader(out)
    assert len(reader.pages) == 4
    assert all("PROOF" in page.extract_text() for page in reader.pages)
    first_pieces = session.execute(
        select(MailPiece.lines).where(MailPiece.batch_id == batch.id).order_by(MailPiece.sequence).limit(2)
    ).scalars().all()
    for index, lines in enumerate(first_pieces):
        assert lines[0] in reader.pages[2 * index].extract_text()
    # The barcode scans to the proof code, never to a stored piece code; the link opens nothing.
    assert decode_page(out, 1, tmp_path) == [proof_piece_code(1)]
    assert decode_page(out, 3, tmp_path) == [proof_piece_code(2)]
    (link,) = decode_page(out, 2, tmp_path)
    assert link.startswith("https://mail.example.cn/u/" + proof_piece_code(1))
    token = link.rsplit("/", 1)[1]
    assert not token_is_valid(secret="proof-secret", token=token, expires_on=batch.update_expires_on,
                              today=batch.created_at.date())
    assert set(session.scalars(select(MailPiece.piece_code))) == codes_before
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.proof")).one()
    assert entry.object_type == "batch" and entry.object_id == str(batch.id) and entry.detail["envelopes"] == 2


def test_proof_of_one_customer_of_a_batch(session: Session, tmp_path: Path) -> None:
    _customers(session, 3)
    batch = create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
    proof = proof_of_batch(session, batch_id=batch.id, customer_no="C002")
    assert [address.customer_no for address in proof.addresses] == ["C002"]
    with pytest.raises(ProofError, match="C999 has no piece"):
        proof_of_batch(session, batch_id=batch.id, customer_no="C999")


def test_a_rendered_or_cancelled_batch_has_no_proof(session: Session) -> None:
    _customers(session, 1)
    batch = create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")
    batch.status = BatchStatus.RENDERED
    session.flush()
    with pytest.raises(ProofError, match="is rendered"):
        proof_of_batch(session, batch_id=batch.id)
    with pytest.raises(ProofError, match="no batch"):
        proof_of_batch(session, batch_id=batch.id + 1)
    with pytest.raises(ProofError, match="1 to 100"):
        proof_of_batch(session, batch_id=batch.id, first=0)


def test_proof_of_a_would_be_batch_stores_no_batch(session: Session, tmp_path: Path) -> None:
    _customers(session, 3)
    add_customer(session, "U1", base=US_ROW)

    proof = proof_of_selection(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(),
                               actor="t", first=2)

    assert [address.customer_no for address in proof.addresses] == ["C000", "C001"]  # presort order
    assert session.scalar(select(func.count()).select_from(Batch)) == 0
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0
    assert session.scalar(select(func.count()).select_from(MailPiece)) == 0
    render_proof(session, proof, settings=SETTINGS, out=tmp_path / "p.pdf", actor="t")
    assert len(PdfReader(tmp_path / "p.pdf").pages) == 4


def test_proof_of_one_customer_at_their_current_address(session: Session, tmp_path: Path) -> None:
    add_customer(session, "U1", base=US_ROW)
    proof = proof_of_customer(session, customer_no="U1", profile="us-10")
    render_proof(session, proof, settings=SETTINGS, out=tmp_path / "u.pdf", actor="t")
    text = PdfReader(tmp_path / "u.pdf").pages[0].extract_text()
    assert "JOHN SMITH" in text and "PROOF" in text
    with pytest.raises(ProofError, match="no customer X9"):
        proof_of_customer(session, customer_no="X9", profile="us-10")


def test_a_proof_that_does_not_fit_names_the_customer(session: Session, tmp_path: Path) -> None:
    add_customer(session, "C1", base=CN_ROW, postal_code="3100")  # four digits: not a China postcode
    proof = proof_of_customer(session, customer_no="C1", profile="cn-dl")
    with pytest.raises(ProofError, match="customer C1: postal_code"):
        render_proof(session, proof, settings=SETTINGS, out=tmp_path / "bad.pdf", actor="t")
    assert not list(tmp_path.iterdir())


def test_cli_batch_proof(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    _customers(session, 3)
    batch = create_batch(session, campaign_name="Spring", profile="cn-dl", filters=BatchFilters(), actor="t")

    of_batch = runner.invoke(args=["batch", "proof", str(batch.id), "--first", "2", "--out", str(tmp_path / "b.pdf")])
    would_be = runner.invoke(args=["batch", "proof", "--campaign", "Autumn", "--profile", "cn-dl", "--first", "1",
                                   "--out", str(tmp_path / "w.pdf")])
    customer = runner.invoke(args=["batch", "proof", "--profile", "cn-dl", "--customer", "C001",
                                   "--out", str(tmp_path / "c.pdf")])
    neither = runner.invoke(args=["batch", "proof", "--out", str(tmp_path / "n.pdf")])
    both = runner.invoke(args=["batch", "proof", str(batch.id), "--region", "浙江省", "--out", str(tmp_path / "x.pdf")])
    too_many = runner.invoke(args=["batch", "proof", str(batch.id), "--first", "500", "--out", str(tmp_path / "m.pdf")])

    assert of_batch.exit_code == 0, of_batch.output
    assert f"Proof of batch {batch.id}: 2 envelope(s)" in of_batch.output
    assert would_be.exit_code == 0, would_be.output
    assert customer.exit_code == 0, customer.output
    assert [len(PdfReader(tmp_path / name).pages) for name in ("b.pdf", "w.pdf", "c.pdf")] == [4, 2, 2]
    assert neither.exit_code == 2 and "BATCH_ID" in neither.output
    assert both.exit_code == 2 and "without --campaign, --profile or filters" in both.output
    assert too_many.exit_code == 2 and "1 to 100" in too_many.output and not (tmp_path / "m.pdf").exists()


def test_the_command_line_default_is_the_services() -> None:
    from mailer.batches import cli
    from mailer.batches.proof import DEFAULT_PROOF_PIECES

    assert cli.DEFAULT_PROOF_PIECES == DEFAULT_PROOF_PIECES
