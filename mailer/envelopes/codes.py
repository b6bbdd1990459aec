"""Code 128 and QR symbols as single filled PDF paths.

Drawing every bar or module through reportlab's widgets costs a graphics call each; one
``re`` per bar (or per horizontal run of QR modules) in module units, scaled once with
``cm``, is a few hundred bytes of content stream and renders identically.
"""

from __future__ import annotations

import numpy as np
import zxingcpp
from reportlab.graphics.barcode.code128 import Code128

# Byte-mode capacity of QR versions 1-20 at error correction level M (ISO/IEC 18004, table 7).
_QR_BYTES_M = (14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666)


def code128_pattern(value: str) -> str:
    """Return the Code 128 bar/space pattern of ``value``: 'A'-'D' bars, 'a'-'d' spaces, in modules.

    ``value`` must be printable ASCII; the layout check refuses anything else, because
    reportlab's encoder drops characters it cannot encode.
    """
    symbol = Code128(value, quiet=0)
    # types-reportlab leaves these methods unannotated.
    symbol.validate()  # type: ignore[no-untyped-call]
    symbol.encode()  # type: ignore[no-untyped-call]
    pattern: str = symbol.decompose()  # type: ignore[no-untyped-call]
    return pattern


# Each element's width in modules: 'A' and 'a' are 1 module, 'D' and 'd' are 4.
_ELEMENT_WIDTHS = tuple((element, ord(element) & 31) for element in "ABCDabcd")


def pattern_modules(pattern: str) -> int:
    """Return the width of a bar/space pattern in modules."""
    # Eight counts in C instead of a Python step per element: every piece's barcode is measured.
    return sum(pattern.count(element) * width for element, width in _ELEMENT_WIDTHS)


def bars_op(pattern: str, x: float, y: float, module: float, height: float) -> str:
    """Return the operators filling the bars of ``pattern`` from (x, y) rightwards and up."""
    parts = [f"q {module:.4f} 0 0 {height:.3f} {x:.3f} {y:.3f} cm"]
    position = 0
    for element in pattern:
        width = ord(element) & 31  # 'A' and 'a' are 1 module, 'D' and 'd' are 4
        if element < "a":
            parts.append(f"{position} 0 {width} 1 re")
        position += width
    parts.append("f Q")
    return "\n".join(parts)


def qr_version_for(data: str, max_version: int) -> int | None:
    """Return the smallest QR version (level M) that surely holds ``data``, or None if none up to ``max_version`` does.

    Byte mode is the densest mode an encoder can be forced into, so its capacity is a
    safe upper bound whichever mode the encoder picks.
    """
    size = len(data.encode("utf-8"))
    for version, capacity in enumerate(_QR_BYTES_M[:max_version], start=1):
        if size <= capacity:
            return version
    return None


def qr_version_modules(version: int) -> int:
    """Return the side of a QR symbol of ``version`` in modules."""
    return 17 + 4 * version


def qr_matrix(data: str) -> np.ndarray:
    """Encode ``data`` as a QR code at error correction level M; True marks a dark module."""
    symbol = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    return np.asarray(symbol.to_image(scale=1, add_quiet_zones=False)) < 128


def qr_op(dark: np.ndarray, x: float, top: float, module: float) -> str:
    """Return the operators filling the dark modules, the symbol's top left corner at (x, top)."""
    side = dark.shape[1]
    padded = np.zeros((dark.shape[0], side + 2), dtype=bool)
    padded[:, 1:-1] = dark
    flat = padded.ravel()
    # Every row starts and ends light, so changes come in (start, end) pairs within a row.
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts, ends = changes[0::2], changes[1::2]
    rows, columns = np.divmod(starts, side + 2)
    runs = np.stack((columns - 1, rows, ends - starts), axis=1)
    # One %-format over the whole template keeps the formatting of hundreds of runs in C.
    body = ("%d %d %d 1 re\n" * len(runs)) % tuple(runs.ravel().tolist())
    return f"q {module:.4f} 0 0 {-module:.4f} {x:.3f} {top:.3f} cm\n{body}f Q"
