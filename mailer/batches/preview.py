"""Look before you mail: a batch's audience and postage, counted without creating the batch.

The preview runs the very selection ``create_batch`` runs, inside a savepoint that is rolled
back: its numbers are the numbers a batch created with the same form would have (as long as no
customer changes in between), and nothing of it is kept: no campaign, batch, piece or audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.addresses.models import Address
from mailer.batches.models import MailPiece
from mailer.batches.selection import LEFT_OUT_REASONS, BatchFilters, trial_batch
from mailer.envelopes.profiles import PROFILES


@dataclass(frozen=True, slots=True)
class PieceCount:
    """How many pieces go to one region or one sort bundle."""

    key: str
    pieces: int


@dataclass(frozen=True, slots=True)
class BatchPreview:
    """What a batch would hold: pieces, who is left out and why, where the pieces go, what the postage costs."""

    campaign: str
    profile: str
    pieces: int
    left_out: dict[str, int]
    # Most pieces first; an address without a region counts under "".
    regions: list[PieceCount]
    # In presort order: the postal-code prefix each tray is bundled by.
    bundles: list[PieceCount]
    postage_per_piece: Decimal
    currency: str
    postage_basis: str

    @property
    def postage(self) -> Decimal:
        """Return the estimated postage of every piece."""
        return self.postage_per_piece * self.pieces

    def as_json(self) -> dict[str, Any]:
        """Return the preview as `batch create --dry-run --json` prints it; amounts as decimal strings."""
        return {
            "dry_run": True,
            "campaign": self.campaign,
            "profile": self.profile,
            "pieces": self.pieces,
            "left_out": self.left_out,
            "by_region": [{"region": row.key, "pieces": row.pieces} for row in self.regions],
            "by_bundle": [{"bundle": row.key, "pieces": row.pieces} for row in self.bundles],
            "postage": {
                "per_piece": str(self.postage_per_piece),
                "total": str(self.postage),
                "currency": self.currency,
                "basis": self.postage_basis,
            },
        }


def preview_batch(
    session: Session,
    *,
    campaign_name: str,
    profile: str,
    filters: BatchFilters,
    actor: str,
    remail: bool = False,
) -> BatchPreview:
    """Count what ``create_batch`` with these arguments would select, and store nothing.

    Raises BatchError exactly where creating would (an unknown profile or country, a selection
    without a single piece, whose message counts who was left out and why).
    """
    with trial_batch(
        session, campaign_name=campaign_name, profile=profile, filters=filters, actor=actor, remail=remail
    ) as batch:
        region_counts: dict[str, int] = {}
        for region, count in session.execute(
            select(Address.region, func.count())
            .select_from(MailPiece)
            .join(Address, Address.id == MailPiece.address_id)
            .where(MailPiece.batch_id == batch.id)
            .group_by(Address.region)
        ):
            # No region and an empty one are the same to a reader.
            region_counts[region or ""] = region_counts.get(region or "", 0) + count
        bundles = session.execute(
            select(MailPiece.bundle, func.count(), func.min(MailPiece.sequence))
            .where(MailPiece.batch_id == batch.id)
            .group_by(MailPiece.bundle)
        ).all()
        postage = PROFILES[batch.profile].postage
        preview = BatchPreview(
            campaign=batch.campaign.name,
            profile=batch.profile,
            pieces=batch.piece_count,
            left_out={reason: int(batch.left_out.get(reason, 0)) for reason in LEFT_OUT_REASONS},
            regions=[
                PieceCount(region, count)
                for region, count in sorted(region_counts.items(), key=lambda item: (-item[1], item[0]))
            ],
            bundles=[PieceCount(bundle, count) for bundle, count, _ in sorted(bundles, key=lambda b: b[2])],
            postage_per_piece=postage.per_piece,
            currency=postage.currency,
            postage_basis=postage.basis,
        )
    return preview
