"""A campaign's results as a spreadsheet: per batch, pieces mailed, returned by reason, updated by customers.

The file holds counts only, no customer, so it can travel further than a batch's manifest. A piece
counts as returned if it ever came back (the campaign page's return rate); by reason, under the
reason of its current return (a correction replaces the reason it corrects). "Updated by
customers" counts the pieces whose update link a customer used to give a new address.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TextIO

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from mailer.audit.service import record
from mailer.batches.models import Batch, BatchFile, BatchStatus, Campaign, FileStatus, MailPiece
from mailer.csv_export import write_csv
from mailer.messages import Message
from returns.catalog import REASONS
from returns.models import MailReturn

_NOT_NAME = re.compile(r"[^\w]+")
NAME_MAX_LENGTH = 60
RESULT_COLUMNS = (
    "campaign", "batch", "status", "created_at", "rendered_at", "pieces", "mailed", "returned",
    *(f"returned_{code}" for code in REASONS), "return_rate", "updated_by_customer",
)


class ResultsError(Exception):
    """The results cannot be exported; the message says why."""


@dataclass(slots=True)
class BatchResult:
    """What became of one batch's pieces."""

    batch: Batch
    # Pieces printed in the rendered files; 0 until the batch is rendered.
    mailed: int
    returned: int
    returned_by_reason: Counter[str] = field(default_factory=Counter)
    updated_by_customer: int = 0


def file_name_part(text: str) -> str:
    """Return text as part of a download's name: letters (any script) and digits joined by hyphens."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NOT_NAME.sub("-", folded).strip("-_")[:NAME_MAX_LENGTH].strip("-_") or "campaign"


def batch_file_name(*, campaign_name: str, batch_id: int, name: str) -> str:
    """Return the name a batch's file is downloaded as: "spring-2027-batch-3-manifest.csv"."""
    return f"{file_name_part(campaign_name)}-batch-{batch_id}-{name}"


def results_file_name(campaign_name: str) -> str:
    """Return the name a campaign's results are downloaded as."""
    return f"{file_name_part(campaign_name)}-results.csv"


def campaign_results(session: Session, *, campaign_id: int) -> list[BatchResult]:
    """Return the results of each batch of a campaign, oldest batch first."""
    batches = list(session.scalars(select(Batch).where(Batch.campaign_id == campaign_id).order_by(Batch.id)))
    ids = [batch.id for batch in batches]
    if not ids:
        return []
    # A done file holds two pages (front and back) per printed piece.
    pages = dict(
        session.execute(
            select(BatchFile.batch_id, func.sum(BatchFile.pages))
            .where(BatchFile.batch_id.in_(ids), BatchFile.status == FileStatus.DONE)
            .group_by(BatchFile.batch_id)
        ).all()
    )
    returned = dict(
        session.execute(
            select(MailReturn.batch_id, func.count(distinct(MailReturn.piece_id)))
            .where(MailReturn.batch_id.in_(ids))
            .group_by(MailReturn.batch_id)
        ).all()
    )
    by_reason = session.execute(
        select(MailReturn.batch_id, MailReturn.reason, func.count(distinct(MailReturn.piece_id)))
        .where(MailReturn.batch_id.in_(ids), MailReturn.is_current)
        .group_by(MailReturn.batch_id, MailReturn.reason)
    ).all()
    updated = dict(
        session.execute(
            select(MailPiece.batch_id, func.count())
            .where(MailPiece.batch_id.in_(ids), MailPiece.address_updated_at.is_not(None))
            .group_by(MailPiece.batch_id)
        ).all()
    )
    results = {
        batch.id: BatchResult(
            batch=batch,
            mailed=int(pages.get(batch.id) or 0) // 2 if batch.status is BatchStatus.RENDERED else 0,
            returned=int(returned.get(batch.id, 0)),
            updated_by_customer=int(updated.get(batch.id, 0)),
        )
        for batch in batches
    }
    for batch_id, reason, count in by_reason:
        results[batch_id].returned_by_reason[reason] += int(count)
    return list(results.values())


def _rows(campaign: Campaign, results: list[BatchResult]) -> list[list[object]]:
    def rate(returned: int, mailed: int) -> object:
        return Decimal(f"{returned / mailed:.4f}") if mailed else ""

    rows: list[list[object]] = []
    for result in results:
        batch = result.batch
        rows.append([
            campaign.name, batch.id, batch.status.value, batch.created_at.isoformat(timespec="seconds"),
            batch.rendered_at.isoformat(timespec="seconds") if batch.rendered_at else "",
            batch.piece_count, result.mailed, result.returned,
            *(result.returned_by_reason.get(code, 0) for code in REASONS),
            rate(result.returned, result.mailed), result.updated_by_customer,
        ])
    mailed = sum(r.mailed for r in results)
    returned = sum(r.returned for r in results)
    reasons: Counter[str] = sum((r.returned_by_reason for r in results), Counter())
    rows.append([
        campaign.name, "total", "", "", "", sum(r.batch.piece_count for r in results), mailed, returned,
        *(reasons.get(code, 0) for code in REASONS), rate(returned, mailed),
        sum(r.updated_by_customer for r in results),
    ])
    return rows


def get_campaign(session: Session, *, campaign_id: int) -> Campaign | None:
    """Return the campaign with this id, or None."""
    return session.get(Campaign, campaign_id)


def find_campaign(session: Session, *, name: str) -> Campaign:
    """Return the campaign of this name; refuse an unknown one."""
    campaign = session.scalar(select(Campaign).where(Campaign.name == name.strip()))
    if campaign is None:
        raise ResultsError(Message("no campaign named %(name)s", name=repr(name.strip())))
    return campaign


def export_campaign_results(session: Session, *, campaign: Campaign, handle: TextIO, actor: str, file_name: str) -> int:
    """Write a campaign's results as CSV (a row per batch and a total row); audit it; return the batches."""
    results = campaign_results(session, campaign_id=campaign.id)
    record(
        session, actor=actor, action="campaign.export", object_type="campaign", object_id=str(campaign.id),
        detail={"campaign": campaign.name, "batches": len(results), "file": file_name},
    )
    session.flush()
    write_csv(handle, RESULT_COLUMNS, _rows(campaign, results))
    return len(results)
