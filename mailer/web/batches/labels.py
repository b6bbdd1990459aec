"""Names of batch, piece and file states and of left-out reasons, in the page's language."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from mailer.batches.models import BatchStatus, FileStatus, PieceStatus
from mailer.batches.selection import LEFT_OUT_LABELS
from mailer.web.i18n import say

_STATES: dict[StrEnum, object] = {
    BatchStatus.SELECTED: _l("selected"),
    BatchStatus.RENDERING: _l("rendering"),
    BatchStatus.RENDERED: _l("rendered"),
    BatchStatus.CANCELLED: _l("cancelled"),
    PieceStatus.READY: _l("ready"),
    PieceStatus.HELD: _l("held"),
    FileStatus.PENDING: _l("pending"),
    FileStatus.DONE: _l("done"),
}
# The stylesheet's badge tones (green, amber, red), borrowed by meaning.
_TONES: dict[StrEnum, str] = {
    BatchStatus.RENDERING: "suspect",
    BatchStatus.RENDERED: "deliverable",
    BatchStatus.CANCELLED: "undeliverable",
    PieceStatus.HELD: "undeliverable",
    FileStatus.DONE: "deliverable",
}
def state_label(member: StrEnum) -> str:
    """Return a batch, piece or file state in the page's language."""
    return str(_STATES.get(member, member.value))


def state_tone(member: StrEnum) -> str:
    """Return the badge tone of a state."""
    return _TONES.get(member, "")


def left_out_label(reason: str) -> str:
    """Return why customers were left out of a batch, in the page's language."""
    label = LEFT_OUT_LABELS.get(reason)
    return say(label) if label is not None else reason.replace("_", " ")
