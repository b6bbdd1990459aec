"""Embedded TrueType fonts and the text operators drawn with them.

Every glyph on an envelope comes from a TrueType font shipped in ``fonts/`` and embedded
(subset) in the PDF, so a print shop needs no font of its own. No single free font covers
both scripts well, so text is set with a stack: DejaVu Sans for Latin, digits and
punctuation, Droid Sans Fallback for Chinese. A line is split into runs, one per font, and
each run is one ``Tj`` in the same text object, so the line flows without positioning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).with_name("fonts")

# (name registered with reportlab, file in FONT_DIR), in order of preference.
_STACK_FILES = (
    ("MailerSans", "DejaVuSans.ttf"),
    ("MailerSansCJK", "DroidSansFallbackFull.ttf"),
)


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text set in one font."""

    font: TTFont
    text: str


class FontStack:
    """Fonts tried in order for each character; the first that has a glyph sets it."""

    def __init__(self, fonts: tuple[TTFont, ...]) -> None:
        self.fonts = fonts
        self._coverage = tuple(frozenset(font.face.charToGlyph) for font in fonts)
        self._covered = frozenset().union(*self._coverage)
        # Splitting on the primary font's coverage with a regular expression keeps the
        # per-character work in C: most lines are one or a few runs.
        primary = "".join(_class_ranges(self._coverage[0]))
        self._primary_runs = re.compile(f"[{primary}]+|[^{primary}]+")

    @property
    def primary(self) -> TTFont:
        return self.fonts[0]

    def missing(self, text: str) -> str:
        """Return the characters of ``text`` that no font in the stack can draw."""
        if self._covered.issuperset(map(ord, text)):
            return ""
        return "".join(dict.fromkeys(char for char in text if ord(char) not in self._covered))

    def runs(self, text: str) -> list[Run]:
        """Split ``text`` into runs, each in the first font of the stack that has its glyphs."""
        primary, coverage = self.fonts[0], self._coverage
        runs: list[Run] = []
        for segment in self._primary_runs.findall(text):
            if ord(segment[0]) in coverage[0]:
                runs.append(Run(primary, segment))
            else:
                runs.extend(self._fallback_runs(segment))
        return runs

    def _fallback_runs(self, segment: str) -> list[Run]:
        # Characters the primary font lacks, set with the later fonts of the stack.
        for font, covered in zip(self.fonts[1:], self._coverage[1:], strict=True):
            if covered.issuperset(map(ord, segment)):
                return [Run(font, segment)]
        runs: list[Run] = []
        for char in segment:
            font = next(
                (
                    font
                    for font, covered in zip(self.fonts[1:], self._coverage[1:], strict=True)
                    if ord(char) in covered
                ),
                self.fonts[0],  # drawn as .notdef; the layout check reports it first
            )
            if runs and runs[-1].font is font:
                runs[-1] = Run(font, runs[-1].text + char)
            else:
                runs.append(Run(font, char))
        return runs

    def width(self, text: str, size: float = 1.0) -> float:
        """Return the advance width of ``text`` in points at ``size``."""
        return sum(run.font.stringWidth(run.text, size) for run in self.runs(text))

    def line_ops(self, doc: object, text: str, size: float) -> str:
        """Return the ``Tf``/``Tj`` operators showing ``text`` from the current text position."""
        parts = []
        for run in self.runs(text):
            font = run.font
            for subset, chunk in font.splitString(run.text, doc):
                parts.append(f"{font.getSubsetInternalName(subset, doc)} {size:g} Tf ({escapePDF(chunk)}) Tj")
        return " ".join(parts)

    def text_op(self, doc: object, text: str, x: float, y: float, size: float) -> str:
        """Return the operators drawing ``text`` with its baseline starting at (x, y)."""
        return f"BT {x:.2f} {y:.2f} Td {self.line_ops(doc, text, size)} ET"

    def lines_op(self, doc: object, lines: Sequence[str], x: float, y: float, size: float, pitch: float) -> str:
        """Return the operators drawing ``lines`` top-down, the first baseline at (x, y)."""
        step = f" 0 {-pitch:.2f} Td "
        body = step.join(self.line_ops(doc, line, size) for line in lines)
        return f"BT {x:.2f} {y:.2f} Td {body} ET"


def _class_ranges(codes: frozenset[int]) -> list[str]:
    """Return regular-expression character class ranges matching exactly ``codes``."""
    ranges: list[str] = []
    ordered = sorted(code for code in codes if code >= 0x20)
    index = 0
    while index < len(ordered):
        first = last = ordered[index]
        while index + 1 < len(ordered) and ordered[index + 1] == last + 1:
            index += 1
            last = ordered[index]
        ranges.append(re.escape(chr(first)) if first == last else f"{re.escape(chr(first))}-{re.escape(chr(last))}")
        index += 1
    return ranges


@cache
def font_stack() -> FontStack:
    """Load and register the shipped fonts once per process."""
    fonts = []
    for name, filename in _STACK_FILES:
        font = TTFont(name, str(FONT_DIR / filename))
        pdfmetrics.registerFont(font)
        fonts.append(font)
    return FontStack(tuple(fonts))
