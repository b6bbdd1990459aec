"""Giving each US piece an Intelligent Mail barcode serial number, unique under its Mailer ID.

The Postal Service matches its ACS notices (and tracking scans) to a piece by Mailer ID and serial
number, so a serial must not be used again under the same Mailer ID while an earlier piece carrying
it may still be in the mail: at least 45 days (USPS-B-3200, "uniqueness"). Serials are given out in
order from a counter per Mailer ID and wrap round only past the last one; a serial is never given
again within ``SERIAL_REUSE_DAYS`` of its batch's render.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from mailer.batches.models import Batch, ImbSerialCounter, MailPiece, PieceStatus
from mailer.envelopes.imb import ImbError, ImbIds, routing_code
from mailer.messages import Message

SERIAL_REUSE_DAYS: Final = 45


class SerialsInUse(ValueError):
    """Too few serial numbers are free under the Mailer ID for this batch."""


def allocate_imb_serials(session: Session, *, batch_id: int, ids: ImbIds, now: datetime) -> int:
    """Give every ready piece of a batch that has none an IMb serial and its barcode digits; return how many."""
    pieces = session.execute(
        select(MailPiece.id, MailPiece.postal_code)
        .where(MailPiece.batch_id == batch_id, MailPiece.status == PieceStatus.READY, MailPiece.imb_serial.is_(None))
        .order_by(MailPiece.sequence)
    ).all()
    if not pieces:
        return 0
    capacity = ids.serial_capacity
    if len(pieces) > capacity:
        raise SerialsInUse(
            Message("batch %(batch_id)s has %(count)s pieces, more than the %(capacity)s serial numbers of Mailer ID "
                    "%(mailer_id)s", batch_id=batch_id, count=len(pieces), capacity=capacity, mailer_id=ids.mailer_id)
        )
    # Locked, so two renders never take the same serials.
    counter = session.scalar(
        select(ImbSerialCounter).where(ImbSerialCounter.mailer_id == ids.mailer_id).with_for_update()
    )
    if counter is None:
        counter = ImbSerialCounter(mailer_id=ids.mailer_id, next_serial=0)
        session.add(counter)
        session.flush()
    start = counter.next_serial
    end = start + len(pieces)
    _refuse_recent_reuse(session, ids=ids, start=start, end=end, now=now)
    session.execute(
        update(MailPiece),
        [
            {
                "id": piece.id,
                "imb_mailer_id": ids.mailer_id,
                "imb_serial": (start + offset) % capacity,
                "imb_digits": ids.tracking((start + offset) % capacity) + _routing(piece.postal_code),
            }
            for offset, piece in enumerate(pieces)
        ],
    )
    counter.next_serial = end % capacity
    session.flush()
    return len(pieces)


def _routing(postal_code: str) -> str:
    # A ZIP Code that is not one (a US piece always has one after the import's check) routes nowhere:
    # the barcode still carries the serial the ACS notice comes back with.
    try:
        return routing_code(postal_code)
    except ImbError:
        return ""


def _refuse_recent_reuse(session: Session, *, ids: ImbIds, start: int, end: int, now: datetime) -> None:
    capacity = ids.serial_capacity
    # The serials [start, end) wrap round to 0 past the last one.
    ranges = [(start, min(end, capacity) - 1)] + ([(0, end - capacity - 1)] if end > capacity else [])
    cutoff = now - timedelta(days=SERIAL_REUSE_DAYS)
    in_use = session.scalar(
        select(func.count())
        .select_from(MailPiece)
        .join(Batch, Batch.id == MailPiece.batch_id)
        .where(
            MailPiece.imb_mailer_id == ids.mailer_id,
            or_(*(MailPiece.imb_serial.between(low, high) for low, high in ranges)),
            # A batch not finished yet may be mailed any day now.
            or_(Batch.rendered_at.is_(None), and_(Batch.rendered_at.is_not(None), Batch.rendered_at >= cutoff)),
        )
    )
    if in_use:
        raise SerialsInUse(
            Message(
                "%(count)s of the next serial numbers of Mailer ID %(mailer_id)s were printed less than %(days)s days "
                "ago; wait, or ask the Postal Service for another Mailer ID",
                count=in_use, mailer_id=ids.mailer_id, days=SERIAL_REUSE_DAYS,
            )
        )
