"""Rendered envelopes, checked as a print shop and a postal scanner would see them."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from reportlab import rl_config

from mailer.envelopes import (
    PROFILES,
    LayoutError,
    Sender,
    check_layout,
    reasons_for,
    render_envelopes,
)
from mailer.envelopes import render as render_module
from mailer.envelopes.profiles import Box

from .helpers import PIECE_FACTORIES, SENDERS, RenderedFile, cn_piece, rasterize, require_tool, us_piece

DPI = 300


def _pixels(image: Image.Image, box: Box, dpi: int = DPI) -> np.ndarray:
    """Return the pixels of ``box`` (PDF points, origin bottom left) in ``image``."""
    scale = dpi / 72
    height = image.height
    crop = image.crop(
        (
            round(box.x * scale),
            round(height - box.top * scale),
            round(box.right * scale),
            round(height - box.y * scale),
        )
    )
    return np.asarray(crop)


def test_two_pages_per_piece_at_the_profile_size(rendered: RenderedFile) -> None:
    reader = PdfReader(rendered.path)
    assert len(reader.pages) == 2 * len(rendered.pieces)
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(rendered.profile.width, abs=0.01)
        assert float(page.mediabox.height) == pytest.approx(rendered.profile.height, abs=0.01)


def test_page_sizes_are_the_envelope_sizes() -> None:
    assert (PROFILES["cn-dl"].width, PROFILES["cn-dl"].height) == pytest.approx((623.62, 311.81), abs=0.01)
    assert (PROFILES["us-10"].width, PROFILES["us-10"].height) == (684.0, 297.0)


def test_every_font_is_embedded(rendered: RenderedFile) -> None:
    output = subprocess.run(
        [require_tool("pdffonts"), str(rendered.path)], check=True, capture_output=True, text=True
    ).stdout
    rows = output.splitlines()[2:]
    assert rows, output
    for row in rows:
        # name, type, encoding, then emb/sub/uni as yes/no
        emb, _sub, uni = row.split()[-5:-2]
        assert (emb, uni) == ("yes", "yes"), row
    names = {row.split()[0].split("+")[-1] for row in rows}
    assert "DejaVuSans" in names
    assert not any(name.startswith(("Helvetica", "Times", "Courier", "STSong")) for name in names)
    if rendered.profile.key == "cn-dl":
        assert "DroidSansFallback" in names


def test_chinese_text_extracts_as_text(rendered_cn: RenderedFile) -> None:
    reader = PdfReader(rendered_cn.path)
    front, back = reader.pages[0].extract_text(), reader.pages[1].extract_text()
    assert "重要函件请送至收件人" in front
    assert "无法送达请退回邮递员" in front
    assert "上海市浦东新区世纪大道1号" in front
    assert "邮政编码" in front and "100022" in front
    for label in (
        "原址查无此人",
        "地址不详",
        "查无此地址",
        "迁移新址不明",
        "拒收",
        "逾期无人领取",
        "收件人死亡",
        "单位撤销",
        "其他",
    ):
        assert label in back
    for code in ("ANK", "IA", "NSN", "MLNA", "REF", "UNC", "DEC", "ORG", "OTH"):
        assert code in back
    assert "为保证您按时收到免费目录" in back
    assert "www.example.cn" in back and "400-810-1234" in back
    assert "mailer.example.cn/u/C7K3M901-Q4ZP7N2KWT" in back


def test_us_text(rendered_us: RenderedFile) -> None:
    reader = PdfReader(rendered_us.path)
    front, back = reader.pages[0].extract_text(), reader.pages[1].extract_text()
    assert "ADDRESS SERVICE REQUESTED" in front
    assert "#U7K3 M901#" in front  # the ACS keyline
    assert "SPRINGFIELD IL 62704-1234" in front
    assert "Northwind Books" in front
    for label, code in reasons_for(rendered_us.profile):
        assert label in back and code in back
    assert "Attempted – not known" in back
    assert "tell us when you move" in back
    assert "mailer.example.com/u/U7K3M901-Q4ZP7N2KWT" in back


def test_front_barcode_scans_to_the_piece_code(rendered: RenderedFile) -> None:
    for index, piece in enumerate(rendered.pieces):
        image = rasterize(rendered.path, 2 * index + 1, DPI)
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)
        assert [barcode.text for barcode in found] == [piece.piece_code]


def test_back_qr_scans_to_the_update_url(rendered: RenderedFile) -> None:
    for index, piece in enumerate(rendered.pieces):
        image = rasterize(rendered.path, 2 * index + 2, DPI)
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        assert [barcode.text for barcode in found] == [piece.update_url]


def test_clear_zones_stay_blank(rendered: RenderedFile) -> None:
    image = rasterize(rendered.path, 1, DPI)
    for zone in rendered.profile.clear_zones:
        assert _pixels(image, zone).min() >= 250, f"ink in the clear zone {zone}"
    # The piece barcode sits just left of the zone; seeing it proves the crop looks at the right place.
    assert _pixels(image, rendered.profile.barcode.area).min() < 50


def test_us_clear_zone_is_the_usps_one() -> None:
    (zone,) = PROFILES["us-10"].clear_zones
    assert zone == Box.inch(9.5 - 4.75, 0, 4.75, 0.625)


def test_postcode_digits_sit_inside_their_boxes(rendered_cn: RenderedFile) -> None:
    boxes = rendered_cn.profile.postcode_boxes
    assert boxes is not None
    image = rasterize(rendered_cn.path, 1, DPI)
    for box in boxes.boxes():
        inner = Box(box.x + 2, box.y + 2, box.width - 4, box.height - 4)
        assert _pixels(image, inner).min() < 80, f"no digit in {box}"
    gap = Box(boxes.x + boxes.box_width + 1, boxes.y, boxes.pitch - boxes.box_width - 2, boxes.box_height)
    assert _pixels(image, gap).min() >= 250


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_address_ink_stays_inside_its_block(key: str, tmp_path: Path) -> None:
    """Only the block may change between a full address and a one-line one."""
    profile = PROFILES[key]
    block = profile.recipient
    factory = PIECE_FACTORIES[key]
    widest = "W" * 60 if key == "us-10" else "湖" * 40
    full = factory(1, lines=tuple(widest[: 30 + line] for line in range(block.max_lines)))
    short = factory(1, lines=("A",))
    assert check_layout(full, profile) == []
    images = []
    for piece in (full, short):
        path = tmp_path / f"{len(images)}.pdf"
        render_envelopes([piece], profile=profile, sender=SENDERS[key], reasons=reasons_for(profile), out=path)
        images.append(np.asarray(rasterize(path, 1, 100), dtype=int))
    rows, columns = np.nonzero(np.abs(images[0] - images[1]) > 32)
    assert rows.size > 0
    scale, height = 100 / 72, images[0].shape[0]
    assert columns.min() >= block.box.x * scale - 1
    assert columns.max() <= block.box.right * scale + 1
    assert rows.min() >= height - block.box.top * scale - 1
    assert rows.max() <= height - block.box.y * scale + 1


def test_same_input_gives_the_same_bytes() -> None:
    profile = PROFILES["us-10"]
    outputs = []
    for _ in range(2):
        buffer = io.BytesIO()
        render_envelopes(
            [us_piece(7)], profile=profile, sender=SENDERS["us-10"], reasons=reasons_for(profile), out=buffer
        )
        outputs.append(buffer.getvalue())
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith(b"%PDF-")


def test_a85_setting_is_restored() -> None:
    before = rl_config.useA85
    profile = PROFILES["cn-dl"]
    render_envelopes(
        [cn_piece()], profile=profile, sender=SENDERS["cn-dl"], reasons=reasons_for(profile), out=io.BytesIO()
    )
    assert rl_config.useA85 == before


def test_layout_problem_writes_nothing(tmp_path: Path) -> None:
    profile = PROFILES["cn-dl"]
    target = tmp_path / "batch.pdf"
    too_wide = "广东省广州市天河区天河北路" * 6
    pieces = [cn_piece(1), cn_piece(2, lines=("李娜 收", too_wide))]
    with pytest.raises(LayoutError) as raised:
        render_envelopes(pieces, profile=profile, sender=SENDERS["cn-dl"], reasons=reasons_for(profile), out=target)
    assert "C7K3M902" in str(raised.value)
    assert too_wide in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_failure_while_drawing_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = PROFILES["us-10"]
    target = tmp_path / "batch.pdf"

    def broken(*args: object, **options: object) -> None:
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(render_module, "_draw", broken)
    with pytest.raises(RuntimeError):
        render_envelopes(
            [us_piece()], profile=profile, sender=SENDERS["us-10"], reasons=reasons_for(profile), out=target
        )
    assert list(tmp_path.iterdir()) == []


def test_path_output_is_complete_and_alone(tmp_path: Path) -> None:
    profile = PROFILES["us-10"]
    target = tmp_path / "batch.pdf"
    render_envelopes(
        [us_piece()], profile=profile, sender=SENDERS["us-10"], reasons=reasons_for(profile), out=str(target)
    )
    assert list(tmp_path.iterdir()) == [target]
    assert target.read_bytes().rstrip().endswith(b"%%EOF")


def test_sender_problem_is_reported_as_sender() -> None:
    profile = PROFILES["cn-dl"]
    sender = Sender("书友会", ("北京市朝阳区",), "1000", "www.example.cn", "400-810-1234")
    with pytest.raises(LayoutError) as raised:
        render_envelopes([cn_piece()], profile=profile, sender=sender, reasons=reasons_for(profile), out=io.BytesIO())
    (problem,) = raised.value.problems
    assert problem.piece_code is None and problem.field == "sender postal_code"


def test_no_pieces_is_refused() -> None:
    profile = PROFILES["us-10"]
    with pytest.raises(ValueError, match="no pieces"):
        render_envelopes([], profile=profile, sender=SENDERS["us-10"], reasons=reasons_for(profile), out=io.BytesIO())


def test_file_size_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    profile = PROFILES["us-10"]
    monkeypatch.setattr(render_module, "MAX_PIECES_PER_FILE", 2)
    with pytest.raises(ValueError, match="at most 2"):
        render_envelopes(
            [us_piece(n) for n in range(3)],
            profile=profile,
            sender=SENDERS["us-10"],
            reasons=reasons_for(profile),
            out=io.BytesIO(),
        )
