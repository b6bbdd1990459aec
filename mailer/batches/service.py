"""Campaigns and batches as the pages show them: counts, return rates, pieces and render progress.

A campaign's return rate is the share of its mailed pieces that came back at least once: every
piece with a return row counts, whatever the reason and even when the return was corrected
later ("ever returned", not the last event). Mailed pieces are the printed (ready) pieces of its
rendered batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Row, distinct, func, select, update
from sqlalchemy.orm import Session

from mailer.audit.service import record
from mailer.batches.models import Batch, BatchFile, BatchStatus, Campaign, FileStatus, MailPiece, PieceStatus
from mailer.batches.rendering import RenderError
from mailer.customers.models import Customer
from mailer.messages import Message, restored, stored
from mailer.pagination import DEFAULT_PAGE_SIZE, Page, keyset_page
from returns.models import MailReturn

RENDER_ERROR_LENGTH = 4000


class BatchNotFound(RenderError):
    """There is no such batch."""


class CancelRefused(ValueError):
    """A batch cannot be cancelled: its render has started, or it was cancelled already."""


@dataclass(frozen=True, slots=True)
class BatchStats:
    """A batch in the campaign list: how many pieces it printed and how many came back."""

    batch: Batch
    # Pieces in the rendered files; None until the batch is rendered.
    printed: int | None
    # Pieces of the batch returned at least once.
    returned: int

    @property
    def held(self) -> int | None:
        """Return the pieces held back from print, once the batch is rendered."""
        return None if self.printed is None else self.batch.piece_count - self.printed


@dataclass(frozen=True, slots=True)
class CampaignStats:
    """A campaign with its batches, its mailed pieces and how many of them were ever returned."""

    campaign: Campaign
    batches: list[BatchStats]
    mailed: int
    returned: int

    @property
    def return_rate(self) -> float | None:
        """Return the share of mailed pieces returned at least once, or None before anything was mailed."""
        return self.returned / self.mailed if self.mailed else None


def list_campaigns_with_stats(session: Session) -> list[CampaignStats]:
    """Return every campaign, newest first, with its batches and return rate."""
    campaigns = list(session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())))
    batches: dict[int, list[Batch]] = {}
    for batch in session.scalars(select(Batch).order_by(Batch.id)):
        batches.setdefault(batch.campaign_id, []).append(batch)
    # A done file holds two pages (front and back) per printed piece: a few rows per batch
    # instead of a count over every piece.
    pages = dict(
        session.execute(
            select(BatchFile.batch_id, func.sum(BatchFile.pages))
            .join(Batch, Batch.id == BatchFile.batch_id)
            .where(Batch.status == BatchStatus.RENDERED, BatchFile.status == FileStatus.DONE)
            .group_by(BatchFile.batch_id)
        ).all()
    )
    returned_by_batch = dict(
        session.execute(
            select(MailReturn.batch_id, func.count(distinct(MailReturn.piece_id))).group_by(MailReturn.batch_id)
        ).all()
    )
    result = []
    for campaign in campaigns:
        stats = [
            BatchStats(
                batch=batch,
                printed=_printed(batch, pages),
                returned=int(returned_by_batch.get(batch.id, 0)),
            )
            for batch in batches.get(campaign.id, [])
        ]
        result.append(
            CampaignStats(
                campaign=campaign,
                batches=stats,
                mailed=sum(s.printed or 0 for s in stats),
                # Only printed pieces carry a code to scan: the returns of rendered batches are of mailed pieces.
                returned=sum(s.returned for s in stats if s.printed is not None),
            )
        )
    return result


def _printed(batch: Batch, pages: dict[int, Any]) -> int | None:
    if batch.status is not BatchStatus.RENDERED:
        return None
    return int(pages.get(batch.id) or 0) // 2


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """One batch for its page: piece counts, returns, its files, and whether it can be rendered now."""

    batch: Batch
    ready: int
    held: int
    returned: int
    files: list[BatchFile]

    @property
    def can_render(self) -> bool:
        """Tell whether a render may start: never started, or stopped by an error (it resumes)."""
        return _renderable(self.batch.status, self.batch.render_error)

    @property
    def render_error(self) -> str | None:
        """Return why the last render stopped; a rendered batch has no such reason any more."""
        if self.batch.status is BatchStatus.RENDERED:
            return None
        return restored(self.batch.render_error, self.batch.render_error_phrase)

    @property
    def can_cancel(self) -> bool:
        """Tell whether the batch may still be cancelled: its render has not started."""
        return self.batch.status is BatchStatus.SELECTED

    @property
    def rendering(self) -> bool:
        """Tell whether a render is queued or running."""
        return self.batch.status is BatchStatus.RENDERING and not self.batch.render_error


def _renderable(status: BatchStatus, render_error: str | None) -> bool:
    return status is BatchStatus.SELECTED or (status is BatchStatus.RENDERING and bool(render_error))


def get_batch(session: Session, *, batch_id: int) -> Batch | None:
    """Return a batch as stored now, or None."""
    return session.get(Batch, batch_id, populate_existing=True)


def batch_summary(session: Session, *, batch_id: int) -> BatchSummary | None:
    """Return a batch with its counts and files, or None when there is no such batch."""
    batch = session.get(Batch, batch_id, populate_existing=True)
    if batch is None:
        return None
    counts = dict(
        session.execute(
            select(MailPiece.status, func.count()).where(MailPiece.batch_id == batch_id).group_by(MailPiece.status)
        ).all()
    )
    returned = session.scalar(
        select(func.count(distinct(MailReturn.piece_id))).where(MailReturn.batch_id == batch_id)
    )
    return BatchSummary(
        batch=batch,
        ready=counts.get(PieceStatus.READY, 0),
        held=counts.get(PieceStatus.HELD, 0),
        returned=returned or 0,
        files=batch_files(session, batch_id=batch_id),
    )


def batch_files(session: Session, *, batch_id: int) -> list[BatchFile]:
    """Return the planned files of a batch in order, as workers last wrote them."""
    return list(
        session.scalars(
            select(BatchFile)
            .where(BatchFile.batch_id == batch_id)
            .order_by(BatchFile.file_no)
            .execution_options(populate_existing=True)
        )
    )


def batch_file(session: Session, *, batch_id: int, file_no: int) -> BatchFile | None:
    """Return one planned file of a batch, or None."""
    return session.scalar(
        select(BatchFile)
        .where(BatchFile.batch_id == batch_id, BatchFile.file_no == file_no)
        .execution_options(populate_existing=True)
    )


def batch_pieces(
    session: Session,
    *,
    batch_id: int,
    after: int | None = None,
    before: int | None = None,
    size: int = DEFAULT_PAGE_SIZE,
) -> Page[Row[Any]]:
    """Return a page of a batch's pieces in presort order, the cursors being sequence numbers."""
    statement = (
        select(
            MailPiece.sequence, MailPiece.piece_code, MailPiece.bundle, MailPiece.postal_code,
            MailPiece.household_size, MailPiece.status, MailPiece.hold_reason,
            Customer.id.label("customer_id"), Customer.customer_no,
        )
        .join(Customer, Customer.id == MailPiece.customer_id)
        .where(MailPiece.batch_id == batch_id)
    )
    return keyset_page(session, statement, key=MailPiece.sequence, after=after, before=before, size=size)


@dataclass(frozen=True, slots=True)
class HeldPiece:
    """A piece held back from printing, and why (a Message where its phrase was stored)."""

    sequence: int
    piece_code: str
    hold_reason: str | None
    customer_id: int
    customer_no: str


def held_pieces(session: Session, *, batch_id: int, limit: int = 100) -> list[HeldPiece]:
    """Return the first held pieces of a batch in presort order, with the reason each is held."""
    rows = session.execute(
        select(MailPiece.sequence, MailPiece.piece_code, MailPiece.hold_reason, MailPiece.hold_reason_phrase,
               Customer.id, Customer.customer_no)
        .join(Customer, Customer.id == MailPiece.customer_id)
        .where(MailPiece.batch_id == batch_id, MailPiece.status == PieceStatus.HELD)
        .order_by(MailPiece.sequence)
        .limit(limit)
    )
    return [
        HeldPiece(sequence, code, restored(reason, phrase), customer_id, customer_no)
        for sequence, code, reason, phrase, customer_id, customer_no in rows
    ]


@dataclass(frozen=True, slots=True)
class RenderProgress:
    """How far the render of a batch has come."""

    status: BatchStatus
    files_done: int
    files_total: int
    pieces_done: int
    pieces_total: int
    error: str | None

    @property
    def done(self) -> bool:
        """Tell whether the files and the manifest are all written."""
        return self.status is BatchStatus.RENDERED

    def as_json(self) -> dict[str, Any]:
        """Return the progress as the page's script reads it."""
        return {
            "status": self.status.value,
            "files_done": self.files_done,
            "files_total": self.files_total,
            "pieces_done": self.pieces_done,
            "pieces_total": self.pieces_total,
            "done": self.done,
            "error": self.error,
        }


def render_progress(session: Session, *, batch_id: int) -> RenderProgress | None:
    """Return the render progress of a batch, or None when there is no such batch."""
    row = session.execute(
        select(Batch.status, Batch.render_error).where(Batch.id == batch_id)
    ).one_or_none()
    if row is None:
        return None
    files_total, files_done, pages_done = session.execute(
        select(
            func.count(),
            func.count().filter(BatchFile.status == FileStatus.DONE),
            func.coalesce(func.sum(BatchFile.pages).filter(BatchFile.status == FileStatus.DONE), 0),
        ).where(BatchFile.batch_id == batch_id)
    ).one()
    pieces_total = session.scalar(
        select(func.count()).where(MailPiece.batch_id == batch_id, MailPiece.status == PieceStatus.READY)
    )
    return RenderProgress(
        status=row.status,
        files_done=files_done,
        files_total=files_total,
        pieces_done=int(pages_done) // 2,  # two pages per piece
        pieces_total=pieces_total or 0,
        error=None if row.status is BatchStatus.RENDERED else row.render_error,
    )


def claim_render(session: Session, *, batch_id: int) -> None:
    """Mark a batch as rendering before its render is queued; refuse while a render runs or after one finished.

    One conditional update, so two users pressing "render" at once queue one render only.
    """
    # An UPDATE's result is a CursorResult; Session.execute is typed for any statement.
    claimed = cast(CursorResult[*tuple[Any, ...]], session.execute(
        update(Batch)
        .where(
            Batch.id == batch_id,
            (Batch.status == BatchStatus.SELECTED)
            | ((Batch.status == BatchStatus.RENDERING) & Batch.render_error.is_not(None)),
        )
        .values(status=BatchStatus.RENDERING, render_error=None, render_error_phrase=None)
        .execution_options(synchronize_session=False)
    ))
    if claimed.rowcount != 1:
        status = session.scalar(select(Batch.status).where(Batch.id == batch_id))
        if status is None:
            raise BatchNotFound(f"no batch {batch_id}")
        raise RenderError(f"batch {batch_id} is {status.value}; it cannot be rendered now")


def record_render_failure(session: Session, *, batch_id: int, message: str) -> None:
    """Note why a render stopped; a batch with no file planned yet goes back to selected."""
    planned = session.scalar(select(func.count()).where(BatchFile.batch_id == batch_id)) or 0
    values: dict[str, Any] = {"render_error": message[:RENDER_ERROR_LENGTH], "render_error_phrase": stored(message)}
    if not planned:
        values["status"] = BatchStatus.SELECTED
    session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.status.not_in((BatchStatus.RENDERED, BatchStatus.CANCELLED)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def cancel_batch(session: Session, *, batch_id: int, actor: str) -> None:
    """Cancel a batch whose render has not started: it is never rendered, and its customers are free for the campaign.

    One conditional update, so a render claimed at the same moment and a cancel cannot both win.
    """
    # An UPDATE's result is a CursorResult; Session.execute is typed for any statement.
    cancelled = cast(CursorResult[*tuple[Any, ...]], session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.status == BatchStatus.SELECTED)
        .values(status=BatchStatus.CANCELLED)
    ))
    row = session.execute(
        select(Batch.status, Batch.piece_count, Campaign.name)
        .join(Campaign, Campaign.id == Batch.campaign_id)
        .where(Batch.id == batch_id)
    ).one_or_none()
    if row is None:
        raise BatchNotFound(f"no batch {batch_id}")
    if cancelled.rowcount != 1:
        raise CancelRefused(
            Message(
                "batch %(batch_id)s is %(status)s: only a batch whose render has not started can be cancelled",
                batch_id=batch_id, status=row.status.value,
            )
        )
    record(session, actor=actor, action="batch.cancel", object_type="batch", object_id=str(batch_id),
           detail={"campaign": row.name, "pieces": row.piece_count})


def record_download(session: Session, *, batch_id: int, file_name: str, actor: str) -> None:
    """Put the download of a batch's file on record: it holds customers' names and addresses."""
    record(session, actor=actor, action="batch.download", object_type="batch", object_id=str(batch_id),
           detail={"file": file_name})
