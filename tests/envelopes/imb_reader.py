"""Reading an Intelligent Mail barcode back: bars from a page image, digits from bars (USPS-B-3200 backwards).

The envelope renderer only encodes; these readers exist so the tests can check what was printed
independently of the encoder's own output.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from reportlab.graphics.barcode.usps4s import USPS_4State, _crc11, _initNof13Table

# Each 13-bit character is a codeword of the 5-of-13 table (0-1286) or the 2-of-13 table (1287-1364),
# inverted where its bit of the frame check sequence is set.
_TABLE_5 = _initNof13Table(5, 1287)
_TABLE_2 = _initNof13Table(2, 78)
_CODEWORD_OF = {character: index for index, character in enumerate(_TABLE_5)} | {
    character: 1287 + index for index, character in enumerate(_TABLE_2)
}


class UnreadableBarcode(ValueError):
    """The bars are not an Intelligent Mail barcode."""


def digits_from_bars(bars: str) -> tuple[str, str]:
    """Return (tracking, routing) encoded by 65 bars given as F/A/D/T letters; raise UnreadableBarcode."""
    if len(bars) != 65 or set(bars) - set("FADT"):
        raise UnreadableBarcode(f"{bars!r} is not 65 bars of F, A, D and T")
    characters = [0] * 10
    # Bar-to-character table (USPS-B-3200 Table 22): the descender of bar n is bit db of character
    # dc, its ascender bit ab of character ac.
    for bar, (dc, db, ac, ab) in zip(bars, USPS_4State.table4, strict=True):
        if bar in "FD":
            characters[dc] |= 1 << db
        if bar in "FA":
            characters[ac] |= 1 << ab
    codewords, fcs = [], 0
    for index, character in enumerate(characters):
        if character in _CODEWORD_OF:
            codewords.append(_CODEWORD_OF[character])
        elif (~character & 0x1FFF) in _CODEWORD_OF:
            codewords.append(_CODEWORD_OF[~character & 0x1FFF])
            fcs |= 1 << index
        else:
            raise UnreadableBarcode(f"character {index} ({character:#x}) is in neither table")
    first, last = codewords[0], codewords[9]
    if first > 658:
        first -= 659
        fcs |= 1 << 10
    if last % 2:
        raise UnreadableBarcode("the last codeword is odd: the bars are upside down or misread")
    value = first
    for codeword in codewords[1:9]:
        value = value * 1365 + codeword
    value = value * 636 + last // 2
    if _crc11(value) != fcs:
        raise UnreadableBarcode("the frame check sequence does not match")
    serial_digits = []
    for _ in range(18):
        value, digit = divmod(value, 10)
        serial_digits.append(str(digit))
    value, second = divmod(value, 5)
    value, first_digit = divmod(value, 10)
    tracking = f"{first_digit}{second}" + "".join(reversed(serial_digits))
    if value == 0:
        routing = ""
    elif value <= 100_000:
        routing = f"{value - 1:05d}"
    elif value <= 1_000_100_000:
        routing = f"{value - 100_001:09d}"
    else:
        routing = f"{value - 1_000_100_001:011d}"
    return tracking, routing


def bars_from_image(image: Image.Image, *, left: int, top: int, right: int, bottom: int) -> str:
    """Measure the bars inside a box of a greyscale page image and return them as F/A/D/T letters.

    Each bar is a run of dark columns; its ink's top and bottom, against the tracker band shared
    by all bars (the rows every bar inks), say whether it ascends, descends, both or neither.
    """
    pixels = np.asarray(image.crop((left, top, right, bottom))) < 128
    inked_columns = pixels.any(axis=0)
    edges = np.flatnonzero(np.diff(np.concatenate(([False], inked_columns, [False])).astype(np.int8)))
    runs = list(zip(edges[0::2], edges[1::2], strict=True))
    if len(runs) != 65:
        raise UnreadableBarcode(f"found {len(runs)} bars, not 65")
    extents = []
    for start, end in runs:
        rows = np.flatnonzero(pixels[:, start:end].any(axis=1))
        extents.append((int(rows[0]), int(rows[-1])))
    tracker_top = max(top_row for top_row, _ in extents)
    tracker_bottom = min(bottom_row for _, bottom_row in extents)
    # A bar reaches out of the tracker band when its ink goes beyond it by more than a third of the band.
    margin = max(2, (tracker_bottom - tracker_top) // 3)
    letters = []
    for top_row, bottom_row in extents:
        ascends = top_row < tracker_top - margin
        descends = bottom_row > tracker_bottom + margin
        letters.append("F" if ascends and descends else "A" if ascends else "D" if descends else "T")
    return "".join(letters)
