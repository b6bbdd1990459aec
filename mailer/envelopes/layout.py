"""The layout check: refuse what would not mail rather than print it cut or overlapping.

``check_layout`` looks at one piece without rendering it, so a whole batch can be checked
before anything is printed; the renderer runs the same planning and refuses to draw a
file holding any piece with a problem.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from mailer.envelopes.codes import (
    code128_pattern,
    pattern_modules,
    qr_version_for,
)
from mailer.envelopes.fonts import FontStack, font_stack
from mailer.envelopes.pieces import EnvelopePiece, Sender
from mailer.envelopes.profiles import MM, AddressBlock, Box, EnvelopeProfile, TextSlot
from mailer.messages import Message

_SIZE_STEP = 0.25  # address sizes are chosen on a quarter-point grid
NOTICE_LEADING = 1.35

# A line may break after any Chinese character but not before closing punctuation, and
# between Latin words only at spaces.
_CLOSING = "\u3001\u3002\uff01\uff0c\uff1a\uff1b\uff1f\u300d\u300f\u300b\uff09\u201d"  # 、。！，：；？」』》）”
_BREAKABLE = re.compile(rf"[\u2e80-\uffff][{_CLOSING}]*|[^\s\u2e80-\uffff]+\s*|\s+")


@dataclass(frozen=True, slots=True)
class LayoutProblem:
    """Why a piece (or the sender's side of a file) cannot be printed as given."""

    piece_code: str | None  # None: the problem is in the sender or the reasons, not a piece
    field: str
    text: str  # the offending line or value, as given
    message: str

    @property
    def where(self) -> Message:
        """Name what the problem is in: the piece, or the sender's side."""
        return Message("piece %(code)s", code=self.piece_code) if self.piece_code is not None else Message("sender")

    @property
    def summary(self) -> Message:
        """Return the field and what is wrong with it, without the text (it may be a customer's address)."""
        return Message("%(field)s: %(problem)s", field=self.field, problem=self.message)

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}: {self.text!r}"


class LayoutError(ValueError):
    """Raised instead of rendering a file that holds pieces with layout problems."""

    def __init__(self, problems: Sequence[LayoutProblem]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(problem) for problem in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{len(self.problems)} layout problem(s): {shown}{more}")


@dataclass(frozen=True, slots=True)
class PiecePlan:
    """What the renderer needs beyond the piece itself, worked out by the check."""

    piece: EnvelopePiece
    address_size: float
    bar_pattern: str


def _block_height(count: int, block: AddressBlock) -> float:
    # In units of the font size: the first line's ascent, the line pitch down to the last
    # baseline, and the last line's descent.
    return 1.0 + (count - 1) * block.leading + 0.25


def fit_block(lines: Sequence[str], block: AddressBlock, fonts: FontStack) -> tuple[float, list[tuple[str, str, str]]]:
    """Return the largest font size at which ``lines`` fit ``block``, and what does not fit.

    Problems come as (field, line, message); the size is meaningful only without them.
    """
    problems: list[tuple[str, str, str]] = []
    if not lines:
        return block.font_size, [("address", "", Message("no address lines"))]
    if len(lines) > block.max_lines:
        problems.append(
            (
                _line(block.max_lines + 1),
                lines[block.max_lines],
                Message("%(count)s lines, the block holds at most %(most)s", count=len(lines), most=block.max_lines),
            )
        )
    unit_widths = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            problems.append((_line(number), line, Message("blank line")))
        missing = fonts.missing(line)
        if missing:
            problems.append((_line(number), line, _no_glyph(missing)))
        if right_to_left := _right_to_left(line):
            problems.append((_line(number), line, right_to_left))
        unit_widths.append(fonts.width(line, 1.0))
    size = min(block.font_size, block.box.height / _block_height(len(lines), block))
    widest = max(unit_widths)
    if widest > 0:
        size = min(size, block.box.width / widest)
    size = math.floor(size / _SIZE_STEP + 1e-9) * _SIZE_STEP
    if size < block.min_font_size:
        for number, (line, unit_width) in enumerate(zip(lines, unit_widths, strict=True), start=1):
            width = unit_width * block.min_font_size
            if width > block.box.width:
                problems.append(
                    (
                        _line(number),
                        line,
                        Message(
                            "%(width).1f mm wide at %(size)g pt, the block is %(space).1f mm",
                            width=width / MM, size=block.min_font_size, space=block.box.width / MM,
                        ),
                    )
                )
        if _block_height(len(lines), block) * block.min_font_size > block.box.height and len(lines) <= block.max_lines:
            problems.append(
                (
                    _line(len(lines)),
                    lines[-1],
                    Message(
                        "%(count)s lines do not fit %(height).1f mm at %(size)g pt",
                        count=len(lines), height=block.box.height / MM, size=block.min_font_size,
                    ),
                )
            )
    return size, problems


def _check_text(
    fonts: FontStack, field: str, text: str, size: float, max_width: float | None
) -> list[tuple[str, str, str]]:
    problems: list[tuple[str, str, str]] = []
    if not text.strip():
        problems.append((field, text, Message("empty")))
    missing = fonts.missing(text)
    if missing:
        problems.append((field, text, _no_glyph(missing)))
    if max_width is not None:
        width = fonts.width(text, size)
        if width > max_width:
            problems.append(
                (
                    field,
                    text,
                    Message(
                        "%(width).1f mm wide at %(size)g pt, the space is %(space).1f mm",
                        width=width / MM, size=size, space=max_width / MM,
                    ),
                )
            )
    return problems


def plan_piece(piece: EnvelopePiece, profile: EnvelopeProfile) -> tuple[PiecePlan | None, list[LayoutProblem]]:
    """Work out how ``piece`` is set on ``profile``; no plan when there is any problem."""
    fonts = font_stack()
    found: list[tuple[str, str, str]] = []

    size, block_problems = fit_block(piece.lines, profile.recipient, fonts)
    found += block_problems

    if profile.postcode_pattern is not None and not re.fullmatch(profile.postcode_pattern, piece.postal_code):
        found.append(("postal_code", piece.postal_code, _no_match(profile.postcode_pattern, piece.postal_code)))

    pattern = ""
    code = piece.piece_code
    if not code or any(not (" " <= char <= "~") for char in code):
        found.append(("piece_code", code, Message("must be non-empty printable ASCII for Code 128")))
    else:
        slot = profile.barcode
        pattern = code128_pattern(code)
        width = (pattern_modules(pattern) + 2 * slot.quiet_modules) * slot.module
        if width > slot.max_width:
            found.append(
                (
                    "piece_code",
                    code,
                    Message(
                        "Code 128 is %(width).1f mm with quiet zones, the space is %(space).1f mm",
                        width=width / MM, space=slot.max_width / MM,
                    ),
                )
            )

    qr = profile.back.qr
    if not piece.update_url or not piece.update_url.isascii() or not piece.update_url.isprintable():
        found.append(("update_url", piece.update_url, Message("must be non-empty printable ASCII")))
    else:
        side = int(qr.box.width / qr.min_module) - 2 * qr.quiet_modules
        max_version = max(0, (side - 17) // 4)
        if qr_version_for(piece.update_url, max_version) is None:
            found.append(
                (
                    "update_url",
                    piece.update_url,
                    Message(
                        "too long for a QR code with modules of at least %(module).2f mm", module=qr.min_module / MM
                    ),
                )
            )
    found += _check_text(
        fonts, "short_url", piece.short_url, profile.back.short_url.size, profile.back.short_url.max_width
    )

    problems = [LayoutProblem(piece.piece_code, field, text, message) for field, text, message in found]
    if problems:
        return None, problems
    return PiecePlan(piece, size, pattern), []


# Printed across the top margin of both sides of every proof envelope, so a proof cannot pass for mail.
PROOF_MARK = "PROOF · NOT FOR MAILING · 校样 · 请勿投递"
_PROOF_MARK_SIZE = 9.0
_PROOF_MARK_BASELINE = 5 * MM  # below the top edge: above the postcode boxes, stamp and return address


def proof_mark_slot(profile: EnvelopeProfile) -> TextSlot:
    """Return where the proof mark is set: centred in the top margin of the page."""
    return TextSlot(profile.width / 2, profile.height - _PROOF_MARK_BASELINE, _PROOF_MARK_SIZE, "centre")


def proof_mark_area(profile: EnvelopeProfile) -> Box:
    """Return the rectangle the proof mark's ink may cover (ascent and descent included)."""
    slot = proof_mark_slot(profile)
    width = font_stack().width(PROOF_MARK, slot.size)
    return Box(slot.x - width / 2, slot.y - 0.3 * slot.size, width, 1.3 * slot.size)


def check_layout(piece: EnvelopePiece, profile: EnvelopeProfile) -> list[LayoutProblem]:
    """List what keeps ``piece`` from printing on ``profile``; empty means it fits."""
    return plan_piece(piece, profile)[1]


def check_pieces(pieces: Sequence[EnvelopePiece], profile: EnvelopeProfile) -> list[LayoutProblem]:
    """List the layout problems of every piece in a batch, in order."""
    return [problem for piece in pieces for problem in check_layout(piece, profile)]


def reason_cell_width(code: str, label: str, profile: EnvelopeProfile) -> float:
    """Return the width a tick box, its label and its code take on the back."""
    back = profile.back
    fonts = font_stack()
    return (
        back.tick_size * 1.6
        + fonts.width(label, back.reason_size)
        + back.reason_size * 0.6
        + fonts.width(code, back.code_size)
    )


def check_sender(sender: Sender, reasons: Sequence[tuple[str, str]], profile: EnvelopeProfile) -> list[LayoutProblem]:
    """List what keeps the parts shared by every envelope of a file (sender, reasons) from printing."""
    fonts = font_stack()
    found: list[tuple[str, str, str]] = []
    _, block_problems = fit_block(sender.address_lines, profile.return_address, fonts)
    found += [(Message("sender %(field)s", field=field), line, message) for field, line, message in block_problems]

    if (
        profile.sender_postcode is not None
        and profile.postcode_pattern is not None
        and not re.fullmatch(profile.postcode_pattern, sender.postal_code)
    ):
        found.append(
            (Message("sender %(field)s", field="postal_code"), sender.postal_code,
             _no_match(profile.postcode_pattern, sender.postal_code))
        )

    back = profile.back
    contact = contact_line(sender, profile)
    found += _check_text(fonts, "website and hotline", contact, back.contact.size, profile.width - 2 * back.contact.x)

    notice_lines = wrap(back.notice, back.notice_box.width, back.notice_size)
    if len(notice_lines) * back.notice_size * NOTICE_LEADING > back.notice_box.height:
        found.append(("notice", back.notice, Message("%(count)s lines do not fit its box", count=len(notice_lines))))
    for line in notice_lines:
        found += _check_text(fonts, "notice", line, back.notice_size, back.notice_box.width)

    rows = int(back.reasons_box.height / back.reason_row_height + 1e-6)
    if len(reasons) > rows * back.reason_columns:
        found.append(
            ("reasons", str(len(reasons)), Message("at most %(count)s fit the back", count=rows * back.reason_columns))
        )
    if not reasons:
        found.append(("reasons", "", Message("no return reasons for the back")))
    column_width = back.reasons_box.width / back.reason_columns
    for code, label in reasons:
        field = Message("reason %(code)s", code=code)
        found += _check_text(fonts, field, label, back.reason_size, None)
        if reason_cell_width(code, label, profile) > column_width:
            found.append((field, label, Message("does not fit a column of %(width).1f mm", width=column_width / MM)))
    return [LayoutProblem(None, field, text, message) for field, text, message in found]


def wrap(text: str, width: float, size: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` at ``size`` where the script allows."""
    fonts = font_stack()
    lines: list[str] = []
    current = ""
    for token in _BREAKABLE.findall(text):
        candidate = current + token
        if current and fonts.width(candidate.rstrip(), size) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = candidate
    if current.strip():
        lines.append(current.rstrip())
    return lines


def contact_line(sender: Sender, profile: EnvelopeProfile) -> str:
    """Return the website and hotline line printed on the back."""
    back = profile.back
    return f"{back.website_label}{sender.website}    {back.hotline_label}{sender.hotline}"


def _line(number: int) -> Message:
    return Message("line %(number)s", number=number)


def _no_glyph(missing: str) -> Message:
    return Message("no glyph for %(chars)s in the embedded fonts", chars=repr(missing))


def _no_match(pattern: str, value: str) -> Message:
    if not value:
        # A Hong Kong address, say, on an envelope whose postal code box must be filled.
        return Message("missing: this envelope prints a postal code matching %(pattern)s", pattern=pattern)
    return Message("does not match %(pattern)s", pattern=pattern)


# The blocks of right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko and their presentation forms):
# one regular expression, as every line of every piece is checked.
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]")


def _right_to_left(line: str) -> Message | None:
    # The lines are set left to right, glyph by glyph: Hebrew or Arabic would print reversed and unjoined.
    if not _RIGHT_TO_LEFT.search(line):
        return None
    letters = "".join(dict.fromkeys(char for char in line if unicodedata.bidirectional(char) in ("R", "AL")))
    if not letters:  # only marks of those scripts, which take no direction of their own
        return None
    return Message(
        "%(chars)s is written right to left, which the envelopes cannot print yet", chars=repr(letters[:5])
    )
