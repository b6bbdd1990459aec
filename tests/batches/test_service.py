"""Campaigns and batches as the pages read them: return rates, pieces page by page, render state."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.audit.models import AuditEntry
from mailer.batches.models import Batch, BatchFile, BatchStatus, FileStatus, MailPiece, PieceStatus
from mailer.batches.rendering import RenderError, RenderSettings, prepare_render
from mailer.batches.selection import BatchFilters, create_batch
from mailer.batches.service import (
    BatchNotFound,
    batch_pieces,
    batch_summary,
    cancel_batch,
    claim_render,
    list_campaigns_with_stats,
    record_render_failure,
    render_progress,
)
from returns.models import MailReturn, ReturnSource
from tests.factories import US_ROW, add_customer

RETURNED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def new_batch(session: Session, numbers: range, *, campaign: str = "Spring 2027") -> Batch:
    """Store a customer per number at its own address and select a batch of them."""
    for number in numbers:
        add_customer(session, f"C{number:03d}", base=US_ROW, line1=f"{number} Oak Street", line2="",
                     postal_code=f"627{number:02d}")
    return create_batch(session, campaign_name=campaign, profile="us-10", filters=BatchFilters(), actor="test")


def pieces_of(session: Session, batch: Batch) -> list[MailPiece]:
    return list(session.scalars(select(MailPiece).where(MailPiece.batch_id == batch.id).order_by(MailPiece.sequence)))


def mark_rendered(session: Session, batch: Batch, *, held: int = 0) -> None:
    """Put a batch where a finished render leaves it, its first ``held`` pieces held, without drawing PDFs."""
    pieces = pieces_of(session, batch)
    for piece in pieces[:held]:
        piece.status = PieceStatus.HELD
        piece.hold_reason = "address: line 1 is 95 mm wide"
    ready = pieces[held:]
    session.add(BatchFile(batch_id=batch.id, file_no=1, first_sequence=ready[0].sequence,
                          last_sequence=ready[-1].sequence, file_name=f"batch-{batch.id}-0001.pdf",
                          status=FileStatus.DONE, pages=2 * len(ready)))
    batch.status = BatchStatus.RENDERED
    session.flush()


def returned(session: Session, piece: MailPiece, reason: str, *, corrects: MailReturn | None = None) -> MailReturn:
    """Record a return of a piece directly; with ``corrects``, as a correction of an earlier one."""
    if corrects is not None:
        corrects.is_current = False
        session.flush()
    mail_return = MailReturn(
        piece_id=piece.id, batch_id=piece.batch_id, customer_id=piece.customer_id, address_id=piece.address_id,
        reason=reason, source=ReturnSource.SCAN, returned_at=RETURNED_AT, actor="mailroom@example.com",
        corrects_id=corrects.id if corrects else None,
    )
    session.add(mail_return)
    session.flush()
    return mail_return


def test_the_return_rate_counts_mailed_pieces_ever_returned(session: Session) -> None:
    mailed = new_batch(session, range(1, 6))
    later = create_batch(session, campaign_name="Spring 2027", profile="us-10", filters=BatchFilters(), remail=True,
                         actor="t")
    mark_rendered(session, mailed, held=1)
    first, second, third = pieces_of(session, mailed)[1:4]
    # A return later corrected to another reason is still one returned piece.
    returned(session, first, "NSN", corrects=returned(session, first, "VAC"))
    returned(session, second, "UNC")
    # A return of a batch not rendered yet is the batch's, but nothing of it was mailed.
    returned(session, pieces_of(session, later)[0], "NSN")
    other = new_batch(session, range(10, 12), campaign="Autumn 2027")

    spring, autumn = sorted(list_campaigns_with_stats(session), key=lambda c: c.campaign.name, reverse=True)

    assert spring.campaign.name == "Spring 2027"
    assert (spring.mailed, spring.returned, spring.return_rate) == (4, 2, 0.5)
    by_batch = {s.batch.id: s for s in spring.batches}
    assert (by_batch[mailed.id].printed, by_batch[mailed.id].held, by_batch[mailed.id].returned) == (4, 1, 2)
    assert (by_batch[later.id].printed, by_batch[later.id].held, by_batch[later.id].returned) == (None, None, 1)
    assert [s.batch.id for s in spring.batches] == [mailed.id, later.id]
    assert autumn.batches[0].batch.id == other.id
    assert (autumn.mailed, autumn.returned, autumn.return_rate) == (0, 0, None)
    assert third.id not in {r.piece_id for r in session.scalars(select(MailReturn))}


def test_a_batch_summary_counts_ready_held_and_returned_pieces(session: Session) -> None:
    batch = new_batch(session, range(1, 5))
    mark_rendered(session, batch, held=1)
    returned(session, pieces_of(session, batch)[2], "NSN")
    # Refused on the page once, then rendered from the command line: the old reason no longer holds.
    batch.render_error = "1 piece(s) do not fit their envelope"
    session.flush()

    summary = batch_summary(session, batch_id=batch.id)
    progress = render_progress(session, batch_id=batch.id)

    assert summary is not None
    assert (summary.ready, summary.held, summary.returned) == (3, 1, 1)
    assert [f.file_no for f in summary.files] == [1]
    assert not summary.can_render and not summary.rendering and summary.render_error is None
    assert progress is not None and progress.done and progress.error is None
    assert batch_summary(session, batch_id=batch.id + 1000) is None


def test_pieces_come_a_page_at_a_time_in_presort_order(session: Session) -> None:
    batch = new_batch(session, range(1, 6))

    first = batch_pieces(session, batch_id=batch.id, size=2)
    second = batch_pieces(session, batch_id=batch.id, after=first.next_after, size=2)
    last = batch_pieces(session, batch_id=batch.id, after=second.next_after, size=2)
    back = batch_pieces(session, batch_id=batch.id, before=second.previous_before, size=2)

    assert [p.sequence for p in first.items] == [1, 2] and first.previous_before is None
    assert [p.sequence for p in second.items] == [3, 4]
    assert [p.sequence for p in last.items] == [5] and last.next_after is None
    assert [p.sequence for p in back.items] == [1, 2]
    assert [p.customer_no for p in first.items] == ["C001", "C002"]
    assert [p.postal_code for p in first.items + second.items + last.items] == sorted(
        p.postal_code for p in first.items + second.items + last.items
    )


def test_a_render_is_claimed_once_and_a_stopped_one_may_be_claimed_again(session: Session) -> None:
    batch = new_batch(session, range(1, 3))

    claim_render(session, batch_id=batch.id)
    with pytest.raises(RenderError, match="is rendering"):
        claim_render(session, batch_id=batch.id)
    with pytest.raises(BatchNotFound):
        claim_render(session, batch_id=batch.id + 1000)

    # Stopped before any file was planned: back to selected, with the reason.
    record_render_failure(session, batch_id=batch.id, message="1 piece(s) do not fit their envelope")
    session.refresh(batch)
    assert (batch.status, batch.render_error) == (BatchStatus.SELECTED, "1 piece(s) do not fit their envelope")
    summary = batch_summary(session, batch_id=batch.id)
    assert summary is not None and summary.can_render

    claim_render(session, batch_id=batch.id)
    session.refresh(batch)
    assert (batch.status, batch.render_error) == (BatchStatus.RENDERING, None)
    summary = batch_summary(session, batch_id=batch.id)
    assert summary is not None and summary.rendering and not summary.can_render

    # Stopped with files planned: still rendering, and it may be resumed.
    session.add(BatchFile(batch_id=batch.id, file_no=1, first_sequence=1, last_sequence=2, file_name="f.pdf"))
    session.flush()
    record_render_failure(session, batch_id=batch.id, message="rendering f.pdf failed: OSError: disk full")
    session.refresh(batch)
    assert batch.status is BatchStatus.RENDERING and batch.render_error is not None
    claim_render(session, batch_id=batch.id)


def test_the_render_progress_counts_done_files_and_their_pieces(session: Session) -> None:
    batch = new_batch(session, range(1, 6))
    claim_render(session, batch_id=batch.id)
    waiting = render_progress(session, batch_id=batch.id)
    session.add_all([
        BatchFile(batch_id=batch.id, file_no=1, first_sequence=1, last_sequence=2, file_name="a.pdf",
                  status=FileStatus.DONE, pages=4),
        BatchFile(batch_id=batch.id, file_no=2, first_sequence=3, last_sequence=4, file_name="b.pdf"),
        BatchFile(batch_id=batch.id, file_no=3, first_sequence=5, last_sequence=5, file_name="c.pdf"),
    ])
    session.flush()

    running = render_progress(session, batch_id=batch.id)

    assert waiting is not None and waiting.as_json() == {
        "status": "rendering", "files_done": 0, "files_total": 0, "pieces_done": 0, "pieces_total": 5,
        "done": False, "error": None,
    }
    assert running is not None
    assert (running.files_done, running.files_total, running.pieces_done, running.done) == (1, 3, 2, False)
    assert render_progress(session, batch_id=batch.id + 1000) is None


def test_batch_cancel_withdraws_a_batch_not_yet_rendered_on_record(runner: FlaskCliRunner, session: Session) -> None:
    batch = new_batch(session, range(1, 3))
    session.commit()

    result = runner.invoke(args=["batch", "cancel", str(batch.id)])
    again = runner.invoke(args=["batch", "cancel", str(batch.id)])
    missing = runner.invoke(args=["batch", "cancel", str(batch.id + 1000)])

    assert result.exit_code == 0 and result.stdout == f"Batch {batch.id} cancelled\n"
    assert again.exit_code == 2
    assert again.stderr == (f"error: batch {batch.id} is cancelled: only a batch whose render has not started "
                            "can be cancelled; nothing was changed\n")
    assert missing.exit_code == 2 and missing.stderr == f"error: no batch {batch.id + 1000}; nothing was changed\n"
    session.expire_all()
    assert session.get_one(Batch, batch.id).status is BatchStatus.CANCELLED
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.cancel")).one()
    assert (entry.object_id, entry.detail) == (str(batch.id), {"campaign": "Spring 2027", "pieces": 2})
    with pytest.raises(RenderError, match="cannot be rendered now"):
        claim_render(session, batch_id=batch.id)


def test_a_batch_whose_render_started_cannot_be_cancelled(runner: FlaskCliRunner, session: Session) -> None:
    rendering, rendered = new_batch(session, range(1, 3)), new_batch(session, range(3, 5), campaign="Fall 2027")
    claim_render(session, batch_id=rendering.id)
    mark_rendered(session, rendered)
    session.commit()

    for batch, status in ((rendering, "rendering"), (rendered, "rendered")):
        result = runner.invoke(args=["batch", "cancel", str(batch.id)])
        assert result.exit_code == 2 and f"is {status}: only a batch whose render has not started" in result.stderr
    session.expire_all()
    assert session.get_one(Batch, rendering.id).status is BatchStatus.RENDERING
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.cancel")).all() == []


def test_a_cancelled_batch_is_not_planned_for_rendering(session: Session, tmp_path: Path) -> None:
    batch = new_batch(session, range(1, 2))
    cancel_batch(session, batch_id=batch.id, actor="t")
    settings = RenderSettings(database_url="", out_dir=str(tmp_path), secret_key="s",
                              public_base_url="https://mail.example.com")

    with pytest.raises(RenderError, match=f"batch {batch.id} is cancelled: it cannot be rendered"):
        prepare_render(session, batch_id=batch.id, settings=settings, actor="t")
