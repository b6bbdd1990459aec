"""Envelope rendering: plain piece data in, print-ready PDF out (no Flask, no database)."""

from mailer.envelopes.layout import (
    LayoutError,
    LayoutProblem,
    check_layout,
    check_pieces,
    check_sender,
)
from mailer.envelopes.pieces import EnvelopePiece, Sender
from mailer.envelopes.profiles import PROFILES, EnvelopeProfile, reasons_for
from mailer.envelopes.render import MAX_PIECES_PER_FILE, render_envelopes

__all__ = [
    "MAX_PIECES_PER_FILE",
    "PROFILES",
    "EnvelopePiece",
    "EnvelopeProfile",
    "LayoutError",
    "LayoutProblem",
    "Sender",
    "check_layout",
    "check_pieces",
    "check_sender",
    "reasons_for",
    "render_envelopes",
]
