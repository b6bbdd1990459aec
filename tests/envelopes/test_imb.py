"""The Intelligent Mail barcode: the specification's examples, its fields, and the bars printed on a us-10 page."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from mailer.envelopes import PROFILES
from mailer.envelopes.imb import ImbError, ImbIds, bar_string, routing_code, split_digits
from mailer.envelopes.profiles import INCH, Box

from .helpers import RenderedFile, rasterize
from .imb_reader import UnreadableBarcode, bars_from_image, digits_from_bars

# USPS-B-3200 Appendix C: the four encoding examples of the specification (the Postal Service's own
# encoder runs them as its self-test), one tracking code with each length of routing code.
SPEC_TRACKING = "01234567094987654321"
SPEC_EXAMPLES = (
    ("", "ATTFATTDTTADTAATTDTDTATTDAFDDFADFDFTFFFFFTATFAAAATDFFTDAADFTFDTDT"),
    ("01234", "DTTAFADDTTFTDTFTFDTDDADADAFADFATDDFTAAAFDTTADFAAATDFDTDFADDDTDFFT"),
    ("012345678", "ADFTTAFDTTTTFATTADTAAATFTFTATDAAAFDDADATATDTDTTDFDTDATADADTDFFTFA"),
    ("01234567891", "AADTFFDFTDADTAADAATFDTDDAAADDTDTTDAFADADDDTFFFDDTTTADFAAADFTDAADA"),
)
DPI = 600


@pytest.mark.parametrize(("routing", "bars"), SPEC_EXAMPLES)
def test_encoder_gives_the_specification_examples(routing: str, bars: str) -> None:
    assert bar_string(SPEC_TRACKING, routing) == bars


@pytest.mark.parametrize(("routing", "bars"), SPEC_EXAMPLES)
def test_reader_reads_the_specification_examples(routing: str, bars: str) -> None:
    assert digits_from_bars(bars) == (SPEC_TRACKING, routing)


def test_reader_refuses_a_misread_bar() -> None:
    bars = SPEC_EXAMPLES[3][1]
    misread = bars[:10] + ("T" if bars[10] != "T" else "F") + bars[11:]
    with pytest.raises(UnreadableBarcode):
        digits_from_bars(misread)


def test_random_values_go_round() -> None:
    rng = random.Random(18)
    for _ in range(200):
        tracking = f"{rng.randrange(10)}{rng.randrange(5)}" + "".join(str(rng.randrange(10)) for _ in range(18))
        routing = "".join(str(rng.randrange(10)) for _ in range(rng.choice((0, 5, 9, 11))))
        assert digits_from_bars(bar_string(tracking, routing)) == (tracking, routing)


def test_ids_make_the_tracking_code() -> None:
    six = ImbIds(mailer_id="123456", service_type_id="270")
    assert six.tracking(42) == "00270123456000000042"
    assert six.serial_capacity == 10**9
    nine = ImbIds(mailer_id="901234567", service_type_id="082", barcode_id="04")
    assert nine.tracking(42) == "04082901234567000042"
    assert nine.serial_capacity == 10**6
    with pytest.raises(ImbError, match="does not fit"):
        nine.tracking(10**6)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"mailer_id": "12345", "service_type_id": "270"}, "Mailer ID"),
        ({"mailer_id": "912345", "service_type_id": "270"}, "Mailer ID"),  # six digits never begin with 9
        ({"mailer_id": "123456789", "service_type_id": "270"}, "Mailer ID"),  # nine digits always do
        ({"mailer_id": "123456", "service_type_id": "27"}, "service type"),
        ({"mailer_id": "123456", "service_type_id": "270", "barcode_id": "05"}, "barcode ID"),
    ],
)
def test_bad_ids_are_refused(fields: dict[str, str], problem: str) -> None:
    with pytest.raises(ImbError, match=problem):
        ImbIds(**fields)


def test_digits_split_into_fields() -> None:
    value = split_digits("00270123456000000042627041234")
    assert (value.barcode_id, value.service_type_id, value.mailer_id, value.serial, value.routing) == (
        "00", "270", "123456", 42, "627041234",
    )
    assert split_digits("0008290123456700004262704").mailer_id == "901234567"
    with pytest.raises(ImbError):
        split_digits("0027012345600000004262")  # a 2-digit routing code does not exist


def test_routing_code_is_the_delivery_zip() -> None:
    assert routing_code("62704") == "62704"
    assert routing_code("62704-1234") == "627041234"
    for bad in ("6270", "62704-12", "K1A 0B1"):
        with pytest.raises(ImbError):
            routing_code(bad)


def test_printed_bars_read_back_to_the_piece(rendered_us: RenderedFile) -> None:
    slot = PROFILES["us-10"].imb
    assert slot is not None
    area = slot.area
    scale = DPI / 72
    for index, piece in enumerate(rendered_us.pieces):
        image = rasterize(rendered_us.path, 2 * index + 1, DPI)
        box = (
            round(area.x * scale), round(image.height - area.top * scale),
            round(area.right * scale), round(image.height - area.y * scale),
        )
        bars = bars_from_image(image, left=box[0], top=box[1], right=box[2], bottom=box[3])
        assert piece.imb_digits is not None
        assert digits_from_bars(bars) == (piece.imb_digits[:20], piece.imb_digits[20:])


def test_imb_sits_in_the_address_block_clear_of_everything() -> None:
    profile = PROFILES["us-10"]
    slot = profile.imb
    assert slot is not None
    geometry = slot.geometry
    # USPS-B-3200 section 3 ranges: 20-24 bars per inch, widths 0.015-0.025 in, full bars
    # 0.125-0.165 in, trackers 0.039-0.057 in.
    assert INCH / 24 <= geometry.pitch <= INCH / 20
    assert 0.015 * INCH <= geometry.bar_width <= 0.025 * INCH
    assert 0.125 * INCH <= geometry.full_height <= 0.165 * INCH
    assert 0.039 * INCH <= geometry.tracker_height <= 0.057 * INCH
    area = slot.area
    # Inside the OCR read area (1/2 in from the sides, 5/8 in up to 2 3/4 in from the bottom).
    assert Box.inch(0.5, 0.625, 8.5, 2.75 - 0.625).contains(area)
    for zone in profile.clear_zones:
        assert not area.overlaps(zone)
    assert not area.overlaps(profile.recipient.box)
    assert not area.overlaps(profile.barcode.area)
    # Left-aligned with the delivery address it belongs to.
    assert slot.x == profile.recipient.box.x


def test_settings_take_both_ids_or_neither() -> None:
    from mailer.settings import Settings, SettingsError

    assert Settings.from_environment({}).imb_ids is None
    ids = Settings.from_environment({"USPS_MAILER_ID": "123456", "USPS_SERVICE_TYPE_ID": "270"}).imb_ids
    assert ids == ImbIds(mailer_id="123456", service_type_id="270", barcode_id="00")
    with pytest.raises(SettingsError, match="USPS_SERVICE_TYPE_ID is not set"):
        Settings.from_environment({"USPS_MAILER_ID": "123456"})
    with pytest.raises(SettingsError, match="Mailer ID"):
        Settings.from_environment({"USPS_MAILER_ID": "12345", "USPS_SERVICE_TYPE_ID": "270"})


def test_front_page_picture(rendered_us: RenderedFile) -> None:
    """Save the front of a us-10 piece with its IMb for the README when MAILER_SCREENSHOTS names a folder."""
    image = rasterize(rendered_us.path, 1, 150)
    assert image.size == (round(9.5 * 150), round(4.125 * 150))
    folder = os.environ.get("MAILER_SCREENSHOTS")
    if folder:
        image.save(Path(folder) / "us-10-imb.png", optimize=True)
