"""The Intelligent Mail barcode (USPS-B-3200): its fields, its 65 bars, and the PDF path that prints them.

The tracking code is 20 digits: barcode ID (2, the second 0-4), service type ID (3), Mailer ID
(6 or 9; nine-digit Mailer IDs begin with 9) and serial number (9 or 6, so the two make 15). The
routing code is the delivery ZIP Code: none, 5, 9 (ZIP+4) or 11 digits (with the delivery point).
reportlab's ``USPS_4State`` does the encoding (binary, CRC-11, codewords, characters, bars).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from reportlab.graphics.barcode.usps4s import USPS_4State

BAR_COUNT: Final = 65
ROUTING_LENGTHS: Final = (0, 5, 9, 11)
_DIGITS = re.compile(r"[0-9]+")
_ZIP = re.compile(r"([0-9]{5})(?:-([0-9]{4}))?")


class ImbError(ValueError):
    """The fields cannot make an Intelligent Mail barcode; the message names the field."""


@dataclass(frozen=True, slots=True)
class ImbIds:
    """What the Postal Service assigns the mailer: the same on every piece."""

    mailer_id: str  # 6 digits, or 9 beginning with 9
    service_type_id: str  # 3 digits: the class and the ACS option asked for
    barcode_id: str = "00"  # 2 digits, the second 0-4; 00 when no presort level is given

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9]{2}", self.barcode_id) or self.barcode_id[1] > "4":
            raise ImbError(f"barcode ID {self.barcode_id!r} must be 2 digits, the second 0 to 4")
        if not re.fullmatch(r"[0-9]{3}", self.service_type_id):
            raise ImbError(f"service type ID {self.service_type_id!r} must be 3 digits")
        if not (re.fullmatch(r"[0-8][0-9]{5}", self.mailer_id) or re.fullmatch(r"9[0-9]{8}", self.mailer_id)):
            raise ImbError(f"Mailer ID {self.mailer_id!r} must be 6 digits, or 9 digits beginning with 9")

    @property
    def serial_digits(self) -> int:
        """Return how many digits the serial number has: 9 with a six-digit Mailer ID, 6 with a nine-digit one."""
        return 15 - len(self.mailer_id)

    @property
    def serial_capacity(self) -> int:
        """Return how many distinct serial numbers the Mailer ID has."""
        return int(10**self.serial_digits)

    def tracking(self, serial: int) -> str:
        """Return the 20-digit tracking code of the piece with ``serial``."""
        if not 0 <= serial < self.serial_capacity:
            raise ImbError(f"serial number {serial} does not fit in {self.serial_digits} digits")
        return f"{self.barcode_id}{self.service_type_id}{self.mailer_id}{serial:0{self.serial_digits}d}"


@dataclass(frozen=True, slots=True)
class ImbValue:
    """The digits one barcode encodes, split into their fields."""

    barcode_id: str
    service_type_id: str
    mailer_id: str
    serial: int
    routing: str

    @property
    def tracking(self) -> str:
        return ImbIds(self.mailer_id, self.service_type_id, self.barcode_id).tracking(self.serial)

    @property
    def digits(self) -> str:
        """Return tracking and routing code as one string of 20 to 31 digits."""
        return self.tracking + self.routing


def routing_code(postal_code: str) -> str:
    """Return the routing code for a US ZIP Code as printed (12345 or 12345-6789): its 5 or 9 digits."""
    found = _ZIP.fullmatch(postal_code.strip())
    if found is None:
        raise ImbError(f"ZIP Code {postal_code!r} gives no routing code: it must be 12345 or 12345-6789")
    return found[1] + (found[2] or "")


def split_digits(digits: str) -> ImbValue:
    """Split 20 to 31 digits (tracking code, then routing code) into their fields; raise ImbError."""
    if not _DIGITS.fullmatch(digits) or len(digits) - 20 not in ROUTING_LENGTHS:
        raise ImbError(f"{digits!r} is not an Intelligent Mail barcode: 20 digits, then 0, 5, 9 or 11")
    mailer_length = 9 if digits[5] == "9" else 6
    ids = ImbIds(mailer_id=digits[5 : 5 + mailer_length], service_type_id=digits[2:5], barcode_id=digits[:2])
    return ImbValue(
        barcode_id=ids.barcode_id, service_type_id=ids.service_type_id, mailer_id=ids.mailer_id,
        serial=int(digits[5 + mailer_length : 20]), routing=digits[20:],
    )


def bar_string(tracking: str, routing: str) -> str:
    """Return the 65 bars as letters: F full, A ascender, D descender, T tracker only."""
    if len(tracking) != 20 or not tracking.isdigit() or tracking[1] > "4":
        raise ImbError(f"tracking code {tracking!r} must be 20 digits, the second 0 to 4")
    if len(routing) not in ROUTING_LENGTHS or (routing and not routing.isdigit()):
        raise ImbError(f"routing code {routing!r} must be 0, 5, 9 or 11 digits")
    symbol = USPS_4State(tracking, routing) if routing else USPS_4State(tracking)
    bars: str = symbol.barcodes
    return bars


@dataclass(frozen=True, slots=True)
class ImbGeometry:
    """How big the bars are printed, in points (USPS-B-3200 section 3: dimensions and clear zone)."""

    pitch: float  # from one bar's left edge to the next: 20 to 24 bars per inch
    bar_width: float  # 0.015 to 0.025 in
    full_height: float  # a full bar, 0.125 to 0.165 in
    tracker_height: float  # the tracker, 0.039 to 0.057 in
    clear_horizontal: float  # left blank left and right of the bars: 0.125 in
    clear_vertical: float  # left blank above and below: 0.028 in

    @property
    def length(self) -> float:
        """Return the width from the left edge of the first bar to the right edge of the last."""
        return (BAR_COUNT - 1) * self.pitch + self.bar_width


def imb_op(bars: str, x: float, y: float, geometry: ImbGeometry) -> str:
    """Return the operators filling the bars, the first bar's left edge at ``x``, the tracker centred on ``y``.

    Ascenders reach from the tracker's bottom to the top of a full bar, descenders from its top to
    the bottom of one: every bar is one rectangle, all filled as one path.
    """
    half_full, half_tracker = geometry.full_height / 2, geometry.tracker_height / 2
    extents = {
        "F": (-half_full, half_full),
        "A": (-half_tracker, half_full),
        "D": (-half_full, half_tracker),
        "T": (-half_tracker, half_tracker),
    }
    parts = []
    for index, bar in enumerate(bars):
        bottom, top = extents[bar]
        left = x + index * geometry.pitch
        parts.append(f"{left:.3f} {y + bottom:.3f} {geometry.bar_width:.3f} {top - bottom:.3f} re")
    return "\n".join(parts) + "\nf"
