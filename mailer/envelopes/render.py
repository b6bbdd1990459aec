"""Render envelopes to a print-ready PDF: front and back of each piece on consecutive pages.

Speed comes from doing each piece of work once at the level it changes:
fonts are loaded once per process; everything identical on every envelope of a file
(boxes, captions, sender, return reasons, notice) is drawn once into a form XObject per
side; a page then holds only the form reference, the address text, and the piece's Code
128 and QR symbols, each emitted as one filled path.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from reportlab import rl_config
from reportlab.pdfbase.pdfdoc import PDFObject, PDFObjectReference, PDFResourceDictionary
from reportlab.pdfgen.canvas import Canvas

from mailer.envelopes.codes import bars_op, pattern_modules, qr_matrix, qr_op
from mailer.envelopes.fonts import FontStack, font_stack
from mailer.envelopes.imb import bar_string, imb_op
from mailer.envelopes.layout import (
    NOTICE_LEADING,
    PROOF_MARK,
    LayoutError,
    PiecePlan,
    check_sender,
    contact_line,
    fit_block,
    plan_piece,
    proof_mark_slot,
    reason_cell_width,
    wrap,
)
from mailer.envelopes.pieces import EnvelopePiece, Sender
from mailer.envelopes.profiles import AddressBlock, EnvelopeProfile, TextSlot

logger = logging.getLogger(__name__)

# reportlab keeps every page of a file in memory until it saves; batches are split into
# files of at most this many pieces (10,000 pages; bench/README.md gives the memory used).
MAX_PIECES_PER_FILE = 5000

_FRONT = "envelope-front"
_BACK = "envelope-back"


def render_envelopes(
    pieces: Sequence[EnvelopePiece],
    *,
    profile: EnvelopeProfile,
    sender: Sender,
    reasons: Sequence[tuple[str, str]],
    out: BinaryIO | str | Path,
    proof: bool = False,
) -> None:
    """Write one PDF with the front and back of every piece, or raise LayoutError and write nothing.

    A ``proof`` carries PROOF_MARK in red across the top margin of every page, outside the
    address, barcode and postal zones, so it is never taken for mail.

    ``reasons`` are the (code, label) pairs printed as tick boxes on the back, usually
    ``reasons_for(profile)``. A path is written under a temporary name and renamed once
    complete, so a reader never sees half a file. Files are rendered one at a time per
    process (the batch runs files in worker processes), as reportlab's stream settings are
    process-wide.
    """
    if not pieces:
        raise ValueError("no pieces to render")
    if len(pieces) > MAX_PIECES_PER_FILE:
        raise ValueError(f"{len(pieces)} pieces; render at most {MAX_PIECES_PER_FILE} per file")
    problems = check_sender(sender, reasons, profile)
    plans: list[PiecePlan] = []
    for piece in pieces:
        plan, piece_problems = plan_piece(piece, profile)
        problems += piece_problems
        if plan is not None:
            plans.append(plan)
    if problems:
        raise LayoutError(problems)

    if isinstance(out, (str, Path)):
        path = Path(out)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                _draw(plans, profile, sender, reasons, handle, proof=proof)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    else:
        _draw(plans, profile, sender, reasons, out, proof=proof)
    logger.info("rendered %d %s %s for %s", len(plans), profile.key, "proofs" if proof else "envelopes", sender.name)


@contextmanager
def _without_ascii85() -> Iterator[None]:
    # reportlab reads this switch only as a process-wide setting, at save time. Binary
    # (not ASCII85) streams are ~15% smaller and faster to write; the setting is put back
    # afterwards so other PDF code in the process is unaffected.
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


def _draw(
    plans: Sequence[PiecePlan],
    profile: EnvelopeProfile,
    sender: Sender,
    reasons: Sequence[tuple[str, str]],
    target: BinaryIO,
    *,
    proof: bool = False,
) -> None:
    fonts = font_stack()
    with _without_ascii85():
        # The initial font must be an embedded one: the default would add Helvetica to
        # the document, a font no printer is given.
        canvas = Canvas(
            target,
            pagesize=(profile.width, profile.height),
            invariant=1,
            initialFontName=fonts.primary.fontName,  # type: ignore[arg-type]  # the stubs say float; it is a name
        )
        canvas.setTitle(f"{'Proof envelopes' if proof else 'Envelopes'} {profile.key}")
        doc = canvas._doc  # type: ignore[attr-defined]  # splitString assigns glyphs to font subsets per document

        canvas.beginForm(_FRONT)
        _draw_front_layer(canvas, doc, fonts, profile, sender)
        canvas.endForm()
        canvas.beginForm(_BACK)
        _draw_back_layer(canvas, doc, fonts, profile, sender, reasons)
        canvas.endForm()

        front = _FrontWriter(doc, fonts, profile)
        back = _BackWriter(doc, fonts, profile)
        pages = _PageWriter(doc, profile)
        front_form = f"/{doc.getXObjectName(_FRONT)} Do\n"
        back_form = f"/{doc.getXObjectName(_BACK)} Do\n"
        mark = ""
        if proof:
            mark = f"\nq 0.85 0.1 0.1 rg {_text_in_slot(doc, fonts, PROOF_MARK, proof_mark_slot(profile))} Q"
        for plan in plans:
            pages.add(front_form + front.ops(plan) + mark)
            pages.add(back_form + back.ops(plan) + mark)
        canvas.save()


class _PageWriter:
    """Adds pages to the document whose streams are already written, all sharing one resource dictionary.

    The canvas's own showPage builds a resource dictionary, a media box and a stream object per
    page and formats them generically at save time, which was half the time of a file; an
    envelope page needs only its fonts and the two side forms, the same for every page.
    """

    def __init__(self, doc: object, profile: EnvelopeProfile) -> None:
        self.doc = doc
        resources = PDFResourceDictionary()
        resources.basicFonts()  # the document's font dictionary, filled at save
        resources.XObject = doc.xobjDict([_FRONT, _BACK])  # type: ignore[attr-defined]
        reference = doc.Reference(resources)  # type: ignore[attr-defined]
        self.resources = reference
        self.media_box = f"[0 0 {profile.width:.4f} {profile.height:.4f}]".encode()

    def add(self, operators: str) -> None:
        content = _PageContent(zlib.compress(operators.encode("utf-8")))
        self.doc.addPage(_Page(self.doc.Reference(content), self.resources, self.media_box))  # type: ignore[attr-defined]


class _PageContent(PDFObject):
    """A page's content stream, compressed once when the page is added."""

    __RefOnly__ = 1

    def __init__(self, compressed: bytes) -> None:
        self.compressed = compressed

    def format(self, document: object) -> bytes:
        return b"<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\n" % (
            len(self.compressed), self.compressed,
        )


class _Page(PDFObject):
    """A page dictionary written in one step: its stream, the shared resources and the page size."""

    __RefOnly__ = 1

    def __init__(self, contents: PDFObjectReference, resources: PDFObjectReference, media_box: bytes) -> None:
        self.contents = contents
        self.resources = resources
        self.media_box = media_box

    def format(self, document: object) -> bytes:
        parent = document.Reference(document.Pages)  # type: ignore[attr-defined]
        return b"<<\n/Contents %s /MediaBox %s /Parent %s /Resources %s /Type /Page\n>>" % (
            self.contents.format(document), self.media_box, parent.format(document),
            self.resources.format(document),
        )


def _aligned_x(fonts: FontStack, text: str, slot: TextSlot) -> float:
    if slot.align == "left":
        return slot.x
    width = fonts.width(text, slot.size)
    return slot.x - (width if slot.align == "right" else width / 2)


def _text_in_slot(doc: object, fonts: FontStack, text: str, slot: TextSlot) -> str:
    return fonts.text_op(doc, text, _aligned_x(fonts, text, slot), slot.y, slot.size)


def _block_op(doc: object, fonts: FontStack, lines: Sequence[str], block: AddressBlock, size: float) -> str:
    # The first baseline sits one font size below the top of the block.
    return fonts.lines_op(doc, lines, block.box.x, block.box.top - size, size, size * block.leading)


def _draw_front_layer(canvas: Canvas, doc: object, fonts: FontStack, profile: EnvelopeProfile, sender: Sender) -> None:
    if profile.postcode_boxes is not None:
        boxes = profile.postcode_boxes
        canvas.setStrokeColorRGB(*boxes.colour)
        canvas.setLineWidth(0.9)
        for box in boxes.boxes():
            canvas.rect(box.x, box.y, box.width, box.height)
        canvas.setStrokeColorRGB(0, 0, 0)
    if profile.stamp is not None:
        stamp = profile.stamp
        canvas.setLineWidth(0.5)
        canvas.setDash(2, 2)
        canvas.rect(stamp.box.x, stamp.box.y, stamp.box.width, stamp.box.height)
        canvas.setDash()
        label = TextSlot(
            stamp.box.x + stamp.box.width / 2,
            stamp.box.y + (stamp.box.height - stamp.label_size * 0.7) / 2,
            stamp.label_size,
            "centre",
        )
        canvas.addLiteral(_text_in_slot(doc, fonts, stamp.label, label))
    for caption in (*profile.captions, *((profile.endorsement,) if profile.endorsement else ())):
        canvas.addLiteral(_text_in_slot(doc, fonts, caption.text, caption.slot))
    size, _ = fit_block(sender.address_lines, profile.return_address, fonts)
    canvas.addLiteral(_block_op(doc, fonts, sender.address_lines, profile.return_address, size))
    if profile.sender_postcode is not None:
        text = profile.sender_postcode.text.format(postal_code=sender.postal_code)
        canvas.addLiteral(_text_in_slot(doc, fonts, text, profile.sender_postcode.slot))


def _draw_back_layer(
    canvas: Canvas,
    doc: object,
    fonts: FontStack,
    profile: EnvelopeProfile,
    sender: Sender,
    reasons: Sequence[tuple[str, str]],
) -> None:
    back = profile.back
    canvas.addLiteral(_text_in_slot(doc, fonts, contact_line(sender, profile), back.contact))
    canvas.addLiteral(_text_in_slot(doc, fonts, back.reasons_heading.text, back.reasons_heading.slot))

    column_width = back.reasons_box.width / back.reason_columns
    canvas.setLineWidth(0.7)
    for index, (code, label) in enumerate(reasons):
        row, column = divmod(index, back.reason_columns)
        x = back.reasons_box.x + column * column_width
        baseline = back.reasons_box.top - row * back.reason_row_height - back.reason_row_height * 0.7
        canvas.rect(x, baseline - back.reason_size * 0.12, back.tick_size, back.tick_size)
        label_x = x + back.tick_size * 1.6
        canvas.addLiteral(fonts.text_op(doc, label, label_x, baseline, back.reason_size))
        code_x = x + reason_cell_width(code, label, profile) - fonts.width(code, back.code_size)
        canvas.addLiteral(fonts.text_op(doc, code, code_x, baseline, back.code_size))

    lines = wrap(back.notice, back.notice_box.width, back.notice_size)
    pitch = back.notice_size * NOTICE_LEADING
    canvas.addLiteral(
        fonts.lines_op(doc, lines, back.notice_box.x, back.notice_box.top - back.notice_size, back.notice_size, pitch)
    )
    canvas.addLiteral(_text_in_slot(doc, fonts, back.qr_caption.text, back.qr_caption.slot))


class _FrontWriter:
    """Builds the per-piece operators of the front: postcode digits, address, barcode."""

    def __init__(self, doc: object, fonts: FontStack, profile: EnvelopeProfile) -> None:
        self.doc = doc
        self.fonts = fonts
        self.profile = profile
        boxes = profile.postcode_boxes
        if boxes is not None:
            # Digits share one advance width, so one offset centres any of them in a box.
            digit_width = fonts.width("0", boxes.digit_size)
            self._digits_at = (
                f"BT {boxes.x + (boxes.box_width - digit_width) / 2:.2f}"
                f" {boxes.y + (boxes.box_height - 0.73 * boxes.digit_size) / 2:.2f} Td"
            )
            self._digit_step = f" {boxes.pitch:.2f} 0 Td "
        # A digit's operators are the same on every envelope of a document (its glyph keeps its subset
        # and code once assigned): six postcode digits a piece are worked out once per file, not per piece.
        self._digit_ops: dict[str, str] = {}

    def _digit_op(self, digit: str, size: float) -> str:
        found = self._digit_ops.get(digit)
        if found is None:
            found = self._digit_ops[digit] = self.fonts.line_ops(self.doc, digit, size)
        return found

    def ops(self, plan: PiecePlan) -> str:
        piece, profile, fonts, doc = plan.piece, self.profile, self.fonts, self.doc
        parts = []
        boxes = profile.postcode_boxes
        if boxes is not None:
            digits = self._digit_step.join(self._digit_op(digit, boxes.digit_size) for digit in piece.postal_code)
            parts.append(f"{self._digits_at} {digits} ET")
        parts.append(_block_op(doc, fonts, piece.lines, profile.recipient, plan.address_size))
        slot = profile.barcode
        bars_x = slot.x + slot.quiet_modules * slot.module
        parts.append(bars_op(plan.bar_pattern, bars_x, slot.y, slot.module, slot.bar_height))
        centre = bars_x + pattern_modules(plan.bar_pattern) * slot.module / 2
        text = TextSlot(centre, slot.text_y, slot.text_size, "centre")
        parts.append(_text_in_slot(doc, fonts, piece.readable_code or piece.piece_code, text))
        parts.extend(_postal_ops(doc, fonts, profile, piece))
        return "\n".join(parts)


def keyline_text(piece_code: str) -> str:
    """Return the ACS keyline as printed: between # signs, a space after every fourth character (Pub. 8A)."""
    return "#" + " ".join(piece_code[i : i + 4] for i in range(0, len(piece_code), 4)) + "#"


def _postal_ops(doc: object, fonts: FontStack, profile: EnvelopeProfile, piece: EnvelopePiece) -> list[str]:
    # What a postal service's own address correction reads: the keyline it returns in its notices
    # and the Intelligent Mail barcode whose serial number identifies the piece.
    parts = []
    if profile.keyline is not None:
        parts.append(_text_in_slot(doc, fonts, keyline_text(piece.piece_code), profile.keyline))
    if profile.imb is not None and piece.imb_digits:
        slot = profile.imb
        bars = bar_string(piece.imb_digits[:20], piece.imb_digits[20:])
        parts.append(imb_op(bars, slot.x, slot.y, slot.geometry))
    return parts


class _BackWriter:
    """Builds the per-piece operators of the back: the QR code and the short URL."""

    def __init__(self, doc: object, fonts: FontStack, profile: EnvelopeProfile) -> None:
        self.doc = doc
        self.fonts = fonts
        self.profile = profile

    def ops(self, plan: PiecePlan) -> str:
        qr = self.profile.back.qr
        dark = qr_matrix(plan.piece.update_url)
        module = qr.box.width / (dark.shape[1] + 2 * qr.quiet_modules)
        inset = qr.quiet_modules * module
        return "\n".join(
            (
                qr_op(dark, qr.box.x + inset, qr.box.top - inset, module),
                _text_in_slot(self.doc, self.fonts, plan.piece.short_url, self.profile.back.short_url),
            )
        )
