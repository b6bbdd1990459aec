"""Code 128 symbols as bars for SVG, from the same bar pattern the envelopes print.

The reason card draws each bar as one ``<rect>`` in module units; the page scales the whole
symbol, so the bars keep their proportions on screen and on paper.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailer.envelopes.codes import code128_pattern

# Code 128 asks for at least ten modules of white on each side.
QUIET_MODULES = 10


@dataclass(frozen=True, slots=True)
class Bars:
    """A Code 128 symbol as its dark bars: (x, width) in modules from the left edge, quiet zones included."""

    value: str
    width: int
    bars: tuple[tuple[int, int], ...]


def code128_bars(value: str, *, quiet: int = QUIET_MODULES) -> Bars:
    """Return the bars of ``value``'s Code 128 symbol, with ``quiet`` modules of white on each side."""
    bars: list[tuple[int, int]] = []
    position = quiet
    for element in code128_pattern(value):
        width = ord(element) & 31  # 'A' and 'a' are 1 module, 'D' and 'd' are 4
        if element < "a":
            bars.append((position, width))
        position += width
    return Bars(value=value, width=position + quiet, bars=tuple(bars))
