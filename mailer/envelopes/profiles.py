"""Envelope profiles: page size and layout of each envelope we print, as data.

Coordinates are PDF points (1/72 inch) from the lower left corner of the page, the
front as the recipient sees it, the back as the postman turns it over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from mailer.envelopes.imb import ImbGeometry
from returns.catalog import REASONS

MM = 72 / 25.4
INCH = 72.0

Align = Literal["left", "centre", "right"]


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle on the page."""

    x: float
    y: float
    width: float
    height: float

    @classmethod
    def mm(cls, x: float, y: float, width: float, height: float) -> Box:
        return cls(x * MM, y * MM, width * MM, height * MM)

    @classmethod
    def inch(cls, x: float, y: float, width: float, height: float) -> Box:
        return cls(x * INCH, y * INCH, width * INCH, height * INCH)

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def top(self) -> float:
        return self.y + self.height

    def overlaps(self, other: Box) -> bool:
        """Tell whether the two rectangles share any area."""
        return self.x < other.right and other.x < self.right and self.y < other.top and other.y < self.top

    def contains(self, other: Box) -> bool:
        return self.x <= other.x and other.right <= self.right and self.y <= other.y and other.top <= self.top


@dataclass(frozen=True, slots=True)
class TextSlot:
    """Where one line of text goes: its baseline point, size and alignment."""

    x: float
    y: float
    size: float
    align: Align = "left"
    max_width: float | None = None


@dataclass(frozen=True, slots=True)
class Caption:
    """Fixed text printed on every envelope of a profile."""

    text: str
    slot: TextSlot


@dataclass(frozen=True, slots=True)
class AddressBlock:
    """A block of address lines set top-down, shrunk to fit down to ``min_font_size``."""

    box: Box
    max_lines: int
    font_size: float
    min_font_size: float
    leading: float = 1.25  # line pitch as a multiple of the font size


@dataclass(frozen=True, slots=True)
class PostcodeBoxes:
    """The row of boxes the recipient's postcode is written into, one digit a box."""

    x: float
    y: float
    box_width: float
    box_height: float
    pitch: float
    count: int
    digit_size: float
    colour: tuple[float, float, float]

    def boxes(self) -> tuple[Box, ...]:
        return tuple(Box(self.x + i * self.pitch, self.y, self.box_width, self.box_height) for i in range(self.count))

    @property
    def area(self) -> Box:
        return Box(self.x, self.y, (self.count - 1) * self.pitch + self.box_width, self.box_height)


@dataclass(frozen=True, slots=True)
class StampBox:
    """The dashed box where the stamp or postage imprint goes."""

    box: Box
    label: str
    label_size: float


@dataclass(frozen=True, slots=True)
class BarcodeSlot:
    """The Code 128 piece barcode: bars from (x, y) up, the code centred under them."""

    x: float
    y: float
    bar_height: float
    module: float  # narrowest bar, the X dimension
    max_width: float  # bars and both quiet zones
    text_y: float  # baseline of the human-readable code
    text_size: float
    quiet_modules: int = 10

    @property
    def area(self) -> Box:
        bottom = self.text_y - 0.3 * self.text_size
        return Box(self.x, bottom, self.max_width, self.y + self.bar_height - bottom)


@dataclass(frozen=True, slots=True)
class ImbSlot:
    """The Intelligent Mail barcode: the first bar's left edge at ``x``, the tracker centred on ``y``."""

    x: float
    y: float
    geometry: ImbGeometry

    @property
    def area(self) -> Box:
        """Return the bars with their clear zone: nothing else may be printed there."""
        g = self.geometry
        return Box(
            self.x - g.clear_horizontal,
            self.y - g.full_height / 2 - g.clear_vertical,
            g.length + 2 * g.clear_horizontal,
            g.full_height + 2 * g.clear_vertical,
        )


@dataclass(frozen=True, slots=True)
class QrSlot:
    """A square for the QR code, its quiet zone included."""

    box: Box
    min_module: float
    quiet_modules: int = 4


@dataclass(frozen=True, slots=True)
class BackLayout:
    """The back: return-reason tick boxes, contact line, address-update notice and QR."""

    contact: TextSlot
    website_label: str
    hotline_label: str
    reasons_heading: Caption
    reasons_box: Box
    reason_columns: int
    reason_row_height: float
    reason_size: float
    code_size: float
    tick_size: float
    notice: str
    notice_box: Box
    notice_size: float
    qr: QrSlot
    qr_caption: Caption
    short_url: TextSlot


@dataclass(frozen=True, slots=True)
class Postage:
    """What mailing one envelope of a profile costs, for the estimate before a batch is created."""

    per_piece: Decimal  # in the currency's main unit, e.g. 1.20
    currency: str  # ISO 4217 code
    basis: str  # which tariff the rate is, so the estimate can be checked and updated

    def total(self, pieces: int) -> Decimal:
        """Return the postage of ``pieces`` envelopes."""
        return self.per_piece * pieces


@dataclass(frozen=True, slots=True)
class EnvelopeProfile:
    """Everything that differs between two kinds of envelope."""

    key: str
    title: str
    country: str  # ISO 3166-1 alpha-2 code of the country whose post delivers it
    language: Literal["zh", "en"]  # which reason labels the back prints
    width: float
    height: float
    recipient: AddressBlock
    return_address: AddressBlock
    barcode: BarcodeSlot
    back: BackLayout
    reason_codes: tuple[str, ...]
    postage: Postage
    captions: tuple[Caption, ...] = ()
    postcode_boxes: PostcodeBoxes | None = None
    postcode_pattern: str | None = None  # regular expression the recipient postcode must match
    sender_postcode: Caption | None = None  # its text is a format with {postal_code}
    stamp: StampBox | None = None
    clear_zones: tuple[Box, ...] = ()  # left blank for the postal service's own printing
    # The ancillary service endorsement printed under the return address (USPS: DMM 507.1.5).
    endorsement: Caption | None = None
    # The piece code as the ACS keyline, printed between # signs above the delivery address.
    keyline: TextSlot | None = None
    imb: ImbSlot | None = None

    @property
    def page(self) -> Box:
        return Box(0, 0, self.width, self.height)


def _mm_slot(x: float, y: float, size: float, align: Align = "left", max_width: float | None = None) -> TextSlot:
    return TextSlot(x * MM, y * MM, size, align, None if max_width is None else max_width * MM)


def _in_slot(x: float, y: float, size: float, align: Align = "left", max_width: float | None = None) -> TextSlot:
    return TextSlot(x * INCH, y * INCH, size, align, None if max_width is None else max_width * INCH)


# DL 220 x 110 mm after GB/T 1416: postcode boxes top left, stamp top right, the
# sender's postcode lower right, and the band 55-160 mm from the right edge and 20 mm up
# from the bottom kept clear for the post office's sorting barcode.
CN_DL = EnvelopeProfile(
    key="cn-dl",
    title="DL 220×110 mm (GB/T 1416), China Post",
    country="CN",
    language="zh",
    width=220 * MM,
    height=110 * MM,
    postcode_boxes=PostcodeBoxes(
        x=20 * MM,
        y=90 * MM,
        box_width=8 * MM,
        box_height=10 * MM,
        pitch=10 * MM,
        count=6,
        digit_size=16,
        colour=(0.85, 0.15, 0.1),
    ),
    postcode_pattern=r"[0-9]{6}",
    stamp=StampBox(box=Box.mm(186, 76, 24, 24), label="贴邮票处", label_size=8),
    recipient=AddressBlock(box=Box.mm(20, 45, 160, 39), max_lines=6, font_size=13, min_font_size=9, leading=1.3),
    captions=(Caption("重要函件请送至收件人，无法送达请退回邮递员！", _mm_slot(110, 36, 12, "centre")),),
    return_address=AddressBlock(box=Box.mm(115, 21.5, 95, 11), max_lines=3, font_size=8, min_font_size=7, leading=1.3),
    sender_postcode=Caption("邮政编码：{postal_code}", _mm_slot(210, 10, 10, "right")),
    barcode=BarcodeSlot(
        x=8 * MM,
        y=8.5 * MM,
        bar_height=9 * MM,
        module=0.25 * MM,
        max_width=50 * MM,
        text_y=4.5 * MM,
        text_size=7,
    ),
    clear_zones=(Box.mm(60, 0, 105, 20),),
    back=BackLayout(
        contact=_mm_slot(15, 90, 10),
        website_label="网址：",
        hotline_label="订购热线：",
        reasons_heading=Caption("如无法投递，请在退回原因前的方框内打“✓”：", _mm_slot(15, 79, 9)),
        reasons_box=Box.mm(15, 49, 135, 27),
        reason_columns=3,
        reason_row_height=9 * MM,
        reason_size=9,
        code_size=7,
        tick_size=3.5 * MM,
        notice="为保证您按时收到免费目录，请您在地址有变更时通知我们。扫描右侧二维码或访问以下网址，即可更新您的地址：",
        notice_box=Box.mm(15, 27, 135, 15),
        notice_size=11,
        qr=QrSlot(box=Box.mm(160, 38, 38, 38), min_module=0.4 * MM),
        qr_caption=Caption("扫码更新地址", _mm_slot(179, 79, 10, "centre")),
        short_url=_mm_slot(15, 20, 11, max_width=135),
    ),
    reason_codes=("ANK", "IA", "NSN", "MLNA", "REF", "UNC", "DEC", "ORG", "OTH"),
    postage=Postage(Decimal("1.20"), "CNY", "China Post domestic letter up to 20 g, out of town"),
)

# Intelligent Mail barcode dimensions at their nominal values (USPS-B-3200 section 3): 22 bars
# per inch, bars 0.020 in wide, full bars 0.145 in and the tracker 0.048 in high, a clear zone of
# 0.125 in either side and 0.028 in above and below.
IMB_NOMINAL = ImbGeometry(
    pitch=INCH / 22,
    bar_width=0.020 * INCH,
    full_height=0.145 * INCH,
    tracker_height=0.048 * INCH,
    clear_horizontal=0.125 * INCH,
    clear_vertical=0.028 * INCH,
)

# #10 business envelope, 9.5 x 4.125 in: return address top left with the ancillary
# service endorsement under it, the delivery address in the OCR read area with the ACS
# keyline above it and the Intelligent Mail barcode below its last line (DMM 202.5: in the
# address block, inside the OCR read area, clear of the barcode clear zone), and the
# USPS barcode clear zone (bottom 5/8 in, right 4.75 in) left blank.
US_10 = EnvelopeProfile(
    key="us-10",
    title="#10, 9.5×4.125 in, USPS",
    country="US",
    language="en",
    width=9.5 * INCH,
    height=4.125 * INCH,
    return_address=AddressBlock(
        box=Box.inch(0.375, 2.95, 3.5, 0.8), max_lines=5, font_size=9, min_font_size=7, leading=1.2
    ),
    endorsement=Caption("ADDRESS SERVICE REQUESTED", _in_slot(0.375, 2.7, 9)),
    keyline=_in_slot(3.75, 2.42, 8),
    imb=ImbSlot(x=3.75 * INCH, y=0.8 * INCH, geometry=IMB_NOMINAL),
    stamp=StampBox(box=Box.inch(8.25, 2.9, 0.875, 0.975), label="POSTAGE", label_size=7),
    recipient=AddressBlock(box=Box.inch(3.75, 1.0, 5.0, 1.35), max_lines=6, font_size=11, min_font_size=8, leading=1.2),
    barcode=BarcodeSlot(
        x=0.3 * INCH,
        y=0.3 * INCH,
        bar_height=0.3 * INCH,
        module=0.01 * INCH,
        max_width=2.6 * INCH,
        text_y=0.17 * INCH,
        text_size=7,
    ),
    clear_zones=(Box.inch(4.75, 0, 4.75, 0.625),),
    back=BackLayout(
        contact=_in_slot(0.5, 3.5, 10),
        website_label="",
        hotline_label="Orders and service: ",
        reasons_heading=Caption("Carrier: if undeliverable, please check the reason.", _in_slot(0.5, 3.1, 9)),
        reasons_box=Box.inch(0.5, 1.85, 6.3, 1.1),
        reason_columns=3,
        reason_row_height=0.36 * INCH,
        reason_size=8.5,
        code_size=7,
        tick_size=0.14 * INCH,
        notice=(
            "To keep receiving your free catalog, tell us when you move. Scan the code on "
            "the right or visit this address to update yours:"
        ),
        notice_box=Box.inch(0.5, 0.9, 6.3, 0.55),
        notice_size=11,
        qr=QrSlot(box=Box.inch(7.1, 1.25, 1.5, 1.5), min_module=0.016 * INCH),
        qr_caption=Caption("Moved? Update your address", _in_slot(7.85, 2.9, 9, "centre")),
        short_url=_in_slot(0.5, 0.7, 11, max_width=6.3),
    ),
    reason_codes=("ANK", "IA", "NSN", "VAC", "MLNA", "REF", "UNC", "DEC", "TA"),
    postage=Postage(Decimal("0.78"), "USD", "USPS First-Class Mail letter up to 1 oz, stamped (July 2025)"),
)

PROFILES: Mapping[str, EnvelopeProfile] = MappingProxyType({profile.key: profile for profile in (CN_DL, US_10)})


def reasons_for(profile: EnvelopeProfile) -> tuple[tuple[str, str], ...]:
    """Return the (code, label) pairs the back of ``profile`` prints, from the reason catalog."""
    return tuple(
        (code, REASONS[code].label_zh if profile.language == "zh" else REASONS[code].label_en)
        for code in profile.reason_codes
    )
