"""What the renderer is given: plain values, nothing from the database."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EnvelopePiece:
    """One envelope to print."""

    piece_code: str  # printed as Code 128 and text; scanning it finds the piece again
    lines: tuple[str, ...]  # the address block exactly as printed, name first
    postal_code: str  # the recipient's; fills the postcode boxes where a profile has them
    update_url: str  # the signed address-update link the QR code carries
    short_url: str  # the same link, short enough to type, printed under the QR code
    # The code as people read it under the barcode (e.g. grouped with a hyphen); None prints the code as encoded.
    readable_code: str | None = None
    # The Intelligent Mail barcode's tracking and routing digits (20 to 31), where the profile prints one.
    imb_digits: str | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """The mailer: return address, postcode, website and hotline.

    The colour (``#rrggbb``) and the privacy notice are not printed: the customers' address-update
    page shows them, so that it is recognisably the sender's. An empty notice shows the standard one.
    """

    name: str
    lines: tuple[str, ...]
    postal_code: str
    website: str
    hotline: str
    colour: str = ""
    privacy_notice: str = ""

    @property
    def address_lines(self) -> tuple[str, ...]:
        return (self.name, *self.lines)
